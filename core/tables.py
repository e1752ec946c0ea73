"""Table columns every app shares (django-tables2)."""

import django_tables2 as tables
from django.db import models
from django_tables2.utils import Accessor

from core.forms import person_name
from core.money import format_amount
from core.money import to_cents
from core.translations import translated

NUMBER = {"td": {"class": "num"}, "th": {"class": "num"}}


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
        kwargs.setdefault(
            "order_by",
            tuple(f"{field_name}__{part}" for part in ("first_name", "last_name", "username")),
        )
        super().__init__(accessor=field_name, **kwargs)

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


class TranslatedColumn(tables.Column):
    """A translatable name (core.translations) shown and exported in the reader's language,
    else the original; sorted by the original, the text the database holds."""

    def render(self, value, record, bound_column):
        return translated_cell(value, record, bound_column.accessor)
