from decimal import Decimal
from pathlib import Path

from django import template
from django.contrib.staticfiles import finders
from django.urls import reverse

from core import translations
from core.forms import person_name
from core.money import format_amount
from core.money import format_percent

register = template.Library()


@register.filter
def translated(obj, field: str):
    """``obj``'s ``field`` in the page's language, else the original (core.translations)."""
    return translations.translated(obj, field)


@register.filter
def name_of(obj):
    """How a record is named in the page's language (core.translations.name_of)."""
    return translations.name_of(obj)


@register.filter
def plain_number(value):
    """A Decimal as people write it: 90 not 9E+1, 99.9 not 99.9000."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return format(value.normalize(), "f")


@register.filter
def change_value(value):
    """A value from the change log as people read it: a list (of usernames) joined."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return value


@register.filter
def amount(value, option=""):
    """Money and other fixed-decimal figures by the one rule of core.money.format_amount:
    ``{{ x|amount }}`` 1,234.57 · ``{{ x|amount:currency }}`` 1,234.57 EUR ·
    ``{{ share|amount:1 }}`` 33.3 (an integer chooses the decimals)."""
    places, currency = 2, ""
    if isinstance(option, int) or (isinstance(option, str) and option.isdigit()):
        places = int(option)
    elif option:
        currency = str(option)
    try:
        return format_amount(value, currency, places=places)
    except (TypeError, ValueError):
        return ""  # as floatformat: a page shows nothing rather than fail on a bad figure


@register.filter
def percent(ratio):
    """A ratio as a whole percentage by core.money.format_percent: ``{{ 0.295|percent }}``
    30%."""
    try:
        return format_percent(ratio)
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def static_file_uri(path: str) -> str:
    """A static file as a file:// address: WeasyPrint reads a PDF's stylesheet from disk, so
    the document needs no style element of its own."""
    found = finders.find(path)
    if not found:
        raise template.TemplateSyntaxError(f"No static file {path!r}.")
    return Path(found).as_uri()


@register.filter
def person(user) -> str:
    """A person as every page shows them: the full name, else the username ("" for nobody)."""
    return person_name(user)


@register.simple_tag
def history_url(obj) -> str:
    """The change log page of ``obj`` (core's object_history, by app and model)."""
    return reverse("object_history", args=[obj._meta.app_label, obj._meta.model_name, obj.pk])
