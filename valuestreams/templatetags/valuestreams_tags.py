"""How value-stream measures are shown: rounding happens here, once, at presentation
(to one decimal, half to even)."""

from decimal import ROUND_HALF_EVEN
from decimal import Decimal

from django import template
from django.urls import NoReverseMatch
from django.utils.html import format_html

from core.money import format_number
from valuestreams.choices import WORKING_DAY_MINUTES

register = template.Library()

TENTH = Decimal("0.1")


def number(value) -> str:
    """``value`` to one decimal, written as every number is (core.money.format_number):
    thousands grouped, without a trailing “.0”."""
    return format_number(Decimal(value).quantize(TENTH, rounding=ROUND_HALF_EVEN))


@register.filter
def duration(minutes) -> str:
    """Minutes as the largest unit that keeps the figure at 1 or more: “2.5 d”, “3 h”, “45 min”
    (d is a working day of 8 hours)."""
    if minutes is None or minutes == "":
        return "—"
    minutes = Decimal(minutes)
    sign = "−" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes >= WORKING_DAY_MINUTES:
        return f"{sign}{number(minutes / WORKING_DAY_MINUTES)} d"
    if minutes >= 60:
        return f"{sign}{number(minutes / 60)} h"
    return f"{sign}{number(minutes)} min"


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{number(value)}%"


@register.filter
def plain_number(value) -> str:
    if value is None or value == "":
        return "—"
    return number(value)


@register.filter
def input_number(value) -> str:
    """A stored number as typed into a field: exact, without trailing zeros; blank for none."""
    if value is None or value == "":
        return ""
    return format_number(value, grouping=False)


@register.filter
def difference(change, kind: str) -> str:
    """A change between current and future state, with its sign: “−2 d”, “+12.5 pp”, “+1”."""
    if change is None:
        return "—"
    sign = "+" if change > 0 else ""
    if kind == "duration":
        return ("+" if change > 0 else "") + duration(change)
    if kind == "percent":
        text = number(abs(change))
        return f"{'+' if change > 0 else '−' if change < 0 else ''}{text} pp"
    return f"{sign}{change}" if change >= 0 else f"−{abs(change)}"


@register.simple_tag
def object_link(obj, text=None):
    """A link to ``obj``'s page, or its name alone while that page does not exist."""
    label = text if text is not None else str(obj)
    try:
        url = obj.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        return label
    return format_html('<a href="{}">{}</a>', url, label)


@register.filter
def get_cost(per_stage: dict, stage_id):
    return per_stage.get(stage_id) if per_stage else None
