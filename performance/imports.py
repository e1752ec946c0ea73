"""CSV import of figures, through the measurements resource's bulk sync: the same reading of
each field, the same rules and rights, and the same change records as the API.

Columns (a header row; column order free): ``external_id``, ``item`` or ``outcome`` (the
external id of the item or outcome, within ``item_source``/``outcome_source`` or else the
import's source), ``start``, ``end`` (YYYY-MM-DD), ``value``, and optionally ``note``.
"""

import csv
import io
from dataclasses import dataclass

from django.db import transaction

from core.api.errors import ApiError
from core.api.resources import autodiscover
from core.api.sync import MAX_ITEMS
from core.api.sync import UPSERT
from core.api.sync import sync

REQUIRED = ("external_id", "start", "end", "value")
KNOWN = (*REQUIRED, "item", "outcome", "item_source", "outcome_source", "note")


class ImportRefused(Exception):
    """The file was refused, nothing written: ``errors`` by line and column."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _reference(row: dict, name: str) -> dict | None:
    external_id = (row.get(name) or "").strip()
    if not external_id:
        return None
    reference = {"external_id": external_id}
    source = (row.get(f"{name}_source") or "").strip()
    if source:
        reference["source"] = source
    return reference


def read_rows(text: str) -> list[dict]:
    """The file's rows as sync items (raw values: the sync reads and checks them)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportRefused(f"The header lacks the column{'s' * (len(missing) > 1)} "
                            f"{', '.join(missing)}.")  # fmt: skip
    unknown = [name for name in columns if name not in KNOWN]
    if unknown:
        raise ImportRefused(
            f"Unknown column {', '.join(unknown)}; the columns are {', '.join(KNOWN)}."
        )
    items = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise ImportRefused(f"Line {line} has more values than the header.")
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        item = {name: row[name] for name in REQUIRED}
        if row.get("note"):
            item["note"] = row["note"]
        for name in ("item", "outcome"):
            reference = _reference(row, name)
            if reference is not None:
                item[name] = reference
        items.append(item)
    return items


def line_errors(errors: dict[str, list[str]], first_index: int) -> dict[str, list[str]]:
    """Sync errors by item path (``items.3.value``) as file lines and columns (``line 5,
    value``): the header is line 1."""
    by_line = {}
    for path, messages in errors.items():
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit():
            line = first_index + int(parts[1]) + 2
            where = f"line {line}" + (f", {'.'.join(parts[2:])}" if len(parts) > 2 else "")
        else:
            where = path
        by_line[where] = messages
    return by_line


def import_measurements(*, text: str, user, source: str) -> ImportResult:
    """Upsert the file's figures under ``source`` in batches of the sync's size, all in one
    transaction: a bad row anywhere refuses the whole file."""
    items = read_rows(text)
    if not items:
        raise ImportRefused("The file has no rows below its header.")
    resource = autodiscover()["measurements"]
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for first in range(0, len(items), MAX_ITEMS):
            batch = items[first : first + MAX_ITEMS]
            try:
                answer = sync(resource, user=user, source=source, mode=UPSERT, items=batch)
            except ApiError as error:
                raise ImportRefused(str(error.detail), line_errors(error.errors, first)) from None
            for outcome in answer["items"]:
                counts[outcome["outcome"]] = counts.get(outcome["outcome"], 0) + 1
    return ImportResult(**counts)
