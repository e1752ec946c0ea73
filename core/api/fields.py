"""Fast per-field validation and representation, compiled once from the model's fields.

One ``FieldSpec`` per API field knows how to turn a JSON value into the Python value the
database stores (types, choices, lengths, required, decimals, the field's validators), how
to show a stored value in JSON, how the change log records it, and its OpenAPI schema. The
single-object endpoints and the bulk sync engine use the same specs, so a value is accepted
or refused the same way by both, and the schema describes exactly what they accept.
"""

import datetime
import re
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import validators as django_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import number_hints

MAX_ID = 2**63 - 1
USERNAME_MAX = 150

VALUE, USER, RECORD, USERS = "value", "user", "record", "users"


class FieldInvalid(Exception):
    """A value refused, with the reasons (sentences a person can act on)."""

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


def _run_validators(validators, value):
    for validator in validators:
        try:
            validator(value)
        except DjangoValidationError as exc:
            raise FieldInvalid(*exc.messages) from None


# Django's own length and range validators are replaced by the checks below (cheaper, same rule).
_NATIVE = (
    django_validators.MaxLengthValidator,
    django_validators.DecimalValidator,
    django_validators.ProhibitNullCharactersValidator,
)


def _extra_validators(model_field):
    return [v for v in model_field.validators if not isinstance(v, _NATIVE)]


# --- Input converters ------------------------------------------------------------------------


def _or_null(convert, null: bool):
    """``convert`` for non-null values; None is kept where the field allows it, else refused."""

    def checked(value):
        if value is None:
            if null:
                return None
            raise FieldInvalid("This field may not be null.")
        return convert(value)

    return checked


def string_converter(model_field, *, max_length=None, blank=False, null=False, choices=None):
    max_length = max_length if max_length is not None else getattr(model_field, "max_length", None)
    validators = _extra_validators(model_field) if model_field is not None else []
    allowed = frozenset(choices or ())
    choice_list = ", ".join(sorted(c for c in allowed if c))

    def convert(value):
        # A number is not text: 12 for a name is a script's mistake, not a name.
        if not isinstance(value, str):
            raise FieldInvalid("Expected a string.")
        value = value.strip()
        if "\x00" in value:
            raise FieldInvalid("Null characters are not allowed.")
        if not value:
            if blank:
                return ""
            raise FieldInvalid("This field may not be blank.")
        if max_length and len(value) > max_length:
            raise FieldInvalid(f"Ensure this field has no more than {max_length} characters.")
        if allowed and value not in allowed:
            raise FieldInvalid(f"“{value[:50]}” is not a valid choice: use one of {choice_list}.")
        if validators:
            _run_validators(validators, value)
        return value

    return _or_null(convert, null)


# A number written as text, as a person reads it: ASCII digits, no spaces, underscores, signs
# other than a minus, exponents or leading zeros (" 12", "1_000", "١٢" and "012" are refused:
# Python would read them all, and each is more likely a mistake than the number).
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,19})")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
INTEGER_TEXT = "Expected an integer (as text: digits 0-9 only, no spaces or leading zeros)."
DECIMAL_TEXT = (
    "Expected a decimal number such as 1234.50 (as text: digits 0-9 and a point only, no "
    "spaces, underscores, exponents or leading zeros)."
)


def integer_converter(model_field, *, null=False):
    low, high = connection.ops.integer_field_range(model_field.get_internal_type())
    validators = _extra_validators(model_field)

    def convert(value):
        if isinstance(value, bool):
            raise FieldInvalid("Expected an integer.")
        if isinstance(value, int):
            number = value
        elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral():
            number = int(value)
        elif isinstance(value, str):
            if not _INTEGER.fullmatch(value):
                raise FieldInvalid(number_hints.hint(value, integer=True) or INTEGER_TEXT)
            number = int(value)
        else:
            raise FieldInvalid("Expected an integer.")
        if low is not None and number < low:
            raise FieldInvalid(f"Ensure this value is greater than or equal to {low}.")
        if high is not None and number > high:
            raise FieldInvalid(f"Ensure this value is less than or equal to {high}.")
        if validators:
            _run_validators(validators, number)
        return number

    return _or_null(convert, null)


def decimal_converter(model_field, *, null=False):
    max_digits, places = model_field.max_digits, model_field.decimal_places
    whole = max_digits - places
    quantum = Decimal(1).scaleb(-places)
    validators = _extra_validators(model_field)

    def convert(value):
        if isinstance(value, bool):
            raise FieldInvalid("Expected a decimal number.")
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            if not _DECIMAL.fullmatch(value):
                raise FieldInvalid(number_hints.hint(value) or DECIMAL_TEXT)
            number = Decimal(value)
        else:
            raise FieldInvalid("Expected a decimal number.")
        if not number.is_finite():
            raise FieldInvalid("Expected a finite decimal number.")
        # Trailing zeros carry no information: 1.50000 is 1.5, within 4 decimal places.
        _sign, digits, exponent = number.normalize().as_tuple()
        assert isinstance(exponent, int)  # "n", "N" or "F" only for what is not finite
        decimals = max(0, -exponent)
        if decimals > places:
            raise FieldInvalid(f"Ensure that there are no more than {places} decimal places.")
        whole_digits = len(digits) + exponent if digits != (0,) else 0
        if whole_digits > whole:
            raise FieldInvalid(
                f"Ensure that there are no more than {whole} digits before the decimal point."
            )
        number = number.quantize(quantum)
        if validators:
            _run_validators(validators, number)
        return number

    return _or_null(convert, null)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_converter(model_field, *, null=False):
    validators = _extra_validators(model_field)

    def convert(value):
        if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
            raise FieldInvalid("Expected a date as YYYY-MM-DD.")
        try:
            day = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise FieldInvalid("This is not a valid date.") from None
        if validators:
            _run_validators(validators, day)
        return day

    return _or_null(convert, null)


def datetime_converter(model_field, *, null=False):
    def convert(value):
        if not isinstance(value, str):
            raise FieldInvalid("Expected a date and time in ISO 8601.")
        moment = parse_iso_datetime(value)
        if moment is None:
            raise FieldInvalid("Expected a date and time in ISO 8601.")
        return moment

    return _or_null(convert, null)


def parse_iso_datetime(value: str) -> datetime.datetime | None:
    """ISO 8601 date and time (or a bare date, meaning its midnight); naive ones are in the
    site's time zone. None when the text is no such thing."""
    value = value.strip()
    try:
        moment = parse_datetime(value)
        if moment is None and _DATE.fullmatch(value):
            moment = datetime.datetime.combine(datetime.date.fromisoformat(value), datetime.time())
    except (ValueError, OverflowError):
        return None
    if moment is None:
        return None
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        # In UTC: the database takes offsets of at most 15:59, Python up to 23:59.
        return moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        return None


def boolean_converter(model_field, *, null=False):
    def convert(value):
        if not isinstance(value, bool):
            raise FieldInvalid("Expected true or false.")
        return value

    return _or_null(convert, null)


def _plain_json(value, path="value"):
    """A JSON value as jsonb stores it: numbers read as Decimal become int or float, and
    text PostgreSQL cannot store is refused."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FieldInvalid("Numbers must be finite.")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise FieldInvalid("Null characters are not allowed.")
        return value
    if isinstance(value, list):
        return [_plain_json(item) for item in value]
    if isinstance(value, dict):
        return {_plain_json(key): _plain_json(item) for key, item in value.items()}
    return value


def json_converter(model_field, *, null=False):
    validators = _extra_validators(model_field)

    def convert(value):
        value = _plain_json(value)
        if validators:
            _run_validators(validators, value)
        return value

    return _or_null(convert, null)


def username_converter(*, null):
    def convert(value):
        if not isinstance(value, str) or not value.strip():
            raise FieldInvalid("Expected a username.")
        value = value.strip()
        if len(value) > USERNAME_MAX or "\x00" in value:
            raise FieldInvalid("No user has this username.")
        return value

    return _or_null(convert, null)


REF_KEYS = frozenset({"id", "source", "external_id"})


@dataclass(frozen=True)
class RefKey:
    """A reference as sent: by id, by (source, external id) (source None means "the
    payload's own"), or by the natural key of a record that has one (``natural``: the values
    of its fields, such as a period's ``(2026, 10)``; ``label`` as it was written)."""

    id: int | None = None
    source: str | None = None
    external_id: str | None = None
    natural: tuple | None = None
    label: str | None = None


def _valid_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise FieldInvalid("Expected a record id (a positive integer).")
    return value


def reference_converter(*, null):
    def convert(value):
        if isinstance(value, int) and not isinstance(value, bool):
            return RefKey(id=_valid_id(value))
        if not isinstance(value, dict):
            raise FieldInvalid('Expected a record id or {"external_id": "…", "source": "…"}.')
        unknown = set(value) - REF_KEYS
        if unknown:
            raise FieldInvalid(f"Unknown key(s) in reference: {', '.join(sorted(unknown))}.")
        ref_id = _valid_id(value["id"]) if "id" in value else None
        external_id = value.get("external_id")
        source = value.get("source")
        if external_id is not None and (
            not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200
        ):
            raise FieldInvalid("external_id must be a non-empty string of up to 200 characters.")
        if source is not None and (not isinstance(source, str) or len(source) > 100):
            raise FieldInvalid("source must be a string of up to 100 characters.")
        if ref_id is None and external_id is None:
            raise FieldInvalid("Give the record's id or its external_id.")
        if "\x00" in (external_id or "") + (source or ""):
            raise FieldInvalid("Null characters are not allowed.")
        return RefKey(
            id=ref_id,
            source=source.strip() if source is not None else None,
            external_id=external_id.strip() if external_id is not None else None,
        )

    return _or_null(convert, null)


def natural_reference_converter(natural_key, *, null):
    """A reference to a record named by its natural key (core.api.resources.NaturalKey): its
    id, its key as text (``"2026-10"``), or ``{"id": …}`` / ``{"<key>": "…"}`` (both: they
    must agree)."""
    key_name = natural_key.name
    allowed = frozenset({"id", key_name})
    expected = (
        f'Expected a record id, its {key_name} ("{natural_key.example}") or {{"{key_name}": "…"}}.'
    )

    def parse(text):
        if not isinstance(text, str) or "\x00" in text or len(text) > 100:
            raise FieldInvalid(f"{key_name} must be a string such as {natural_key.example}.")
        try:
            values = natural_key.parse(text.strip())
        except (ValueError, DjangoValidationError) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            raise FieldInvalid(*messages) from None
        return tuple(values), natural_key.format(*values)

    def convert(value):
        if isinstance(value, int) and not isinstance(value, bool):
            return RefKey(id=_valid_id(value))
        if isinstance(value, str):
            values, label = parse(value)
            return RefKey(natural=values, label=label)
        if not isinstance(value, dict):
            raise FieldInvalid(expected)
        unknown = set(value) - allowed
        if unknown:
            raise FieldInvalid(f"Unknown key(s) in reference: {', '.join(sorted(unknown))}.")
        ref_id = _valid_id(value["id"]) if "id" in value else None
        values = label = None
        if key_name in value:
            values, label = parse(value[key_name])
        if ref_id is None and values is None:
            raise FieldInvalid(f"Give the record's id or its {key_name}.")
        return RefKey(id=ref_id, natural=values, label=label)

    return _or_null(convert, null)


# --- Output ---------------------------------------------------------------------------------


def json_value(value):
    """A stored value as the API shows it: decimals as strings, instants in UTC."""
    if value is None or isinstance(value, str | bool | int | float | list | dict):
        return value  # JSON fields are shown as stored
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        text = value.astimezone(datetime.UTC).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


_encoder = DjangoJSONEncoder()


def snapshot_value(value):
    """A value as ChangeLoggedModel.changelog_snapshot records it (DjangoJSONEncoder)."""
    if value is None or isinstance(value, str | bool | int | float | list | dict):
        return value
    return _encoder.default(value)


# --- Specs ----------------------------------------------------------------------------------


@dataclass
class FieldSpec:
    name: str
    kind: str = VALUE
    model_field: Any = None
    attname: str = ""
    read_only: bool = False
    required: bool = False
    nullable: bool = False
    convert: Any = None
    related_model: Any = None
    natural_key: Any = None  # a reference to a record named by its natural key (a period)
    schema: dict = field(default_factory=dict)  # OpenAPI, as the API shows it
    input_schema: dict | None = None  # OpenAPI, as the API accepts it (when different)
    help_text: str = ""

    @property
    def is_reference(self) -> bool:
        return self.kind in (USER, RECORD)

    def import_targets(self) -> list[tuple[str, str]]:
        """Where an import may map a column within this field, as (target, label): a
        translations field offers ``("fr.name", "Name (fr)")`` per extra language and
        translatable field (core.translations); any other field, nothing."""
        from core.translations import import_targets

        return import_targets(self.model_field) if self.model_field is not None else []

    def openapi(self, *, writable: bool) -> dict:
        """The schema as the API shows the field, or (``writable``) as it accepts it. A spec
        whose shape is defined at run time (custom fields) builds it here."""
        return self.input_schema if writable and self.input_schema else self.schema


def is_user_model(model) -> bool:
    return model._meta.label == settings.AUTH_USER_MODEL or model._meta.label_lower == (
        settings.AUTH_USER_MODEL.lower()
    )


def _string_schema(model_field, choices_name: str | None) -> dict:
    schema: dict = {"type": "string"}
    if model_field.choices:
        schema = {"$ref": f"#/components/schemas/{choices_name}"}
        return schema
    if model_field.max_length:
        schema["maxLength"] = model_field.max_length
    if isinstance(model_field, models.SlugField):
        schema["pattern"] = r"^[-a-zA-Z0-9_]+$"
    elif isinstance(model_field, models.URLField) and not model_field.blank:
        schema["format"] = "uri"
    for validator in model_field.validators:
        if isinstance(validator, django_validators.RegexValidator) and not isinstance(
            validator, django_validators.URLValidator
        ):
            regex = validator.regex
            assert isinstance(regex, re.Pattern)  # RegexValidator compiles what it is given
            schema["pattern"] = regex.pattern.replace(r"\Z", "$").replace(r"\A", "^")
    if not model_field.blank:
        schema["minLength"] = 1
    return schema


def _decimal_pattern(model_field) -> str:
    """What decimal_converter takes as text, within the field's digits."""
    whole = model_field.max_digits - model_field.decimal_places
    integer = rf"(?:0|[1-9][0-9]{{0,{whole - 1}}})" if whole > 0 else "0"
    return rf"^-?{integer}(?:\.[0-9]{{1,{model_field.decimal_places}}})?$"


def enum_name(model, model_field) -> str:
    """The schema component of a field's choices: ServiceKind, ApplicationLifecycle, …"""
    words = model_field.name.replace("_", " ").title().replace(" ", "")
    return f"{model.__name__}{words}"


def spec_for_model_field(model, model_field, *, read_only=False, optional=False) -> FieldSpec:
    """The spec of one model field (a ForeignKey becomes a reference; a field that knows its
    own API form, such as the custom fields' object, gives it with ``api_spec``)."""
    own_spec = getattr(model_field, "api_spec", None)
    if own_spec is not None:
        return own_spec(model, read_only=read_only)
    null = model_field.null
    has_default = model_field.has_default() or getattr(model_field, "auto_now_add", False)
    required = not (read_only or optional or null or model_field.blank or has_default)
    description = str(model_field.help_text or "")
    common = {
        "name": model_field.name,
        "model_field": model_field,
        "attname": model_field.attname,
        "read_only": read_only,
        "required": required,
        "nullable": null,
        "help_text": description,
    }
    nullable = {"nullable": True} if null else {}
    schema: dict[str, Any]
    if isinstance(model_field, models.ForeignKey):
        target = model_field.related_model
        if is_user_model(target):
            return FieldSpec(
                kind=USER,
                convert=username_converter(null=null),
                related_model=target,
                schema={"type": "string", **nullable, "description": "A username."},
                **common,
            )
        return FieldSpec(
            kind=RECORD,
            convert=reference_converter(null=null),
            related_model=target,
            schema={"allOf": [{"$ref": "#/components/schemas/RecordRef"}], **nullable},
            input_schema={
                "oneOf": [
                    {"type": "integer", "minimum": 1, "format": "int64"},
                    {"$ref": "#/components/schemas/ReferenceKey"},
                ],
                **nullable,
            },
            **common,
        )
    if isinstance(model_field, models.BooleanField):
        convert, schema = boolean_converter(model_field, null=null), {"type": "boolean"}
    elif isinstance(model_field, models.DecimalField):
        convert = decimal_converter(model_field, null=null)
        schema = {"type": "string", "format": "decimal", "pattern": _decimal_pattern(model_field)}
    elif isinstance(model_field, models.DateTimeField):
        convert, schema = datetime_converter(model_field, null=null), {"type": "string"}
        schema["format"] = "date-time"
    elif isinstance(model_field, models.DateField):
        convert, schema = date_converter(model_field, null=null), {"type": "string"}
        schema["format"] = "date"
    elif isinstance(model_field, models.IntegerField | models.AutoField):
        low, high = connection.ops.integer_field_range(model_field.get_internal_type())
        convert = integer_converter(model_field, null=null)
        schema = {"type": "integer"}
        for validator in model_field.validators:
            if isinstance(validator, django_validators.MinValueValidator):
                low = max(low, validator.limit_value) if low is not None else validator.limit_value
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
        if model_field.get_internal_type() in ("BigIntegerField", "BigAutoField"):
            schema["format"] = "int64"
        if model_field.choices:
            schema["enum"] = [value for value, _ in model_field.flatchoices] + (
                [None] if null else []
            )
            labels = "; ".join(f"`{v}`: {label}" for v, label in model_field.flatchoices)
            description = f"{description} {labels}".strip()
    elif isinstance(model_field, models.JSONField):
        # Any JSON; a resource describes the shape it accepts with ``schemas`` (the model's
        # validators and clean() hold it).
        convert, schema = json_converter(model_field, null=null), {}
    elif isinstance(model_field, models.CharField | models.TextField):
        choices = [value for value, _ in model_field.flatchoices] if model_field.choices else None
        convert = string_converter(model_field, blank=model_field.blank, null=null, choices=choices)
        schema = _string_schema(model_field, enum_name(model, model_field))
    else:
        raise TypeError(
            f"{model.__name__}.{model_field.name}: the API has no conversion for "
            f"{type(model_field).__name__}: add one in core.api.fields."
        )
    if null:
        schema = {**schema, "nullable": True}
        if "$ref" in schema:
            schema = {"allOf": [{"$ref": schema.pop("$ref")}], **schema}
    if description:
        schema["description"] = description
    return FieldSpec(convert=convert, schema=schema, **common)


def choice_components(model, model_fields) -> dict[str, dict]:
    """The enum components the specs of ``model_fields`` refer to."""
    components = {}
    for model_field in model_fields:
        # Text choices are components; integer ones are inline enums (see spec_for_model_field).
        if getattr(model_field, "choices", None) and isinstance(
            model_field, models.CharField | models.TextField
        ):
            values = [value for value, _ in model_field.flatchoices]
            if model_field.blank and "" not in values:
                values.append("")
            labels = "; ".join(f"`{v}`: {label}" for v, label in model_field.flatchoices)
            components[enum_name(model, model_field)] = {
                "type": "string",
                "enum": values,
                "description": labels,
            }
    return components
