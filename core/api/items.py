"""Reading one JSON object against a resource's field specs (shared by the single-object
endpoints and the sync engine): unknown and read-only fields are refused, each value is
converted or refused with the reason."""

from typing import Any

from core.api.fields import FieldInvalid

UNKNOWN = "Unknown field."
READ_ONLY = "This field is read-only."
REQUIRED = "This field is required."


def parse_item(resource, item, *, prefix: str = "") -> tuple[dict, dict, set, dict]:
    """Return (values by attname, references by field name, names given, errors by path)."""
    values: dict[str, Any] = {}
    refs: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if not isinstance(item, dict):
        errors[prefix.rstrip(".") or "non_field_errors"] = ["Expected a JSON object."]
        return values, refs, set(), errors
    writable = resource.writable
    for name, raw in item.items():
        spec = writable.get(name)
        if spec is None:
            message = READ_ONLY if name in resource.read_only_names else UNKNOWN
            errors[f"{prefix}{name}"] = [message]
            continue
        try:
            value = spec.convert(raw)
        except FieldInvalid as exc:
            errors[f"{prefix}{name}"] = exc.messages
            continue
        if spec.is_reference:
            refs[name] = value
        else:
            values[spec.attname] = value
    return values, refs, set(item), errors


def missing_required(resource, given: set, *, prefix: str = "") -> dict:
    return {
        f"{prefix}{spec.name}": [REQUIRED]
        for spec in resource.writable.values()
        if spec.required and spec.name not in given
    }
