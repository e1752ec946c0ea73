"""Queries every request asks, compiled once per process: building and compiling a queryset
with subqueries (a user's rights) costs several times what PostgreSQL takes to answer it.

A query is a function returning a ``values_list`` queryset filtered on ``PARAMETER``; its SQL
is compiled the first time and run with the value in place of ``PARAMETER`` afterwards. The
values come as PostgreSQL's driver gives them (no field's ``from_db_value``): for the columns
of plain fields (text, numbers, booleans, instants, arrays of text), as the models load them.
"""

import functools
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db import models

# Stands for the value in a compiled query's SQL.
PARAMETER = "portico-compiled-parameter"


@functools.cache
def _compiled(query: Callable[[], models.QuerySet]) -> tuple[str, tuple]:
    sql, params = query().query.sql_with_params()
    if PARAMETER not in params:
        raise ValueError(f"{query.__qualname__} does not filter on compiled.PARAMETER")
    return sql, tuple(params)


def first_row(query: Callable[[], models.QuerySet], value: Any) -> tuple | None:
    """The first row of ``query()`` with ``value`` for PARAMETER (None: no row)."""
    sql, params = _compiled(query)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value if param == PARAMETER else param for param in params])
        return cursor.fetchone()


def columns(model: type[models.Model]) -> list[str]:
    """The columns ``loaded`` expects of ``model``, in order."""
    return [field.attname for field in model._meta.concrete_fields]


def loaded(model: type[models.Model], values: Sequence) -> Any:
    """The record of ``model`` whose ``columns`` hold ``values``, as loaded from the database."""
    return model.from_db(connection.alias, columns(model), values)
