"""Numbers read from text a client sends (query parameters, command arguments, form fields)."""

import re

from django.core.exceptions import ValidationError

MONTH_FORMAT = "YYYY-MM"
_MONTH = re.compile(r"(?a)(\d{4})-(\d{2})")


def whole_number(text: str | None) -> int | None:
    """The whole number ``text`` writes in ASCII digits, or None. ``str.isdigit`` alone also
    takes other scripts' digits and superscripts ("²"), some of which ``int`` refuses."""
    if text and text.isascii() and text.isdigit():
        return int(text)
    return None


def month_label(text: str, *, what: str = "A month") -> tuple[int, int]:
    """``"2025-03"`` → ``(2025, 3)``: a calendar month written YYYY-MM in ASCII digits, from
    1900 on (a period's label, the month an edge changes from). Anything else is refused
    with the expected form; ``what`` names what is written so."""
    found = _MONTH.fullmatch(text.strip())
    if found is None:
        raise ValidationError(f"{what} is written {MONTH_FORMAT}, such as 2025-03, not {text!r}.")
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12 or year < 1900:
        raise ValidationError(f"{text!r} is not a calendar month ({MONTH_FORMAT}).")
    return year, month
