"""Custom fields: their definitions, and the one rule their values pass on every write path.

``clean_values`` is the validation; the rule registered on each model that carries custom
fields (``custom_fields_rule``) applies it to a whole batch with facts read once (the
definitions, the records references name), so the browser's forms, the API's single writes,
its sync and the imports all refuse a value the same way, under ``custom_fields.<name>``.
"""

import threading
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import ProgrammingError
from django.db import models
from django.db.models import Func
from django.db.models import Max
from django.db.models import Value
from django.db.models.functions import Cast

from core import changelog
from core import rules
from core.choices import ChangeAction
from core.rules import Change
from customfields import values
from customfields.choices import FieldType
from customfields.choices import TargetModel
from customfields.models import CustomField

FIELD = "custom_fields"
UNKNOWN = "Unknown custom field: portfolio managers define custom fields on the Custom fields page."
REQUIRED = "This field is required."
NOT_AN_OBJECT = 'Expected an object of custom field values: {"name": value, …}.'
MAX_KEYS = 200


def label_of(model: type[models.Model]) -> str:
    """``app_label.model_name``, as CustomField.model names a model."""
    return f"{model._meta.app_label}.{model._meta.model_name}"


def target_models() -> list[type[models.Model]]:
    """The models that carry custom fields."""
    return [apps.get_model(label) for label in TargetModel.values]


def carries_custom_fields(model: type[models.Model]) -> bool:
    return label_of(model) in TargetModel.values


# The definitions read during one request, by model: a list page's filters and columns, or a
# form and the rule that checks it, read them once. Outside a request (a task, a command)
# nothing is kept: a worker must see a definition changed since.
_request = threading.local()


def request_started(**kwargs) -> None:
    _request.definitions = {}


def request_finished(**kwargs) -> None:
    _request.definitions = None


def definitions(model: type[models.Model]) -> list[CustomField]:
    """The custom fields of ``model``, in their order (one query, once per request)."""
    label = label_of(model)
    kept = getattr(_request, "definitions", None)
    if kept is not None and label in kept:
        return list(kept[label])
    try:
        found = list(CustomField.objects.filter(model=label))
    except ProgrammingError:
        # Not migrated yet (a deploy check generating the schema): no custom fields.
        return []
    if kept is not None:
        kept[label] = found
    return list(found)


def forget_definitions() -> None:
    """After a definition is saved or deleted: the rest of the request reads them again."""
    if getattr(_request, "definitions", None) is not None:
        _request.definitions = {}


def definitions_stamp() -> tuple:
    """Changes whenever a definition is added, changed or deleted: the OpenAPI schema is
    generated again then (core.api.schema.add_stamp)."""
    try:
        found = CustomField.objects.aggregate(count=models.Count("id"), last=Max("updated_at"))
    except ProgrammingError:
        return (0, None)  # not migrated yet
    return (found["count"], found["last"])


# --- Values ------------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the rule needs for a batch: the definitions by name, and per referenced model
    the ids of the records that exist among those the batch names."""

    by_name: dict[str, CustomField]
    existing: dict[str, set[int]] = field(default_factory=dict)


def _references(by_name: dict[str, CustomField], rows: Iterable[Any]) -> dict[str, set[int]]:
    """Of the ids the rows' references name, those that exist, per model: one query each."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if not isinstance(row, dict):
            continue
        for name, value in row.items():
            definition = by_name.get(name) if isinstance(name, str) else None
            if definition is None or definition.type != FieldType.REFERENCE:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
                wanted[definition.reference_model].add(value)
    return {
        label: set(
            apps.get_model(label)._base_manager.filter(pk__in=ids).values_list("pk", flat=True)
        )
        for label, ids in wanted.items()
    }


def _clean(facts: Facts, given: Any, *, partial: bool) -> tuple[dict, dict[str, list[str]]]:
    """``given`` cleaned against the definitions: (values, errors by ``custom_fields.<name>``).

    partial=False: ``given`` is a new record's whole object: a field left out takes its
    default, and a required one without either is refused. partial=True: ``given`` changes
    some fields of a stored object; only those are judged. Either way an empty value (null,
    "", []) means no value, refused for a required field, and an unknown name is refused.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(given, dict):
        return {}, {FIELD: [NOT_AN_OBJECT]}
    if len(given) > MAX_KEYS:
        return {}, {FIELD: [f"At most {MAX_KEYS} custom fields."]}
    cleaned: dict[str, Any] = {}
    for name, raw in given.items():
        definition = facts.by_name.get(name) if isinstance(name, str) else None
        key = f"{FIELD}.{str(name)[:60]}"
        if definition is None:
            errors[key] = [UNKNOWN]
            continue
        if values.is_empty(raw):
            if definition.required:
                errors[key] = [REQUIRED]
            cleaned[name] = None
            continue
        try:
            value = values.convert(definition, raw)
        except values.ValueRefused as exc:
            errors[key] = [exc.message]
            continue
        if definition.type == FieldType.REFERENCE and value not in facts.existing.get(
            definition.reference_model, ()
        ):
            what = definition.get_reference_model_display().lower()
            errors[key] = [f"No record of {what} has the id {value}."]
            continue
        cleaned[name] = value
    if not partial:
        for name, definition in facts.by_name.items():
            if name in given:
                continue
            if definition.default is not None:
                cleaned[name] = definition.default
            elif definition.required:
                errors[definition.key] = [REQUIRED]
    return cleaned, errors


def clean_values(model: type[models.Model], values_given: Any, *, partial: bool) -> dict:
    """The custom-field values ``values_given`` for a record of ``model``, validated and in
    their stored forms (an empty value is None: "remove"); raises ValidationError keyed
    ``custom_fields.<name>``. ``partial``: see ``_clean``. Reads the definitions and the
    records references name (one query each)."""
    by_name = {d.name: d for d in definitions(model)}
    facts = Facts(by_name=by_name, existing=_references(by_name, [values_given]))
    cleaned, errors = _clean(facts, values_given, partial=partial)
    if errors:
        raise ValidationError(errors)
    return cleaned


def merged(stored: dict | None, changes: dict, by_name: dict[str, CustomField]) -> dict:
    """The stored object with ``changes`` applied (None removes a key); keys no definition
    names any more are dropped."""
    result = {k: v for k, v in (stored or {}).items() if k in by_name}
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    # In the definitions' order, so an object reads the same every time it is shown.
    return {name: result[name] for name in by_name if name in result}


def rule_facts(model: type[models.Model]):
    def facts(changes: Sequence[Change]) -> Facts:
        by_name = {d.name: d for d in definitions(model)}
        rows = [change.row.get(FIELD) for change in changes]
        return Facts(by_name=by_name, existing=_references(by_name, rows))

    return facts


def custom_fields_rule(change: Change, facts: Facts) -> None:
    """The custom fields of a record written: a new record's object is judged whole, with
    the defaults; a stored record's is a patch over what it holds (the API sends the fields
    it changes, null to remove one), and only the values that differ from the stored ones
    are judged, so a value kept as it is stays valid when its definition changes."""
    given = change.row.get(FIELD)
    if given is None:
        given = {}
    if change.is_new:
        cleaned, errors = _clean(facts, given, partial=False)
        stored: dict = {}
    else:
        stored = (change.before or {}).get(FIELD) or {}
        if given == stored:
            return
        if isinstance(given, dict):
            given = {k: v for k, v in given.items() if k not in stored or stored[k] != v}
        cleaned, errors = _clean(facts, given, partial=True)
    for key, messages in errors.items():
        for message in messages:
            change.error(key, message)
    if not errors:
        change.row[FIELD] = merged(stored, cleaned, facts.by_name)


def connect() -> None:
    """Register the rule on every model that carries custom fields (called once, from the
    app's ready())."""
    for model in target_models():
        rules.add(model, rules.Rule(check=custom_fields_rule, facts=rule_facts(model)))


# --- Definitions -------------------------------------------------------------------------------


def records_with_values(definition: CustomField) -> models.QuerySet:
    """The records of the definition's model that hold a value for it (GIN: has_key)."""
    model = apps.get_model(definition.model)
    return model._base_manager.filter(**{f"{FIELD}__has_key": definition.name})


def save_custom_field(*, custom_field: CustomField) -> CustomField:
    """Create or change a definition. Its model and name, and its type, are kept once
    records hold values: the values would lose their field or their meaning."""
    if custom_field.pk is not None:
        stored = CustomField.objects.get(pk=custom_field.pk)
        moved = {
            name: label
            for name, label in (("model", "applies to"), ("name", "name"), ("type", "type"))
            if getattr(stored, name) != getattr(custom_field, name)
        }
        if moved and records_with_values(stored).exists():
            raise ValidationError(
                {
                    name: f"Records hold values of this field: its {label} cannot change."
                    for name, label in moved.items()
                }
            )
    if (
        CustomField.objects.filter(model=custom_field.model, name=custom_field.name)
        .exclude(pk=custom_field.pk)
        .exists()
    ):
        raise ValidationError({"name": "Another custom field of these records has this name."})
    forget_definitions()
    return rules.save_checked(custom_field, validate_unique=False)


def remove_custom_field(*, custom_field: CustomField) -> str:
    """Delete a definition and the values records hold for it, each record's removal in its
    history (the page asks first, saying how many records lose a value)."""
    model = apps.get_model(custom_field.model)
    holders = list(records_with_values(custom_field).only("pk", FIELD, *_name_fields(model)))
    changes = []
    for record in holders:
        before = dict(record.custom_fields)
        after = {k: v for k, v in before.items() if k != custom_field.name}
        changes.append(
            changelog.build(
                record, action=ChangeAction.UPDATE, before={FIELD: before}, after={FIELD: after}
            )
        )
    if holders:
        records_with_values(custom_field).update(
            custom_fields=Func(
                models.F(FIELD),
                Cast(Value(custom_field.name), models.TextField()),
                function="",
                arg_joiner=" - ",
                output_field=models.JSONField(),
            )
        )
        changelog.record_many(changes)
    custom_field.delete()
    forget_definitions()
    return "deleted"


def _name_fields(model: type[models.Model]) -> list[str]:
    """The fields a record's name is made of (its change record shows it)."""
    names = {f.name for f in model._meta.concrete_fields}
    return [name for name in ("name", "reference", "title") if name in names]


def value_count(custom_field: CustomField) -> int:
    return records_with_values(custom_field).count()
