"""Table columns every app shares (django-tables2), and the order a list's rows take."""

from typing import cast

import django_tables2 as tables
from django.db import models
from django.db.models import F
from django.db.models import QuerySet
from django.db.models import expressions
from django_tables2.data import TableQuerysetData
from django_tables2.utils import Accessor
from django_tables2.utils import OrderBy

from core.money import format_amount
from core.money import format_number
from core.money import to_cents
from core.ordering import natural
from core.ordering import person_name as person_name_sql
from core.translations import person_name
from core.translations import translated

NUMBER = {"td": {"class": "num"}, "th": {"class": "num"}}


def sort_key(path: str, descending: bool) -> expressions.OrderBy:
    """A column's field as it is, the way a column without a ``sort_key`` sorts."""
    return F(path).desc() if descending else F(path).asc()


class ListData(TableQuerysetData):
    """A list's rows ordered in the database as its columns say, each column its own way: by
    its ``sort_key(path, descending)`` (names in natural order, people by name, custom
    fields by value), else by its fields as they are; then by primary key, so that pages
    never share or skip a row. (django-tables2's ``Column.order`` lets one column sort its
    way only by dropping the others' order.)"""

    def order_by(self, aliases):
        keys = []
        for alias in aliases:
            bound_column = self.table.columns[OrderBy(alias).bare]
            if alias[0] != bound_column.order_by_alias[0]:
                accessors = bound_column.order_by.opposite
            else:
                accessors = bound_column.order_by
            key_of = getattr(bound_column.column, "sort_key", sort_key)
            keys += [key_of(a.bare.for_queryset(), a.is_descending) for a in accessors]
        if keys:
            queryset = cast(QuerySet, self.data)  # type: ignore[has-type]
            # The tie-break runs the way the last key does: an index on (name, id) then gives
            # a page either way round.
            self.data = queryset.order_by(*keys, "-pk" if keys[-1].descending else "pk")


class NumberColumn(tables.Column):
    """A count or a measure as the pages write numbers (core.money.format_number: 1,234.5,
    not 1234.5000), right-aligned; exported as the number itself."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return format_number(value)

    def value(self, value):
        return value


class NameColumn(tables.Column):
    """A name (or a related record's, by ``order_by``) sorted in natural order: "service 2"
    before "service 10" (core.ordering)."""

    @staticmethod
    def sort_key(path: str, descending: bool) -> expressions.OrderBy:
        key = natural(path)
        return key.desc() if descending else key.asc()


class MoneyColumn(tables.Column):
    """An amount shown to the cent by core.money's one rule; exported as the same cents, a
    number, so a list and its CSV or XLSX agree."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMBER)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return format_amount(value)

    def value(self, value):
        return to_cents(value)


class PersonColumn(tables.Column):
    """A user field (``field_name``) shown by name (the full name, else the username), "—"
    for nobody, and sorted by name; headed by the field's name unless told otherwise."""

    def __init__(self, field_name: str, **kwargs):
        kwargs.setdefault("verbose_name", field_name.replace("_", " ").split("__")[-1].capitalize())
        kwargs.setdefault("default", "—")
        kwargs.setdefault("order_by", (field_name,))
        super().__init__(accessor=field_name, **kwargs)

    @staticmethod
    def sort_key(path: str, descending: bool) -> expressions.OrderBy:
        key = natural(person_name_sql(path))
        return key.desc() if descending else key.asc()

    def render(self, value):
        return person_name(value)

    def value(self, value):
        return person_name(value)


def translated_cell(value, record, accessor: str):
    """The cell of ``accessor`` (``name``, ``service__name``, or a record such as
    ``service``) in the reader's language, from the row already loaded: no query."""
    if isinstance(value, models.Model):
        return translated(value, "name")
    path, _, field = str(accessor).rpartition("__")
    owner = Accessor(path).resolve(record, quiet=True) if path else record
    if owner is None or not hasattr(owner, "translations"):
        return value
    return translated(owner, field)


class TranslatedColumn(NameColumn):
    """A translatable name (core.translations) shown and exported in the reader's language,
    else the original; sorted by the original, the text the database holds, in natural
    order."""

    def render(self, value, record, bound_column):
        return translated_cell(value, record, bound_column.accessor)
