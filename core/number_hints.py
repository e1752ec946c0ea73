"""Hints for numbers written as people write them in a spreadsheet or a letter.

Portico reads numbers one way only (digits and a dot: ``1234.50``), so that ``1,234`` never
silently becomes 1.234 or 1234. When a value is refused, the person who typed ``12,5``,
``1,234.50``, ``1 234``, ``€ 12.50`` or ``12 %`` is told what to write instead; the API
(core.api.fields) and the browser forms (core.forms) give the same hint.
"""

import re

# Signs and codes of currencies people put before or after an amount.
_CURRENCY = re.compile(
    r"^(?:[€$£¥₹₽₩₺₴₪฿]|[A-Z]{3}|CHF|kr|Fr\.?)\s*|\s*(?:[€$£¥₹₽₩₺₴₪฿]|[A-Z]{3}|kr|Fr\.?)$"
)
# Spaces (also non-breaking and thin ones) and apostrophes that group digits (an underscore
# is Python's, not a person's: it gets the plain message)
_GROUPING = re.compile(r"(?<=\d)[\s\u00a0\u202f\u2009'’](?=\d)")
_PLAIN = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")

DECIMAL_SEPARATOR = "use a dot as the decimal separator"
THOUSANDS = "leave out the thousands separators"
CURRENCY = "leave out the currency sign (the currency is a field of its own)"
PERCENT = "leave out the percent sign"


def _normalise(text: str, *, integer: bool) -> tuple[str, list[str]] | None:
    """The number ``text`` most likely means, written the one way Portico reads, and the
    advice that turns one into the other; None when it does not look like a number.

    A single comma before three digits (``1,234``) is a thousands separator in English and
    a decimal one in most of Europe: an integer takes the first reading, a decimal number
    is given both."""
    advice: list[str] = []
    body = text.strip()
    if body.endswith("%"):
        body = body[:-1].rstrip()
        advice.append(PERCENT)
    stripped = _CURRENCY.sub("", body, count=2).strip()
    if stripped != body:
        body = stripped
        advice.append(CURRENCY)
    sign = ""
    if body.startswith(("-", "−")):
        sign, body = "-", body[1:].lstrip()
    grouped = _GROUPING.sub("", body)
    thousands = grouped != body
    body = grouped
    if not re.fullmatch(r"[0-9][0-9.,]*", body) or body[-1] in ".,":
        return None
    commas, dots = body.count(","), body.count(".")
    whole, fraction = body, ""
    decimal_comma = False
    if commas and dots:
        # The separator that comes last is the decimal one: 1,234.50 and 1.234,50
        point = max(body.rfind(","), body.rfind("."))
        whole, fraction = body[:point], body[point + 1 :]
        decimal_comma = body[point] == ","
        if any(c in fraction for c in ",."):
            return None
        group = "." if decimal_comma else ","
        if whole.count("," if decimal_comma else "."):
            return None
        whole = whole.replace(group, "")
        thousands = True
    elif commas > 1 or dots > 1:
        separator = "," if commas else "."
        parts = body.split(separator)
        if any(len(p) != 3 for p in parts[1:]):
            return None
        whole = "".join(parts)
        thousands = True
    elif commas == 1:
        whole, fraction = body.split(",")
        if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0":
            if integer:
                whole, fraction, thousands = whole + fraction, "", True
            else:
                number = f"{sign}{whole}{fraction}"
                return (
                    f"{number} (or {sign}{whole}.{fraction} if the comma separates decimals)",
                    [*advice, "use a dot as the decimal separator and no thousands separators"],
                )
        else:
            decimal_comma = True
    elif dots == 1:
        whole, fraction = body.split(".")
    if thousands:
        advice.append(THOUSANDS)
    if decimal_comma:
        advice.append(DECIMAL_SEPARATOR)
    number = sign + (whole.lstrip("0") or "0") + (f".{fraction}" if fraction else "")
    if not advice or not _PLAIN.fullmatch(number):
        return None
    return number, advice


def hint(text: object, *, integer: bool = False) -> str | None:
    """The message for a refused number given as ``text``, with what to write instead;
    None when no better message than the plain one can be given."""
    if not isinstance(text, str) or len(text) > 60:
        return None
    found = _normalise(text, integer=integer)
    if found is None:
        return None
    number, advice = found
    expected = "Expected an integer" if integer else "Expected a decimal number"
    if integer and "." in number.split(" ")[0]:
        return None
    return f"{expected}; {' and '.join(advice)}: {number}"
