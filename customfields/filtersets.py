"""Filters on custom fields (``cf_<name>``), shared by the HTML lists and the API, and the
filters of the Custom fields page.

Equality is a containment test, ``custom_fields @> {"<name>": value}``, which the GIN index
(jsonb_path_ops) of each model serves; the value is first put in its stored form, so
``cf_fee=12.50`` finds the 12.5 stored. Text contains (``cf_<name>__contains``) and the
ranges of numbers and dates (``cf_<name>__min``, ``__max``) read the value out of each row:
they are not indexed.
"""

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from core.filtersets import ANY
from core.filtersets import EitherWay
from core.filtersets import SearchFilterSet
from customfields import services
from customfields import values
from customfields.choices import FieldType
from customfields.choices import TargetModel
from customfields.models import CustomField

PREFIX = "cf_"


class StoredValueField(forms.CharField):
    """A filter's value in the stored form of its custom field (refused with the reason)."""

    def __init__(self, *args, definition: CustomField, **kwargs):
        self.definition = definition
        kwargs.setdefault("max_length", values.LONG_TEXT_MAX)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        if text in (None, ""):
            return None
        raw: Any = text
        if self.definition.type == FieldType.REFERENCE:
            if not (text.isascii() and text.isdigit()):
                raise ValidationError("Expected a record id (a positive integer).")
            raw = int(text)
        try:
            return values.convert(self.definition, raw)
        except values.ValueRefused as exc:
            raise ValidationError(exc.message) from None


class RangeValueField(StoredValueField):
    """A bound of a range filter: a number or a date (any bound the field's type takes)."""

    def clean(self, value):
        text = forms.CharField.clean(self, value)
        if text in (None, ""):
            return None
        try:
            return values.bound(self.definition, text)
        except values.ValueRefused as exc:
            raise ValidationError(exc.message) from None


class CustomValueFilter(django_filters.Filter):
    """``cf_<name>=value``: the records holding that value (a multiple choice: holding that
    choice among theirs). Indexed."""

    def __init__(self, definition: CustomField, **kwargs):
        self.definition = definition
        kind = definition.type
        if kind == FieldType.BOOLEAN:
            self.field_class = forms.NullBooleanField
            kwargs.setdefault("widget", EitherWay())
        elif kind in values.CHOOSING:
            self.field_class = forms.ChoiceField
            kwargs.setdefault("choices", [("", ANY), *((c, c) for c in definition.choice_list)])
        else:
            self.field_class = StoredValueField
            kwargs.setdefault("definition", definition)
        super().__init__(field_name=services.FIELD, label=definition.label, **kwargs)

    def filter(self, qs, value):
        if value is None or value == "":
            return qs
        if self.definition.type == FieldType.MULTIPLE_CHOICE:
            value = [value]
        return qs.filter(**{f"{services.FIELD}__contains": {self.definition.name: value}})


class CustomTextFilter(django_filters.CharFilter):
    """``cf_<name>__contains=text``: the records whose text holds ``text``, in any case.
    Not indexed."""

    def __init__(self, definition: CustomField, **kwargs):
        self.definition = definition
        super().__init__(
            field_name=services.FIELD,
            label=f"{definition.label} contains",
            max_length=values.LONG_TEXT_MAX,
            **kwargs,
        )

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        alias = f"_{PREFIX}{self.definition.name}_text"
        read = KeyTextTransform(self.definition.name, services.FIELD)
        return qs.alias(**{alias: read}).filter(**{f"{alias}__icontains": value})


class CustomRangeFilter(django_filters.Filter):
    """``cf_<name>__min`` / ``__max``: the records whose number or date is at least / at
    most the bound. Not indexed: it reads each record's value."""

    field_class = RangeValueField

    def __init__(self, definition: CustomField, *, upper: bool, **kwargs):
        self.definition = definition
        self.upper = upper
        word = "to" if upper else "from"
        super().__init__(
            field_name=services.FIELD,
            label=f"{definition.label} {word}",
            definition=definition,
            **kwargs,
        )

    def filter(self, qs, value):
        if value is None:
            return qs
        output: models.Field = models.DateField()
        if self.definition.type != FieldType.DATE:
            # Wide enough for every stored number (customfields.values: 18 + 6 digits).
            output = models.DecimalField(max_digits=40, decimal_places=values.DECIMAL_PLACES)
        read = Cast(KeyTextTransform(self.definition.name, services.FIELD), output)
        lookup = "lte" if self.upper else "gte"
        return qs.alias(**{f"_{PREFIX}{self.definition.name}": read}).filter(
            **{f"_{PREFIX}{self.definition.name}__{lookup}": value}
        )


def filters_for(definitions: list[CustomField]) -> dict[str, django_filters.Filter]:
    """The filters of ``definitions``, by query parameter."""
    made: dict[str, django_filters.Filter] = {}
    for definition in definitions:
        name = PREFIX + definition.name
        made[name] = CustomValueFilter(definition)
        if definition.type in (*values.TEXTUAL, FieldType.URL):
            made[f"{name}__contains"] = CustomTextFilter(definition)
        if definition.type in (*values.NUMERIC, FieldType.DATE):
            made[f"{name}__min"] = CustomRangeFilter(definition, upper=False)
            made[f"{name}__max"] = CustomRangeFilter(definition, upper=True)
    return made


class CustomFieldFiltersMixin(django_filters.FilterSet):
    """Adds the custom-field filters of the FilterSet's model (one query for the
    definitions), after its own."""

    @classmethod
    def dynamic_filters(cls) -> dict[str, django_filters.Filter]:
        return filters_for(services.definitions(cls._meta.model))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_custom_filters()

    def get_form_class(self):
        # A FilterSet's own __init__ may build its form (the search box's placeholder):
        # the custom filters are added first.
        self._add_custom_filters()
        return super().get_form_class()

    def _add_custom_filters(self) -> None:
        if getattr(self, "_custom_filters_added", False):
            return
        self._custom_filters_added = True
        for name, filter_ in type(self).dynamic_filters().items():
            filter_.model = self._meta.model
            filter_.parent = self
            self.filters[name] = filter_


class CustomFieldFilterSet(SearchFilterSet):
    search_fields = ("label", "name", "description")

    model = django_filters.ChoiceFilter(choices=TargetModel.choices, label="Applies to")
    type = django_filters.ChoiceFilter(choices=FieldType.choices)

    class Meta:
        model = CustomField
        fields = ["q", "model", "type"]
