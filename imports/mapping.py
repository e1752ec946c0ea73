"""From a sheet's columns to API items: which fields a column may fill (the resource's
writable field specs), guessing them from the headers, turning cells into the API's JSON
values, ordering sheets so that records come before those that refer to them, and telling
the engine's errors (``items.<i>.<field>``) as "row N, column <header>".

A field spec may offer ``import_targets() -> [(sub_key, label), …]`` for an object-valued
field (custom fields, translations): each sub-key is then a target of its own,
``<field>.<sub_key>``, and the columns mapped to them are nested into one object."""

import datetime
import re
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import models

from core.api.fields import RECORD
from core.api.fields import USER
from core.api.fields import FieldSpec
from core.api.resources import Resource
from core.api.resources import autodiscover
from imports.reading import Sheet

# The resources a file may hold, in the order they are offered.
IMPORTABLE = (
    "services",
    "specification-items",
    "customers",
    "subscriptions",
    "suppliers",
    "contracts",
    "applications",
    "cost-items",
    "measurements",
)
TRUE = frozenset({"true", "yes", "y", "1", "x", "ja", "oui", "wahr"})
FALSE = frozenset({"false", "no", "n", "0", "nee", "non", "falsch"})


class MappingRefused(Exception):
    """The mapping cannot be used; ``errors`` maps "<sheet>" to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The column mapping is not complete.")
        self.errors = errors


@dataclass(frozen=True)
class Target:
    """A field (or part of one) a column may fill."""

    name: str  # what the mapping stores: "owner", "service.source", "custom.colour"
    label: str
    field: str  # the API field of the item
    sub_key: str  # "" for the whole field, else the key in the field's object
    convert: Callable[[Any], Any]
    choices: tuple[str, ...] = ()
    required: bool = False


def resources() -> list[Resource]:
    return [resource for name in IMPORTABLE if (resource := autodiscover().get(name)) is not None]


def resource_label(resource: Resource) -> str:
    return str(resource.model._meta.verbose_name_plural).capitalize()


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


# --- cells to API values ------------------------------------------------------------------------


def cell_text(cell: Any) -> str:
    """A cell as text: whole numbers without ".0" (an id typed as 1001 stays "1001")."""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime.datetime):
        if cell.time() == datetime.time():
            return cell.date().isoformat()
        return cell.isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    return str(cell).strip()


def _choice_values(model_field) -> dict[str, Any]:
    """A choice's value by its normalised value and label: "Business critical" reads."""
    known: dict[str, Any] = {}
    for value, label in model_field.flatchoices:
        known.setdefault(normalise(str(value)), value)
        known.setdefault(normalise(str(label)), value)
    return known


def value_converter(spec: FieldSpec) -> Callable[[Any], Any]:
    model_field = spec.model_field
    choices = _choice_values(model_field) if getattr(model_field, "choices", None) else {}

    def as_choice(cell: Any, fallback: Any) -> Any:
        if choices:
            return choices.get(normalise(cell_text(cell)), fallback)
        return fallback

    if isinstance(model_field, models.BooleanField):

        def boolean(cell: Any) -> Any:
            if isinstance(cell, bool):
                return cell
            text = cell_text(cell).lower()
            return True if text in TRUE else False if text in FALSE else text

        return boolean
    if isinstance(model_field, models.DecimalField):

        def decimal(cell: Any) -> Any:
            if isinstance(cell, bool):
                return cell
            if isinstance(cell, int):
                return cell
            if isinstance(cell, float):
                return Decimal(repr(cell))
            return cell_text(cell)

        return decimal
    if isinstance(model_field, models.IntegerField):

        def integer(cell: Any) -> Any:
            if isinstance(cell, int) and not isinstance(cell, bool):
                return cell
            if isinstance(cell, float) and cell.is_integer():
                return int(cell)
            text = cell_text(cell)
            return as_choice(text, text)

        return integer
    if isinstance(model_field, models.DateTimeField):
        return lambda cell: (
            cell.isoformat() if isinstance(cell, datetime.datetime) else (cell_text(cell))
        )
    if isinstance(model_field, models.DateField):
        return cell_text
    return lambda cell: as_choice(cell, cell_text(cell))


def reference_converter(spec: FieldSpec) -> Callable[[Any], Any]:
    natural = spec.natural_key
    if natural is not None:
        monthly = tuple(natural.fields) == ("year", "month")

        def by_natural_key(cell: Any) -> Any:
            if monthly and isinstance(cell, datetime.date):
                return natural.format(cell.year, cell.month)
            return cell_text(cell)

        return by_natural_key
    return cell_text


def plain_json(cell: Any) -> Any:
    """A cell as a JSON value, for a part of an object-valued field."""
    if isinstance(cell, bool | int | str):
        return cell.strip() if isinstance(cell, str) else cell
    if isinstance(cell, float):
        return int(cell) if cell.is_integer() else cell
    return cell_text(cell)


def field_label(spec: FieldSpec) -> str:
    model_field = spec.model_field
    label = str(getattr(model_field, "verbose_name", "") or spec.name.replace("_", " "))
    return label[:1].upper() + label[1:]


def _part_value(reader: Callable[[str, Any], Any], key: str, cell: Any) -> Any:
    return reader(key, plain_json(cell))


def targets(resource: Resource) -> list[Target]:
    """Every target of ``resource``, in the order of its fields."""
    found: list[Target] = []
    for spec in resource.writable.values():
        if spec.name == "source":
            continue  # every item carries the run's source
        # An object-valued field (custom fields, translations) offers the parts a column may
        # fill; any other field is one column.
        offer = getattr(spec, "import_targets", None)
        if callable(offer) and isinstance(getattr(spec, "model_field", None), models.JSONField):
            # A part's cell is read as the field reads text (custom fields: "yes", "pci; sox").
            reader = getattr(spec, "import_value", None)
            for sub_key, label in offer():
                read_part: Callable[[Any], Any] = (
                    partial(_part_value, reader, sub_key) if callable(reader) else plain_json
                )
                found.append(
                    Target(f"{spec.name}.{sub_key}", str(label), spec.name, sub_key, read_part)
                )
            continue
        label = field_label(spec)
        if spec.kind == RECORD:
            convert = reference_converter(spec)
            if spec.natural_key is None:
                found.append(
                    Target(
                        spec.name,
                        f"{label} (its external id)",
                        spec.name,
                        "external_id",
                        convert,
                        required=spec.required,
                    )
                )
                found.append(
                    Target(
                        f"{spec.name}.source",
                        f"{label}: its source, when not this import's",
                        spec.name,
                        "source",
                        convert,
                    )
                )
            else:
                found.append(
                    Target(
                        spec.name,
                        f"{label} ({spec.natural_key.name}, such as {spec.natural_key.example})",
                        spec.name,
                        "",
                        convert,
                        required=spec.required,
                    )
                )
            continue
        if spec.kind == USER:
            found.append(
                Target(
                    spec.name,
                    f"{label} (username)",
                    spec.name,
                    "",
                    cell_text,
                    required=spec.required,
                )
            )
            continue
        if isinstance(spec.model_field, models.JSONField):
            continue  # a whole JSON value is no spreadsheet cell
        choices = tuple(str(value) for value, _ in (spec.model_field.flatchoices or ()))
        found.append(
            Target(
                spec.name,
                label if spec.name != "external_id" else "External id (the row's key)",
                spec.name,
                "",
                value_converter(spec),
                choices=choices if getattr(spec.model_field, "choices", None) else (),
                required=spec.required or spec.name == "external_id",
            )
        )
    return found


def targets_by_name(resource: Resource) -> dict[str, Target]:
    return {target.name: target for target in targets(resource)}


# --- guessing -----------------------------------------------------------------------------------


def guess_resource(sheet_name: str, headers: Iterable[str], *, only_sheet: bool) -> str:
    """The resource a sheet holds, by its name ("Specification items"), else (for a file of
    one sheet) by the headers that match a resource's fields best; "" when unsure."""
    wanted = normalise(sheet_name)
    for resource in resources():
        names = {
            normalise(resource.name),
            normalise(str(resource.model._meta.verbose_name)),
            normalise(str(resource.model._meta.verbose_name_plural)),
        }
        if wanted in names:
            return resource.name
    if not only_sheet:
        return ""
    best, score = "", 0
    headers = list(headers)
    for resource in resources():
        matched = sum(1 for column in guess_columns(resource, headers).values() if column)
        if matched > score:
            best, score = resource.name, matched
    return best


def aliases(target: Target) -> list[str]:
    names = [target.name, target.label, target.name.replace(".", " ")]
    if target.sub_key == "external_id":
        names += [f"{target.field} id", f"{target.field} external id"]
    if target.name == "external_id":
        names += ["id", "key", "external id"]
    if target.sub_key and target.sub_key != "external_id":
        names.append(target.sub_key)
    return names


def guess_columns(
    resource: Resource, headers: list[str], saved: Iterable[dict[str, str]] = ()
) -> dict[str, str]:
    """Column -> target name ("" for a column left out). A saved mapping that names the
    most of these columns comes first; the rest is guessed from the headers."""
    known = targets_by_name(resource)
    mapping = dict.fromkeys(headers, "")
    best = max(
        saved, key=lambda columns: sum(1 for h in headers if columns.get(h) in known), default={}
    )
    for header in headers:
        if best.get(header) in known:
            mapping[header] = best[header]
    by_alias: dict[str, str] = {}
    own = str(resource.model._meta.verbose_name)
    for target in known.values():
        for alias in aliases(target):
            by_alias.setdefault(normalise(alias), target.name)
            by_alias.setdefault(normalise(f"{own} {alias}"), target.name)  # "Service kind"
    taken = {name for name in mapping.values() if name}
    for header in headers:
        if mapping[header]:
            continue
        guessed = by_alias.get(normalise(header), "")
        if guessed and guessed not in taken:
            mapping[header] = guessed
            taken.add(guessed)
    return mapping


def check_mapping(resource: Resource, headers: list[str], mapping: dict[str, str]) -> list[str]:
    """What is wrong with a sheet's mapping: unknown targets, a target twice, no key."""
    known = targets_by_name(resource)
    problems = []
    used: dict[str, str] = {}
    for header in headers:
        target = mapping.get(header, "")
        if not target:
            continue
        if target not in known:
            problems.append(
                f"Column “{header}”: {resource_label(resource)} have no field {target}."
            )
        elif target in used:
            problems.append(
                f"Columns “{used[target]}” and “{header}” both fill {known[target].label}."
            )
        else:
            used[target] = header
    if "external_id" not in used:
        problems.append(
            "Map a column to External id: it is each row's key, so that importing the file "
            "again updates the same records."
        )
    return problems


# --- rows to items ------------------------------------------------------------------------------


def build_items(resource: Resource, sheet: Sheet, mapping: dict[str, str]) -> list[dict]:
    """One API item per row; an empty cell is a field not given."""
    known = targets_by_name(resource)
    plan = [
        (index, known[mapping[header]])
        for index, header in enumerate(sheet.headers)
        if mapping.get(header) in known
    ]
    items = []
    for _number, cells in sheet.rows:
        item: dict[str, Any] = {}
        for index, target in plan:
            cell = cells[index]
            if cell is None:
                continue
            value = target.convert(cell)
            if target.sub_key:
                part = item.setdefault(target.field, {})
                if isinstance(part, dict):
                    part[target.sub_key] = value
            else:
                item[target.field] = value
        items.append(item)
    return items


def dependency_order(resource_names: list[str]) -> list[str]:
    """The resources ordered so that each comes after those it refers to (services before
    their items), else in the order given."""
    chosen = [autodiscover()[name] for name in resource_names]
    models_of = {resource.model: resource.name for resource in chosen}
    needs = {
        resource.name: {
            models_of[spec.related_model]
            for spec in resource.writable.values()
            if spec.kind == RECORD
            and spec.related_model in models_of
            and models_of[spec.related_model] != resource.name
        }
        for resource in chosen
    }
    ordered: list[str] = []
    while len(ordered) < len(chosen):
        ready = [
            name for name in resource_names if name not in ordered and needs[name] <= set(ordered)
        ]
        if not ready:  # a circle: keep the given order for the rest
            ready = [name for name in resource_names if name not in ordered]
        ordered.append(ready[0])
    return ordered


# --- errors in the file's terms -----------------------------------------------------------------


def locate(
    path: str, sheet: Sheet, mapping: dict[str, str], resource: Resource
) -> tuple[int | None, str]:
    """(row number in the file, column header) of an engine error path ``items.<i>.<field>``;
    the column is "" when no column fills the field (a required field left out)."""
    parts = path.split(".")
    if len(parts) < 2 or parts[0] != "items" or not parts[1].isdigit():
        return None, ""
    index = int(parts[1])
    row = sheet.rows[index][0] if index < len(sheet.rows) else None
    if len(parts) < 3:
        return row, ""
    field_name = parts[2]
    sub_key = parts[3] if len(parts) > 3 else ""
    known = targets_by_name(resource)
    columns = [
        header
        for header in sheet.headers
        if (target := known.get(mapping.get(header, ""))) is not None and target.field == field_name
    ]
    exact = [h for h in columns if sub_key and known[mapping[h]].sub_key == sub_key]
    return row, (exact or columns or [""])[0]


def field_label_of(resource: Resource, field_name: str) -> str:
    spec = resource.writable.get(field_name)
    return field_label(spec) if spec is not None else field_name
