from pathlib import Path

from django import template
from django.contrib.staticfiles import finders
from django.urls import reverse

from core import translations
from core.money import format_amount
from core.money import format_count
from core.money import format_number
from core.money import format_percent
from core.money import format_units
from core.translations import person_name

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
    """A count or a measure as people write it (core.money.format_number): 90 not 9E+1,
    1,299.9 not 1299.9000."""
    try:
        return format_number(value)
    except (TypeError, ValueError):
        return ""  # as ``amount``: a page shows nothing rather than fail on a bad figure


@register.filter
def result_count(table) -> str:
    """How many rows a list has, every page of it, named by what they are: “1,234 services”
    (the model's names, unless the table has ``row_names``, singular and plural, of its own)."""
    paginator = getattr(table, "paginator", None)
    count = paginator.count if paginator is not None else len(table.rows)
    data = table.data
    singular, plural = getattr(table, "row_names", (data.verbose_name, data.verbose_name_plural))
    return format_count(count, str(singular), str(plural))


@register.filter
def counted(count, nouns: str) -> str:
    """``{{ runs|counted:"import,imports" }}``: “1 import”, “12 imports” (format_count)."""
    singular, _, plural = nouns.partition(",")
    return format_count(count, singular, plural or f"{singular}s")


@register.filter
def units(count, unit: str) -> str:
    """``{{ sub.units|units:sub.unit_name }}``: “1 policy”, “412,000 policies”."""
    try:
        return format_units(count, unit)
    except (TypeError, ValueError):
        return ""


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
