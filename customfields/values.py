"""One custom field's values: what each type accepts, how it is stored in the record's
``custom_fields`` object, how it is shown and described. Pure functions over a definition
(customfields.models.CustomField), no database: the records a reference names are checked by
customfields.services, which reads them for a whole batch at once.

Stored forms (the JSON the GIN index serves, so an equal value is always stored equally):
text, long text, URL and choice as a string; integer as a JSON number; decimal as a string
without exponent or trailing zeros (``"12.5"``), so ``12.50`` and ``12.5`` are one value;
date as ``"YYYY-MM-DD"``; yes or no as true or false; multiple choice as a list of strings
in the order the choices are defined; a reference as the referenced record's id (ids never
change; a slug may).
"""

import datetime
import re
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from customfields.choices import FieldType

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000
URL_MAX = 2_000
WHOLE_DIGITS = 18
DECIMAL_PLACES = 6
INTEGER_LOW, INTEGER_HIGH = -(2**53) + 1, 2**53 - 1  # exact in every JSON reader
MAX_CHOSEN = 100
REGEX_TIMEOUT_CHARS = LONG_TEXT_MAX

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_url = URLValidator(schemes=["http", "https"])

NUMERIC = (FieldType.INTEGER, FieldType.DECIMAL)
TEXTUAL = (FieldType.TEXT, FieldType.LONG_TEXT)
CHOOSING = (FieldType.CHOICE, FieldType.MULTIPLE_CHOICE)


class ValueRefused(Exception):
    """A value a custom field does not take, with the sentence that says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_empty(value: Any) -> bool:
    """None, blank text and an empty list all mean "no value": the key is not stored."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def max_text_length(definition) -> int:
    if definition.type == FieldType.URL:
        return URL_MAX
    ceiling = LONG_TEXT_MAX if definition.type == FieldType.LONG_TEXT else TEXT_MAX
    return min(definition.max_length or ceiling, ceiling)


def _text(definition, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueRefused("Expected text.")
    value = value.strip()
    if "\x00" in value:
        raise ValueRefused("Null characters are not allowed.")
    limit = max_text_length(definition)
    if len(value) > limit:
        raise ValueRefused(
            f"Ensure this value has at most {limit} characters (it has {len(value)})."
        )
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueRefused("Expected an integer.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueRefused("Expected an integer.")
    if not INTEGER_LOW <= number <= INTEGER_HIGH:
        raise ValueRefused(f"Ensure this value is between {INTEGER_LOW} and {INTEGER_HIGH}.")
    return number


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueRefused("Expected a decimal number.")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()) or len(value) > 60:
            raise ValueRefused("Expected a decimal number such as 1234.50.")
        number = Decimal(value.strip())
    else:
        raise ValueRefused("Expected a decimal number.")
    if not number.is_finite():
        raise ValueRefused("Expected a decimal number.")
    _sign, digits, exponent = number.normalize().as_tuple()
    assert isinstance(exponent, int)
    if max(0, -exponent) > DECIMAL_PLACES:
        raise ValueRefused(f"Ensure there are at most {DECIMAL_PLACES} decimal places.")
    if (len(digits) + exponent if digits != (0,) else 0) > WHOLE_DIGITS:
        raise ValueRefused(f"Ensure there are at most {WHOLE_DIGITS} digits before the point.")
    return number


def decimal_text(number: Decimal) -> str:
    """The one stored form of a decimal: no exponent, no trailing zeros (``"1200"``,
    ``"12.5"``)."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise ValueRefused("Expected a date as YYYY-MM-DD.")
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise ValueRefused("Expected a date as YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueRefused("This is not a valid date.") from None


def bound(definition, text: str) -> Decimal | datetime.date | None:
    """A minimum or maximum as the definition gives it, for its type (None when unset)."""
    if not text:
        return None
    if definition.type == FieldType.DATE:
        return _date(text)
    return _decimal(text)


def _check_bounds(definition, value) -> None:
    low, high = bound(definition, definition.minimum), bound(definition, definition.maximum)
    shown = value.isoformat() if isinstance(value, datetime.date) else value
    if low is not None and value < low:
        raise ValueRefused(f"Ensure this value is at least {_shown_bound(low)} (it is {shown}).")
    if high is not None and value > high:
        raise ValueRefused(f"Ensure this value is at most {_shown_bound(high)} (it is {shown}).")


def _shown_bound(value) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else decimal_text(value)


def _choice(definition, value: Any) -> str:
    choices = definition.choice_list
    if not isinstance(value, str) or value.strip() not in choices:
        shown = value[:50] if isinstance(value, str) else value
        listed = ", ".join(choices)
        raise ValueRefused(f"“{shown}” is not a valid choice: use one of {listed}.")
    return value.strip()


def convert(definition, value: Any) -> Any:
    """``value`` (as JSON gives it, or as a form cleans it) in its stored form; raises
    ValueRefused saying what is wrong. Not for empty values (``is_empty``)."""
    kind = definition.type
    if kind in TEXTUAL:
        text = _text(definition, value)
        if definition.regex and not re.fullmatch(definition.regex, text):
            raise ValueRefused(f"Does not have the expected form ({definition.regex}).")
        return text
    if kind == FieldType.URL:
        text = _text(definition, value)
        try:
            _url(text)
        except ValidationError:
            raise ValueRefused(
                "Expected a web address starting with http:// or https://."
            ) from None
        return text
    if kind == FieldType.INTEGER:
        number = _integer(value)
        _check_bounds(definition, Decimal(number))
        return number
    if kind == FieldType.DECIMAL:
        decimal = _decimal(value)
        _check_bounds(definition, decimal)
        return decimal_text(decimal)
    if kind == FieldType.DATE:
        day = _date(value)
        _check_bounds(definition, day)
        return day.isoformat()
    if kind == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueRefused("Expected true or false.")
        return value
    if kind == FieldType.CHOICE:
        return _choice(definition, value)
    if kind == FieldType.MULTIPLE_CHOICE:
        if not isinstance(value, list | tuple) or len(value) > MAX_CHOSEN:
            raise ValueRefused("Expected a list of choices.")
        chosen = {_choice(definition, item) for item in value}
        return [choice for choice in definition.choice_list if choice in chosen]
    if kind == FieldType.REFERENCE:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            raise ValueRefused("Expected a record id (a positive integer).")
        return value
    raise ValueRefused("This field's type is unknown.")  # pragma: no cover - choices hold it


YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0"})


def from_text(definition, text: str) -> Any:
    """A value written as text (an imported cell) as the API takes it, where the type is not
    text: yes or no, several choices (separated by commas, semicolons or new lines), a
    record's id. Anything else is returned as it is."""
    word = text.strip()
    if definition.type == FieldType.BOOLEAN and word.lower() in YES | NO:
        return word.lower() in YES
    if definition.type == FieldType.MULTIPLE_CHOICE:
        return [part.strip() for part in re.split(r"[,;\n]", word) if part.strip()]
    if (
        definition.type == FieldType.REFERENCE
        and word.isascii()
        and word.isdigit()
        and len(word) < 20
    ):
        return int(word)
    return text


def python_value(definition, stored: Any) -> Any:
    """A stored value as a form field takes it (a Decimal, a date)."""
    if stored is None:
        return None
    try:
        if definition.type == FieldType.DECIMAL:
            return Decimal(str(stored))
        if definition.type == FieldType.DATE:
            return datetime.date.fromisoformat(str(stored))
    except (InvalidOperation, ValueError):
        return None
    return stored


def shown(definition, stored: Any) -> str:
    """A stored value as a page shows it ("—" for none)."""
    if stored is None or stored == "" or stored == []:
        return "—"
    if definition.type == FieldType.BOOLEAN:
        return "yes" if stored else "no"
    if definition.type == FieldType.MULTIPLE_CHOICE and isinstance(stored, list):
        return ", ".join(str(item) for item in stored)
    return str(stored)


def export_value(definition, stored: Any) -> Any:
    """A stored value as a spreadsheet cell: numbers and dates as such (core.exports then
    neutralises text), several choices joined."""
    if stored is None:
        return None
    converted = python_value(definition, stored)
    if definition.type == FieldType.MULTIPLE_CHOICE and isinstance(stored, list):
        return ", ".join(str(item) for item in stored)
    if definition.type == FieldType.BOOLEAN:
        return "yes" if stored else "no"
    return converted


def json_schema(definition) -> dict:
    """The OpenAPI schema of one field's value, as the API takes and shows it."""
    kind = definition.type
    schema: dict[str, Any]
    if kind in TEXTUAL:
        schema = {"type": "string", "maxLength": max_text_length(definition)}
        if definition.regex:
            schema["pattern"] = f"^(?:{definition.regex})$"
    elif kind == FieldType.URL:
        schema = {"type": "string", "format": "uri", "maxLength": URL_MAX}
    elif kind == FieldType.INTEGER:
        schema = {"type": "integer", "format": "int64"}
        if definition.minimum:
            schema["minimum"] = int(Decimal(definition.minimum).to_integral_value())
        if definition.maximum:
            schema["maximum"] = int(Decimal(definition.maximum).to_integral_value())
    elif kind == FieldType.DECIMAL:
        schema = {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$",
        }
    elif kind == FieldType.DATE:
        schema = {"type": "string", "format": "date"}
    elif kind == FieldType.BOOLEAN:
        schema = {"type": "boolean"}
    elif kind == FieldType.CHOICE:
        schema = {"type": "string", "enum": definition.choice_list}
    elif kind == FieldType.MULTIPLE_CHOICE:
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": definition.choice_list},
            "uniqueItems": True,
        }
    else:
        schema = {
            "type": "integer",
            "format": "int64",
            "minimum": 1,
            "description": f"The id of a record of {definition.get_reference_model_display()}.",
        }
    words = [definition.label, definition.description]
    if definition.required:
        words.append("Required.")
    if kind in (FieldType.DECIMAL, FieldType.DATE) and (definition.minimum or definition.maximum):
        words.append(f"From {definition.minimum or '…'} to {definition.maximum or '…'}.")
    described = " ".join(w for w in words if w)
    if schema.get("description"):
        described = f"{described} {schema['description']}"
    return {**schema, "nullable": True, "description": described}
