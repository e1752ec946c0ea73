"""Custom fields on pages: a record's values (its detail page), one value (a list's cell)."""

from dataclasses import dataclass

from django import template
from django.apps import apps
from django.db.models import Model

from customfields import services
from customfields import values
from customfields.choices import FieldType
from customfields.models import CustomField

register = template.Library()


@dataclass
class Shown:
    label: str
    text: str
    url: str = ""
    external: bool = False


@register.filter
def custom_value(record, definition: CustomField) -> str:
    """``record``'s value of ``definition`` as a page shows it."""
    stored = (getattr(record, services.FIELD, None) or {}).get(definition.name)
    return values.shown(definition, stored)


@register.inclusion_tag("customfields/inc/facts.html")
def custom_field_facts(record) -> dict:
    """The custom fields of ``record``'s model with its values (nothing for a model without
    custom fields); a reference links to its record, a web address to itself."""
    model = type(record)
    if not isinstance(record, Model) or not services.carries_custom_fields(model):
        return {"facts": []}
    stored = getattr(record, services.FIELD, None) or {}
    facts = []
    for definition in services.definitions(model):
        value = stored.get(definition.name)
        shown = Shown(definition.label, values.shown(definition, value))
        if value is not None and definition.type == FieldType.REFERENCE:
            target = apps.get_model(definition.reference_model)._default_manager.filter(pk=value)
            found = target.first()
            shown.text = str(found) if found is not None else f"No longer recorded (id {value})"
            shown.url = found.get_absolute_url() if found is not None else ""
        elif value is not None and definition.type == FieldType.URL:
            shown.url, shown.external = str(value), True
        facts.append(shown)
    return {"facts": facts}
