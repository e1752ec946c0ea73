"""Queries every request asks, compiled once per process: building and compiling a queryset
with subqueries (a user's rights, a list's annotations) costs several times what PostgreSQL
takes to answer it.

A query is a function (with hashable arguments) returning a ``values_list`` queryset that
filters on ``PARAMETER``; its SQL is compiled the first time and run afterwards with a value in
place of ``PARAMETER``. The rows come as the queryset would give them, each field's
conversion from the database applied.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db import models

# Stands for the value in a compiled query's SQL.
PARAMETER = "portico-compiled-parameter"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    converters: list  # (position, (converters, expression)) as Django's compiler gives them


_compiled: dict[tuple, _Compiled] = {}


def _compile(query: Callable[..., models.QuerySet], args: tuple) -> _Compiled:
    found = _compiled.get((query, args))
    if found is not None:
        return found
    queryset = query(*args)
    compiler = queryset.query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    if PARAMETER not in params:
        raise ValueError(f"{query.__qualname__} does not filter on compiled.PARAMETER")
    # The SQL selects a values_list's columns in the order it names them, as Django's
    # ValuesListIterable reads them.
    selected = [column[0] for column in compiler.select[: compiler.col_count]]
    compiled = _Compiled(
        sql=sql, params=tuple(params), converters=list(compiler.get_converters(selected).items())
    )
    _compiled[(query, args)] = compiled
    return compiled


def rows(query: Callable[..., models.QuerySet], value: Any, *args: Any) -> list[tuple]:
    """The rows of ``query(*args)`` with ``value`` for PARAMETER."""
    compiled = _compile(query, args)
    with connection.cursor() as cursor:
        cursor.execute(
            compiled.sql, [value if param == PARAMETER else param for param in compiled.params]
        )
        fetched = cursor.fetchall()
    if compiled.converters:
        converted = []
        for row in fetched:
            values = list(row)
            for position, (converters, expression) in compiled.converters:
                for convert in converters:
                    values[position] = convert(values[position], expression, connection)
            converted.append(values)
        fetched = converted
    return [tuple(row) for row in fetched]


def first_row(query: Callable[..., models.QuerySet], value: Any, *args: Any) -> tuple | None:
    """The first row of ``query(*args)`` with ``value`` for PARAMETER (None: no row)."""
    found = rows(query, value, *args)
    return found[0] if found else None


def columns(model: type[models.Model]) -> list[str]:
    """The columns ``loaded`` expects of ``model``, in order."""
    return [field.attname for field in model._meta.concrete_fields]


def loaded(model: type[models.Model], values) -> Any:
    """The record of ``model`` whose ``columns`` hold ``values``, as loaded from the database."""
    return model.from_db(connection.alias, columns(model), values)
