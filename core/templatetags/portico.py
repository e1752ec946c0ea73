from decimal import Decimal

from django import template

register = template.Library()


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
