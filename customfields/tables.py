"""The list columns of custom fields, and the table of the Custom fields page."""

from typing import Any

import django_tables2 as tables
from django.db import models
from django.db.models.expressions import OrderBy
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from core.tables import NameColumn
from core.tables import NumberColumn
from customfields import services
from customfields import values
from customfields.choices import FieldType
from customfields.models import CustomField

PREFIX = "cf_"


class CustomFieldColumn(tables.Column):
    """One custom field's values: shown as the detail page shows them, exported as numbers
    and dates where they are such (core.exports neutralises the text), sorted by value."""

    def __init__(self, definition: CustomField, **kwargs):
        self.definition = definition
        super().__init__(
            accessor=f"{services.FIELD}",
            verbose_name=definition.label,
            default="—",
            empty_values=(),
            **kwargs,
        )

    def render(self, value):
        return values.shown(self.definition, (value or {}).get(self.definition.name))

    def sort_key(self, path: str, descending: bool) -> OrderBy:
        """By value (core.tables.ListData): numbers and dates as such (stored as text, they
        would sort as text), records without a value last."""
        kind = self.definition.type
        read: Any = KeyTextTransform(self.definition.name, services.FIELD)
        if kind in values.NUMERIC:
            read = Cast(read, models.DecimalField(max_digits=40, decimal_places=6))
        elif kind == FieldType.DATE:
            read = Cast(read, models.DateField())
        return read.desc(nulls_last=True) if descending else read.asc(nulls_last=True)

    def value(self, value):
        return values.export_value(self.definition, (value or {}).get(self.definition.name))


class CustomFieldColumnsMixin(tables.Table):
    """Adds a column per custom field of the table's model that is shown in the list, after
    the table's own (one query for the definitions)."""

    def __init__(self, *args, **kwargs):
        model = self._meta.model
        self.custom_definitions = [d for d in services.definitions(model) if d.show_in_list]
        extra = list(kwargs.pop("extra_columns", None) or [])
        extra += [(PREFIX + d.name, CustomFieldColumn(d)) for d in self.custom_definitions]
        super().__init__(*args, extra_columns=extra, **kwargs)


class CustomFieldTable(tables.Table):
    label = NameColumn(linkify=True)
    name = tables.Column(verbose_name="Name (key)")
    model = tables.Column(verbose_name="Applies to")
    type = tables.Column()
    required = tables.BooleanColumn()
    show_in_list = tables.BooleanColumn(verbose_name="In the list")
    order = NumberColumn()

    class Meta:
        model = CustomField
        fields = ("label", "name", "model", "type", "required", "show_in_list", "order")
        order_by = ("model", "order")
