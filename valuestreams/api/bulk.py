"""The rules of valuestreams.services in bulk form, for the sync engine (core.api.sync).

Each ``prepare_*`` function gets a Batch whose entries carry merged rows (attnames as keys)
and applies to all of them at once what the matching ``save_*`` function does to one record,
with a constant number of queries. The model's own ``clean()`` runs afterwards on every new or
changed row (a stage's time units, a done improvement's measures, an improvement's stage in
its stream), so those rules are not repeated here.

A process's CEMM layer follows from the Moments of Truth of its stages and its connections
(services.recompute_process_layers). The engine writes rows in bulk, without the services'
saves: valuestreams.signals re-layers every process when a sync of stages, processes or
connections has written rows, in the batch's transaction.
"""

from django.db.models import Max, Q

from valuestreams import services
from valuestreams.choices import ImprovementStatus
from valuestreams.models import Process, ProcessConnection, Stage, StageApplication, StageService

MEASURES = ("measured_before", "measured_after")
MEASURED_ONLY_WHEN_DONE = (
    "Measured results belong to done improvements: set the status to done, or leave it out."
)


# --- Stages -------------------------------------------------------------------------------------


def prepare_stages(batch) -> None:
    """save_stage: process time within lead time (refused under the API's field name); a stage
    stays in its value stream; add_stage: a new stage goes to the end of its stream."""
    entries = batch.valid_entries()
    for entry in entries:
        row = entry.row
        if row["process_time_minutes"] > row["lead_time_minutes"]:
            batch.error(
                entry, "process_time_minutes", "Process time cannot be longer than lead time."
            )
        if not entry.is_new and row["value_stream_id"] != entry.existing["value_stream_id"]:
            batch.error(
                entry,
                "value_stream",
                "A stage stays in its value stream: add a stage to the other one.",
            )
    new = [e for e in batch.valid_entries() if e.is_new]
    if new:
        last = dict(
            Stage.objects.filter(value_stream_id__in={e.row["value_stream_id"] for e in new})
            .values("value_stream_id")
            .annotate(last=Max("position"))
            .order_by()
            .values_list("value_stream_id", "last")
        )
        for entry in new:
            stream = entry.row["value_stream_id"]
            position = 0 if last.get(stream) is None else last[stream] + 1
            entry.row["position"] = last[stream] = position


# --- What underpins a stage ---------------------------------------------------------------------


def _prepare_links(batch, model) -> None:
    """services.save_stage_service / save_stage_application: a retired service or application
    is linked to no new stage."""
    target = services.LINK_TARGETS[model][0]
    attname = f"{target}_id"
    related_model = model._meta.get_field(target).related_model
    for entry in batch.valid_entries():
        if entry.is_new or entry.row[attname] != entry.existing[attname]:
            row = batch.related(related_model, entry.row[attname])
            problem = services.link_target_error(model, row) if row is not None else None
            if problem:
                batch.error(entry, target, problem)


def prepare_stage_services(batch) -> None:
    """save_stage_service: a retired service underpins no new stage."""
    _prepare_links(batch, StageService)


def prepare_stage_applications(batch) -> None:
    """save_stage_application: a retired application supports no new stage."""
    _prepare_links(batch, StageApplication)


# --- Processes ----------------------------------------------------------------------------------


def prepare_processes(batch) -> None:
    """save_process: activities stripped, blank ones dropped; a process that changes value
    stream keeps only the stages of its new stream (none without a stream)."""
    entries = batch.valid_entries()
    for entry in entries:
        activities = entry.row["activities"]
        if isinstance(activities, list):
            entry.row["activities"] = [
                a.strip() for a in activities if isinstance(a, str) and a.strip()
            ]
    moved = [
        e
        for e in entries
        if not e.is_new and e.row["value_stream_id"] != e.existing["value_stream_id"]
    ]
    if moved:
        condition = Q(pk__in=[])
        for entry in moved:
            foreign = Q(process_id=entry.existing["id"])
            if entry.row["value_stream_id"] is not None:
                foreign &= ~Q(stage__value_stream_id=entry.row["value_stream_id"])
            condition |= foreign
        # Written in the batch's transaction: a batch refused later takes this back too.
        Process.stages.through.objects.filter(condition).delete()


def prepare_connections(batch) -> None:
    """save_connection: not to itself, each pair once in either direction."""
    entries = batch.valid_entries()
    for entry in entries:
        if entry.row["process_id"] == entry.row["connected_to_id"]:
            batch.error(entry, "connected_to", "A process cannot be connected to itself.")
    entries = batch.valid_entries()
    pairs: dict[frozenset, object] = {}
    for entry in entries:
        pair = frozenset((entry.row["process_id"], entry.row["connected_to_id"]))
        if pair in pairs:
            batch.error(
                entry,
                "connected_to",
                f"Item {pairs[pair].index} connects the same two processes.",
            )
        else:
            pairs[pair] = entry
    reversed_new = {
        (e.row["connected_to_id"], e.row["process_id"]): e
        for e in batch.valid_entries()
        if e.is_new
    }
    if reversed_new:
        condition = Q(pk__in=[])
        for process_id, connected_to_id in reversed_new:
            condition |= Q(process_id=process_id, connected_to_id=connected_to_id)
        for process_id, connected_to_id in ProcessConnection.objects.filter(condition).values_list(
            "process_id", "connected_to_id"
        ):
            batch.error(
                reversed_new[(process_id, connected_to_id)],
                "connected_to",
                "These two processes are already connected, in the other direction: send "
                f"process {process_id} and connected_to {connected_to_id}.",
            )


# --- Improvements -------------------------------------------------------------------------------


def measure_errors(row: dict, stored: dict | None) -> dict[str, str]:
    """save_improvement keeps measured results on done items only, and an item moved back
    loses them. Through the API a measure sent for an item that is not done would be lost
    without a word: it is refused instead (a stored one is still cleared)."""
    if row["status"] == ImprovementStatus.DONE:
        return {}
    errors = {}
    for name in MEASURES:
        if row[name] is not None and row[name] != (stored[name] if stored else None):
            errors[name] = MEASURED_ONLY_WHEN_DONE
        row[name] = None
    return errors


def prepare_improvements(batch) -> None:
    """save_improvement: measured results on done items only."""
    for entry in batch.valid_entries():
        for name, message in measure_errors(entry.row, entry.existing).items():
            batch.error(entry, name, message)
