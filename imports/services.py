"""Writes of the imports app: a run is started from an uploaded file, mapped, previewed and
committed. Preview and commit go through the API's sync engine (core.api.sync.sync_many),
so an import applies the same field checks, rights and write rules as the API, the browser
and a CMDB sync; the commit writes every sheet or none, under the change log channel
``import``."""

import datetime
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.db import connections
from django.db import transaction
from django.utils import timezone

from core.api import sync
from core.api.errors import ApiError
from core.api.resources import autodiscover
from core.choices import Channel
from finance.services.outbox import queue_task
from imports import mapping as mappings
from imports.choices import WORKING
from imports.choices import RunMode
from imports.choices import RunState
from imports.models import ColumnMapping
from imports.models import ImportRun
from imports.reading import FileRefused
from imports.reading import Sheet
from imports.reading import read_file
from notifications.choices import EventKind
from notifications.detection import Event
from notifications.services import record_events

logger = logging.getLogger(__name__)

PREVIEW_TASK = "imports.tasks.preview_run"
COMMIT_TASK = "imports.tasks.commit_run"
# Retirements listed by name in a preview; the count is always complete.
RETIREMENTS_SHOWN = 500
EXAMPLE_ROWS = 3


class RunRefused(ValidationError):
    """The run cannot go on as asked; ``problems`` by where (a sheet's name, or "")."""

    def __init__(self, message: str, problems: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.problems = problems or {}


# --- starting and mapping ---------------------------------------------------------------------


def start_run(
    *,
    user: User,
    filename: str,
    content: bytes,
    content_type: str = "",
    source: str,
    mode: str = RunMode.UPSERT,
) -> ImportRun:
    """Keep the uploaded file with a new run and guess each sheet's resource and columns
    (the user's saved mappings first). Raises FileRefused for a file that cannot be read."""
    sheets = read_file(filename, content, header_only=True)
    saved: dict[str, list[dict]] = {}
    for resource_name, columns in ColumnMapping.objects.filter(user=user).values_list(
        "resource", "columns"
    ):
        saved.setdefault(resource_name, []).append(columns)
    described = []
    for sheet in sheets:
        resource_name = mappings.guess_resource(
            sheet.name, sheet.headers, only_sheet=len(sheets) == 1
        )
        columns = (
            mappings.guess_columns(
                autodiscover()[resource_name], sheet.headers, saved.get(resource_name, ())
            )
            if resource_name
            else dict.fromkeys(sheet.headers, "")
        )
        described.append(
            {
                "sheet": sheet.name,
                "resource": resource_name,
                "headers": sheet.headers,
                "mapping": columns,
                "examples": [
                    [mappings.cell_text(cell) if cell is not None else "" for cell in cells]
                    for _number, cells in sheet.rows[:EXAMPLE_ROWS]
                ],
            }
        )
    return ImportRun.objects.create(
        user=user,
        filename=filename[:255],
        content_type=content_type[:100],
        content=content,
        size=len(content),
        source=source,
        mode=mode,
        sheets=described,
    )


def map_and_preview(
    *,
    run: ImportRun,
    choices: list[dict[str, Any]],
    mode: str,
    allow_mass_retire: bool = False,
    save_as: str = "",
) -> ImportRun:
    """Take the user's mapping (``choices``: per sheet, its ``resource`` or "" to leave it
    out, and its ``mapping`` {column: target}), save it under ``save_as`` if named, and
    queue the preview. Raises RunRefused naming each sheet's problems."""
    if run.state not in (RunState.UPLOADED, RunState.PREVIEWED, RunState.FAILED):
        raise RunRefused("This import is busy or already committed.")
    errors: dict[str, list[str]] = {}
    sheets = []
    for sheet, chosen in zip(run.sheets, choices, strict=True):
        resource_name = chosen.get("resource") or ""
        columns = {h: chosen.get("mapping", {}).get(h, "") for h in sheet["headers"]}
        sheets.append({**sheet, "resource": resource_name, "mapping": columns})
        if not resource_name:
            continue
        if resource_name not in mappings.IMPORTABLE or autodiscover().get(resource_name) is None:
            errors.setdefault(sheet["sheet"], []).append("Choose what this sheet holds.")
            continue
        problems = mappings.check_mapping(autodiscover()[resource_name], sheet["headers"], columns)
        if problems:
            errors.setdefault(sheet["sheet"], []).extend(problems)
    chosen_resources = [s["resource"] for s in sheets if s["resource"]]
    if not chosen_resources and not errors:
        errors[""] = ["Choose what at least one sheet holds."]
    if len(chosen_resources) != len(set(chosen_resources)):
        errors.setdefault("", []).append("Two sheets hold the same kind of record: one each.")
    run.sheets = sheets
    run.mode = mode
    run.allow_mass_retire = allow_mass_retire
    if errors:
        run.save(update_fields=["sheets", "mode", "allow_mass_retire", "updated_at"])
        raise RunRefused("The column mapping is not complete.", errors)
    if save_as:
        for sheet in sheets:
            if sheet["resource"]:
                ColumnMapping.objects.update_or_create(
                    user=run.user,
                    name=save_as,
                    resource=sheet["resource"],
                    defaults={"columns": {h: t for h, t in sheet["mapping"].items() if t}},
                )
    _start(run, RunState.PREVIEWING, PREVIEW_TASK)
    return run


def request_commit(*, run: ImportRun) -> ImportRun:
    """Queue the commit of a run whose preview found no error."""
    if run.state != RunState.PREVIEWED:
        raise RunRefused("Only a previewed import can be committed.")
    if (run.preview or {}).get("errors"):
        raise RunRefused("The preview found errors: correct the file and upload it again.")
    _start(run, RunState.COMMITTING, COMMIT_TASK)
    return run


def _start(run: ImportRun, state: str, task: str) -> None:
    run.state = state
    run.progress_done = 0
    run.progress_total = 0
    run.progress_step = "Waiting for a worker"
    run.error = ""
    run.save()
    queue_task(task=task, args=[run.pk])


# --- the work (tasks) ---------------------------------------------------------------------------


class Progress:
    """Writes a run's progress on a database connection of its own, so that its page sees
    it while the import's own transaction is still open."""

    def __init__(self, run: ImportRun):
        self.run_id = run.pk
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        self.base = 0
        self.total = 0

    def step(self, text: str, *, done: int = 0, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self._write(done, text)

    def sheet(self, base: int, label: str) -> Any:
        """The engine's ``progress(done, total)`` for one sheet, counted over the file."""
        self.base = base

        def report(done: int, total: int) -> None:
            self._write(self.base + done, f"{label}: {done} of {total} rows")

        return report

    def _write(self, done: int, text: str) -> None:
        # updated_at moves with the progress: a run that stops moving is stale (fail_stale_runs).
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportRun._meta.db_table} SET progress_done = %s, "
                "progress_total = %s, progress_step = %s, updated_at = %s WHERE id = %s",
                [done, self.total, text[:200], timezone.now(), self.run_id],
            )

    def close(self) -> None:
        self.connection.close()


def _sheets_to_sync(run: ImportRun) -> list[tuple[dict, Sheet]]:
    """The mapped sheets of the run's file, read in full, in dependency order."""
    by_name = {sheet.name: sheet for sheet in read_file(run.filename, bytes(run.content))}
    chosen = {s["resource"]: s for s in run.sheets if s.get("resource")}
    ordered = mappings.dependency_order(list(chosen))
    pairs = []
    for resource_name in ordered:
        described = chosen[resource_name]
        sheet = by_name.get(described["sheet"])
        if sheet is None:
            raise FileRefused(f"The file has no sheet “{described['sheet']}” any more.")
        pairs.append((described, sheet))
    return pairs


def _errors(exc: ApiError, described: dict, sheet: Sheet) -> list[dict]:
    """The engine's errors of one sheet, each as row, column and message."""
    resource = autodiscover()[described["resource"]]
    if exc.default_code == "mass_retire":
        told = " ".join(m for messages in exc.errors.values() for m in messages)
        return [
            {
                "sheet": described["sheet"],
                "row": None,
                "column": "",
                "message": f"This full import would retire too many records: {told} If the "
                "file is complete, allow retiring more than a fifth and preview again.",
            }
        ]
    found = []
    for path, messages in exc.errors.items():
        row, column = mappings.locate(path, sheet, described["mapping"], resource)
        parts = path.split(".")
        if row is not None and not column and len(parts) > 2:
            field = mappings.field_label_of(resource, parts[2])
            messages = [f"{field}: {message} (no column fills it)" for message in messages]
        for message in messages:
            found.append(
                {"sheet": described["sheet"], "row": row, "column": column, "message": message}
            )
    if not found:
        found.append(
            {"sheet": described["sheet"], "row": None, "column": "", "message": str(exc.detail)}
        )
    found.sort(key=lambda error: (error["row"] or 0, error["column"]))
    return found


def _run_sheets(run: ImportRun, progress: Progress, *, preview: bool) -> dict:
    """Sync every mapped sheet in order, inside the caller's transaction; the outcome per
    sheet and every error. In a preview, a sheet that a later sheet refers to is written
    (the caller rolls it all back) so that the later one finds its records; the others are
    the engine's dry runs."""
    progress.step("Reading the file")
    pairs = _sheets_to_sync(run)
    total = sum(len(sheet.rows) for _, sheet in pairs)
    progress.step("Reading the file", total=total)
    outcome: dict[str, Any] = {"sheets": [], "errors": []}
    base = 0
    for position, (described, sheet) in enumerate(pairs):
        resource = autodiscover()[described["resource"]]
        label = mappings.resource_label(resource)
        items = mappings.build_items(resource, sheet, described["mapping"])
        later_needs_it = any(
            spec.related_model is resource.model
            for later, _ in pairs[position + 1 :]
            for spec in autodiscover()[later["resource"]].writable.values()
        )
        summary: dict[str, Any] = {
            "sheet": described["sheet"],
            "resource": resource.name,
            "label": label,
            "rows": len(items),
            "counts": None,
            "retirements": [],
            "retired_total": 0,
        }
        try:
            answer = sync.sync_many(
                resource,
                user=run.user,
                source=run.source,
                mode=run.mode,
                items=items,
                allow_mass_retire=run.allow_mass_retire,
                dry_run=preview and not later_needs_it,
                channel=Channel.IMPORT,
                progress=progress.sheet(base, label),
            )
        except ApiError as exc:
            summary["problem"] = str(exc.detail)
            outcome["errors"] += _errors(exc, described, sheet)
        else:
            summary["counts"] = {
                name: answer.get(name, 0)
                for name in ("created", "updated", "unchanged", "retired", "deleted")
            }
            retirements = answer.get("retirements", [])
            summary["retired_total"] = len(retirements)
            summary["retirements"] = [
                {
                    "id": r["id"],
                    "external_id": r.get("key", {}).get("external_id", ""),
                    "outcome": r["outcome"],
                }
                for r in retirements[:RETIREMENTS_SHOWN]
            ]
        outcome["sheets"].append(summary)
        base += len(items)
        progress.step(f"{label}: checked", done=base)
    return outcome


def preview(*, run: ImportRun) -> ImportRun:
    """Rehearse the import and keep what it would do; nothing is written."""
    progress = Progress(run)
    try:
        with transaction.atomic():
            outcome = _run_sheets(run, progress, preview=True)
            transaction.set_rollback(True)
    except FileRefused as exc:
        return _fail(run, str(exc))
    finally:
        progress.close()
    run.preview = outcome
    run.state = RunState.PREVIEWED
    run.previewed_at = timezone.now()
    run.progress_done = run.progress_total = sum(s["rows"] for s in outcome["sheets"])
    run.progress_step = "Preview ready"
    run.save()
    errors = len(outcome["errors"])
    _tell(
        run,
        f"Import preview ready: {run.filename}",
        f"{errors} error{'s' if errors != 1 else ''} found; nothing is written until you commit."
        if errors
        else "No errors: the import is ready to commit.",
    )
    return run


def commit(*, run: ImportRun) -> ImportRun:
    """Write every sheet or none, through the sync engine under the channel ``import``."""
    progress = Progress(run)
    try:
        with transaction.atomic():
            outcome = _run_sheets(run, progress, preview=False)
            if outcome["errors"]:
                transaction.set_rollback(True)
            else:
                run.result = outcome
                run.state = RunState.COMMITTED
                run.committed_at = timezone.now()
                run.progress_step = "Committed"
                run.progress_done = run.progress_total = sum(s["rows"] for s in outcome["sheets"])
                run.save()
    except FileRefused as exc:
        return _fail(run, str(exc))
    finally:
        progress.close()
    if outcome["errors"]:
        # The data changed since the preview: keep the new errors in place of its answer.
        run.preview = outcome
        return _fail(run, "The commit found errors: nothing was written.")
    _tell(run, f"Import committed: {run.filename}", _counts_sentence(outcome))
    return run


def _fail(run: ImportRun, message: str) -> ImportRun:
    run.state = RunState.FAILED
    run.error = message
    run.progress_step = "Failed"
    run.save()
    _tell(run, f"Import failed: {run.filename}", message)
    return run


def fail_unexpectedly(*, run: ImportRun, exc: BaseException) -> None:
    """A task's last word on a run it could not finish (the error is logged in full)."""
    logger.exception("Import run %s failed", run.pk, exc_info=exc)
    _fail(
        run,
        f"The import stopped on an unexpected error ({type(exc).__name__}); nothing was written.",
    )


def stale_message(minutes: int) -> str:
    return (
        f"The import made no progress for {minutes} minutes: the worker running it stopped "
        "(or none took it). Nothing was written; start it again."
    )


def fail_stale_runs(*, now: datetime.datetime | None = None) -> int:
    """Mark failed every run previewing or committing that has made no progress for
    PORTICO_IMPORT_STALE_MINUTES (its worker died: nothing else would ever end it), telling
    its user as any failure does; the number failed. A commit is one transaction, so a run
    whose worker died wrote nothing. A run a task is finishing right now (its row locked) is
    left to it."""
    now = now or timezone.now()
    minutes = settings.PORTICO_IMPORT_STALE_MINUTES
    limit = now - datetime.timedelta(minutes=minutes)
    failed = 0
    with transaction.atomic():
        stale = list(
            ImportRun.objects.select_for_update(skip_locked=True)
            .filter(state__in=WORKING, updated_at__lt=limit)
            .order_by("pk")
        )
        for run in stale:
            logger.warning(
                "Import run %s made no progress since %s: failed", run.pk, run.updated_at
            )
            _fail(run, stale_message(minutes))
            failed += 1
    return failed


def _counts_sentence(outcome: dict) -> str:
    parts = []
    for summary in outcome["sheets"]:
        counts = summary["counts"] or {}
        parts.append(
            f"{summary['label']}: {counts.get('created', 0)} created, "
            f"{counts.get('updated', 0)} updated, {counts.get('unchanged', 0)} unchanged, "
            f"{counts.get('retired', 0) + counts.get('deleted', 0)} retired."
        )
    return " ".join(parts)


def _tell(run: ImportRun, subject: str, body: str) -> None:
    record_events(
        [
            Event(
                kind=EventKind.IMPORT,
                key=f"import:{run.pk}:{run.state}:{timezone.now().timestamp()}",
                recipients=frozenset({run.user_id}),
                subject=subject,
                body=body,
                path=run.get_absolute_url(),
            )
        ]
    )


def choose_resources(*, run: ImportRun, chosen: list[str]) -> ImportRun:
    """Say what each sheet holds; the columns of a sheet whose resource changed are guessed
    again for it (the user's saved mappings first)."""
    if run.state not in (RunState.UPLOADED, RunState.PREVIEWED, RunState.FAILED):
        raise RunRefused("This import is busy or already committed.")
    sheets = []
    for sheet, resource_name in zip(run.sheets, chosen, strict=True):
        if resource_name not in mappings.IMPORTABLE or autodiscover().get(resource_name) is None:
            resource_name = ""
        if resource_name != sheet.get("resource"):
            saved = ColumnMapping.objects.filter(user=run.user, resource=resource_name)
            columns = (
                mappings.guess_columns(
                    autodiscover()[resource_name],
                    sheet["headers"],
                    saved.values_list("columns", flat=True),
                )
                if resource_name
                else dict.fromkeys(sheet["headers"], "")
            )
            sheet = {**sheet, "resource": resource_name, "mapping": columns}
        sheets.append(sheet)
    run.sheets = sheets
    run.save(update_fields=["sheets", "updated_at"])
    return run
