"""Writes and workflows of value streams: the one place their business rules live.

Every function here may be called by a view, the API or a task; callers wrap them in a
transaction (the generic views and the API base do).
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max, Q
from django.utils import timezone

from core import roles
from core.permissions import can, perm_name
from core.services import delete_or_retire
from core.slugs import unique_slug
from portfolio.choices import ServiceLifecycle
from valuestreams.choices import ImprovementStatus, ProcessLayer, StreamState, TimeUnit
from valuestreams.models import (
    Improvement,
    Process,
    ProcessConnection,
    Stage,
    StageApplication,
    StageService,
    ValueStream,
)


def _validate(instance, *, covered: Iterable[str] = ()) -> None:
    """full_clean, leaving out the database constraints on ``covered`` fields: clean() and the
    field validators already report those beside the field, and the database still enforces
    them."""
    instance.full_clean(validate_constraints=False)
    instance.validate_constraints(exclude=set(covered))


# --- Durations ---------------------------------------------------------------------------------


def normalise_duration(*, value: Decimal, unit: str) -> Decimal:
    """A time entered in ``unit`` (minutes, hours or working days) as minutes."""
    if unit not in TimeUnit.values:
        raise ValidationError({"unit": f"Choose minutes, hours or days, not “{unit}”."})
    if value is None:
        raise ValidationError("Give a time.")
    value = Decimal(value)
    if value < 0:
        raise ValidationError("A time cannot be negative.")
    return value * TimeUnit(unit).minutes


# --- Value streams -----------------------------------------------------------------------------


def save_value_stream(*, value_stream: ValueStream, user=None) -> ValueStream:
    """Create or update a value stream.

    A value-stream owner who creates a stream without naming an owner becomes its owner.
    """
    if not value_stream.slug:
        value_stream.slug = unique_slug(ValueStream, value_stream.name, instance_pk=value_stream.pk)
    if (
        value_stream.pk is None
        and value_stream.owner_id is None
        and user is not None
        and user.groups.filter(name=roles.VALUE_STREAM_OWNER).exists()
    ):
        value_stream.owner = user
    _validate(value_stream, covered=("state", "current_state"))
    value_stream.save()
    return value_stream


def future_state_of(*, current: ValueStream, name: str = "", owner=None) -> ValueStream:
    """A future-state variant of ``current``, not yet saved: its name (by default the current
    state's, marked as the future state), owner (by default the current state's), customer,
    experience, trigger and result."""
    if current.state != StreamState.CURRENT:
        raise ValidationError("A future state improves a current state, not another plan.")
    return ValueStream(
        name=name or f"{current.name} (future state)",
        description=current.description,
        owner=owner or current.owner,
        customer=current.customer,
        segment=current.segment,
        experience=current.experience,
        trigger=current.trigger,
        result=current.result,
        state=StreamState.FUTURE,
        current_state=current,
    )


def create_future_state(*, current: ValueStream, name: str = "", owner=None) -> ValueStream:
    """A future-state variant of ``current``: a copy of its stages to redesign."""
    future = future_state_of(current=current, name=name, owner=owner)
    save_value_stream(value_stream=future)
    stages = current.stages.prefetch_related("service_links", "application_links").order_by(
        "position", "id"
    )
    for stage in stages:
        copy = Stage(
            value_stream=future,
            position=stage.position,
            name=stage.name,
            responsible_party=stage.responsible_party,
            process_time_minutes=stage.process_time_minutes,
            process_time_unit=stage.process_time_unit,
            lead_time_minutes=stage.lead_time_minutes,
            lead_time_unit=stage.lead_time_unit,
            complete_accurate=stage.complete_accurate,
            value_class=stage.value_class,
            moment_of_truth=stage.moment_of_truth,
        )
        copy.save()
        service_ids = [link.service_id for link in stage.service_links.all()]
        _set_links(copy, StageService, service_ids, copied=True)
        application_ids = [link.application_id for link in stage.application_links.all()]
        _set_links(copy, StageApplication, application_ids, copied=True)
    return future


def remove_value_stream(*, value_stream: ValueStream) -> str:
    """Delete a stream nothing refers to; retire one with processes, improvements or future
    states. Returns "deleted" or "retired"."""
    outcome = delete_or_retire(value_stream, parts=(Stage,))
    if outcome == "deleted":
        recompute_process_layers()
    return outcome


# --- Stages ------------------------------------------------------------------------------------


def _renumber(value_stream_id: int) -> None:
    stages = Stage.objects.filter(value_stream_id=value_stream_id).order_by("position", "id")
    for position, stage in enumerate(stages):
        if stage.position != position:
            stage.position = position
            stage.save(update_fields=["position", "updated_at"])


def add_stage(*, stage: Stage, services=None, applications=None) -> Stage:
    """Add a stage at the end of its value stream."""
    last = Stage.objects.filter(value_stream_id=stage.value_stream_id).aggregate(
        last=Max("position")
    )["last"]
    stage.position = 0 if last is None else last + 1
    return save_stage(stage=stage, services=services, applications=applications)


def save_stage(*, stage: Stage, services=None, applications=None) -> Stage:
    """Save a stage and what underpins it; a changed Moment of Truth re-layers the processes.
    A stage stays in the value stream it was added to."""
    stored = (
        Stage.objects.filter(pk=stage.pk).values("moment_of_truth", "value_stream_id").first()
        if stage.pk
        else None
    )
    if stored and stored["value_stream_id"] != stage.value_stream_id:
        raise ValidationError(
            {"value_stream": "A stage stays in its value stream: add a stage to the other one."}
        )
    was_moment = bool(stored and stored["moment_of_truth"])
    _validate(stage, covered=("process_time_minutes", "lead_time_minutes", "complete_accurate"))
    stage.save()
    set_stage_links(stage=stage, services=services, applications=applications)
    if was_moment != stage.moment_of_truth:
        recompute_process_layers()
    return stage


# What each kind of link joins a stage to, and when that record is retired, read from its field
# values (a record's or a sync row's): it is then linked to no new stage (what is linked
# already stays, until someone unlinks it). valuestreams.api.bulk applies the same to a batch.
LINK_TARGETS = {
    StageService: (
        "service",
        lambda values: values["lifecycle"] == ServiceLifecycle.RETIRED,
        "This service is retired: it underpins no new stage.",
    ),
    StageApplication: (
        "application",
        lambda values: values["retired_at"] is not None,
        "This application is retired: it supports no new stage.",
    ),
}


def link_target_error(model, target) -> str | None:
    """Why ``target`` (a service or an application, or a sync row of its field values) cannot
    be newly linked to a stage by a ``model`` link (StageService, StageApplication), or None."""
    _, is_retired, retired_message = LINK_TARGETS[model]
    return (
        retired_message
        if is_retired(target if isinstance(target, dict) else vars(target))
        else None
    )


def _save_link(link: StageService | StageApplication):
    target = LINK_TARGETS[type(link)][0]
    stored = type(link).objects.filter(pk=link.pk).values_list(f"{target}_id", flat=True).first()
    target_id = getattr(link, f"{target}_id")
    if target_id and target_id != stored:
        problem = link_target_error(type(link), getattr(link, target))
        if problem:
            raise ValidationError({target: problem})
    _validate(link)
    link.save()
    return link


def _set_links(stage: Stage, model, wanted, *, copied: bool = False) -> None:
    """Link ``stage`` to exactly the ``wanted`` records (or ids), one change-logged row each.
    ``copied``: the links of the stage it copies, kept as they are, retired targets too."""
    target = LINK_TARGETS[model][0]
    wanted = {getattr(item, "pk", item) for item in wanted}
    have = {getattr(link, f"{target}_id"): link for link in model.objects.filter(stage=stage)}
    for target_id, link in have.items():
        if target_id not in wanted:
            link.delete()
    for target_id in sorted(wanted - set(have)):
        link = model(stage=stage, **{f"{target}_id": target_id})
        if copied:
            link.save()
            continue
        try:
            _save_link(link)
        except ValidationError as exc:
            # Said of the stage as a whole: the stage form names its links otherwise.
            raise ValidationError(f"{getattr(link, target)}: {' '.join(exc.messages)}") from exc


def set_stage_links(*, stage: Stage, services=None, applications=None) -> None:
    """The services that underpin ``stage`` and the applications that support it; None leaves
    them as they are. Each link added or removed is in the change log (and the API's feed); a
    retired service or application is linked to no new stage."""
    if services is not None:
        _set_links(stage, StageService, services)
    if applications is not None:
        _set_links(stage, StageApplication, applications)


def save_stage_service(*, link: StageService) -> StageService:
    """Say that a service underpins a stage; a retired service underpins no new stage."""
    return _save_link(link)


def save_stage_application(*, link: StageApplication) -> StageApplication:
    """Say that an application supports a stage; a retired application supports no new one."""
    return _save_link(link)


def remove_stage_link(*, link: StageService | StageApplication) -> None:
    link.delete()


def move_stage(*, stage: Stage, offset: int) -> None:
    """Move a stage earlier (negative offset) or later in its stream; the ends stay put."""
    stages = list(
        Stage.objects.filter(value_stream_id=stage.value_stream_id).order_by("position", "id")
    )
    index = next(i for i, other in enumerate(stages) if other.pk == stage.pk)
    target = min(max(index + offset, 0), len(stages) - 1)
    if target == index:
        return
    stages.insert(target, stages.pop(index))
    for position, other in enumerate(stages):
        if other.position != position:
            other.position = position
            other.save(update_fields=["position", "updated_at"])


def remove_stage(*, stage: Stage) -> None:
    """Remove a stage from the map. Improvements about it stay in the log, without the stage."""
    was_in_layering = stage.moment_of_truth or stage.processes.exists()
    value_stream_id = stage.value_stream_id
    stage.delete()
    _renumber(value_stream_id)
    if was_in_layering:
        recompute_process_layers()


# --- Processes and their CEMM layers -----------------------------------------------------------


def compute_layers(
    *,
    moments: dict[int, set[int]],
    journeys: dict[int, set[int]],
    connections: Iterable[tuple[int, int]],
) -> dict[int, int]:
    """The CEMM layer of each process.

    ``moments`` maps every process to the ids of its stages that are Moments of Truth;
    ``journeys`` maps a process to all the Moments of Truth of its value stream (the external
    customer's whole journey for that outcome); ``connections`` are pairs of process ids, in
    either direction.

    1. the process holds every Moment of Truth of its journey (and there is at least one);
    2. it holds at least one Moment of Truth, but not the whole journey;
    3. it holds none, and is directly connected to a process with Moments of Truth (layer 1
       or 2): it serves the processes that touch the customer;
    4. anything else: no direct connection to a process that touches the customer.

    The primer's layer-4 rule ("no direct connection to a layer 1, 2 or 3 process") read word
    for word would leave a process connected only to a layer-3 process without a layer; we
    place it on layer 4, one step further from the customer than the process it serves.
    """
    layers: dict[int, int] = {}
    for process_id, moment_ids in moments.items():
        journey = journeys.get(process_id, set())
        if moment_ids and journey and journey <= moment_ids:
            layers[process_id] = ProcessLayer.JOURNEY
        elif moment_ids:
            layers[process_id] = ProcessLayer.MOMENTS_OF_TRUTH
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in connections:
        neighbours[a].add(b)
        neighbours[b].add(a)
    for process_id in moments:
        if process_id in layers:
            continue
        touches_customer = any(
            layers.get(other) in (ProcessLayer.JOURNEY, ProcessLayer.MOMENTS_OF_TRUTH)
            for other in neighbours[process_id]
        )
        layers[process_id] = (
            ProcessLayer.SUPPORTS_CUSTOMER_CONTACT if touches_customer else ProcessLayer.DISTANT
        )
    return {process_id: int(layer) for process_id, layer in layers.items()}


def recompute_process_layers() -> int:
    """Store every process's computed layer; returns how many changed.

    Called whenever a connection or a Moment of Truth changes (a stage's flag, a process's
    stages, a process's value stream, a removed stage or process). Four queries, whatever the
    number of processes, plus one save per process whose layer changed (change-logged).
    """
    processes = list(Process.objects.only("id", "layer", "value_stream_id", "name"))
    moments: dict[int, set[int]] = {process.pk: set() for process in processes}
    for process_id, stage_id in Process.stages.through.objects.filter(
        stage__moment_of_truth=True
    ).values_list("process_id", "stage_id"):
        moments[process_id].add(stage_id)
    stream_moments: dict[int, set[int]] = defaultdict(set)
    for stage_id, stream_id in Stage.objects.filter(moment_of_truth=True).values_list(
        "id", "value_stream_id"
    ):
        stream_moments[stream_id].add(stage_id)
    journeys = {
        process.pk: stream_moments.get(process.value_stream_id, set())
        for process in processes
        if process.value_stream_id
    }
    connections = ProcessConnection.objects.values_list("process_id", "connected_to_id")
    layers = compute_layers(moments=moments, journeys=journeys, connections=connections)
    changed = 0
    for process in processes:
        if process.layer != layers[process.pk]:
            process.layer = layers[process.pk]
            process.save(update_fields=["layer", "updated_at"])
            changed += 1
    return changed


def parse_activities(text: str) -> list[str]:
    """Activities typed one per line, blank lines and bullets dropped."""
    activities = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*•").strip()
        if line:
            activities.append(line)
    return activities


def save_process(*, process: Process, stages=None, connected_to=None) -> Process:
    """Create or update a process, its stages and connections; then re-layer every process."""
    process.activities = [a.strip() for a in process.activities or [] if a and a.strip()]
    _validate(process, covered=("layer",))
    if stages is not None:
        stages = list(stages)
        foreign = [s for s in stages if s.value_stream_id != process.value_stream_id]
        if foreign:
            raise ValidationError(
                {
                    "stages": "Choose stages of the process's own value stream "
                    f"(not {', '.join(str(s) for s in foreign)})."
                }
            )
    process.save()
    if stages is not None:
        process.stages.set(stages)
    elif process.value_stream_id is None:
        process.stages.clear()
    else:
        process.stages.remove(*process.stages.exclude(value_stream_id=process.value_stream_id))
    if connected_to is not None:
        set_connections(process=process, connected_to=connected_to)
    recompute_process_layers()
    return process


def set_connections(*, process: Process, connected_to) -> None:
    """Connect ``process`` to exactly the processes in ``connected_to`` (in either direction)."""
    wanted = {other.pk for other in connected_to}
    if process.pk in wanted:
        raise ValidationError({"connected_to": "A process cannot be connected to itself."})
    existing = ProcessConnection.objects.filter(Q(process=process) | Q(connected_to=process))
    have = {}
    for connection in existing:
        other = (
            connection.connected_to_id
            if connection.process_id == process.pk
            else connection.process_id
        )
        have[other] = connection
    for other_id, connection in have.items():
        if other_id not in wanted:
            connection.delete()
    for other_id in sorted(wanted - set(have)):
        ProcessConnection.objects.create(process=process, connected_to_id=other_id)


def save_connection(*, connection: ProcessConnection) -> ProcessConnection:
    """Create or change a connection (each pair once, in either direction); re-layer."""
    if connection.process_id == connection.connected_to_id:
        raise ValidationError({"connected_to": "A process cannot be connected to itself."})
    pair = Q(process_id=connection.process_id, connected_to_id=connection.connected_to_id) | Q(
        process_id=connection.connected_to_id, connected_to_id=connection.process_id
    )
    if ProcessConnection.objects.filter(pair).exclude(pk=connection.pk).exists():
        raise ValidationError({"connected_to": "These two processes are already connected."})
    _validate(connection)
    connection.save()
    recompute_process_layers()
    return connection


def connect_processes(*, process: Process, other: Process, note: str = "") -> ProcessConnection:
    if process.pk == other.pk:
        raise ValidationError({"connected_to": "A process cannot be connected to itself."})
    if ProcessConnection.objects.filter(
        Q(process=process, connected_to=other) | Q(process=other, connected_to=process)
    ).exists():
        raise ValidationError({"connected_to": "These two processes are already connected."})
    connection = ProcessConnection.objects.create(process=process, connected_to=other, note=note)
    recompute_process_layers()
    return connection


def disconnect_processes(*, connection: ProcessConnection) -> None:
    connection.delete()
    recompute_process_layers()


def remove_process(*, process: Process) -> None:
    """Delete a process with its connections (nothing else refers to a process)."""
    process.delete()
    recompute_process_layers()


# --- Improvement log ---------------------------------------------------------------------------


def may_add_process(user, value_stream: ValueStream | None) -> bool:
    """Portfolio managers add any process; a value-stream owner adds processes to their stream."""
    if can(user, "add", Process):
        return True
    return value_stream is not None and can(user, "change", value_stream)


def may_suggest_improvement(user, value_stream: ValueStream) -> bool:
    """Anyone who can see a value stream may suggest an improvement to it: the log captures
    suggestions from everyone involved."""
    return ValueStream.objects.restrict(user, "view").filter(pk=value_stream.pk).exists()


def may_decide_improvement(user, improvement: Improvement) -> bool:
    """The value stream's owner and Portfolio managers accept, reject, start and finish items."""
    return can(user, "change", improvement)


def may_edit_improvement(user, improvement: Improvement, action: str = "change") -> bool:
    """Deciders edit any item; the suggester edits (or withdraws) their own while it is proposed."""
    if can(user, action, improvement):
        return True
    return (
        user.is_authenticated
        and improvement.suggested_by_id == user.pk
        and improvement.status == ImprovementStatus.PROPOSED
    )


def suggester_may_write(user, action: str, before: dict | None, after: dict | None) -> bool:
    """may_suggest_improvement and may_edit_improvement for the API, on an improvement's rows
    before and after a write (None for a new or a removed one): someone who can see value
    streams suggests improvements in their own name, and edits or withdraws their own while
    they are proposed. Deciders need no such rule: their rights are the model's."""
    if not user.is_authenticated or not user.has_perm(perm_name(ValueStream, "view")):
        return False
    return all(
        row["suggested_by_id"] == user.pk and row["status"] == ImprovementStatus.PROPOSED
        for row in (before, after)
        if row is not None
    )


def save_improvement(*, improvement: Improvement) -> Improvement:
    if improvement.suggested_on is None:
        improvement.suggested_on = timezone.localdate()
    if improvement.status != ImprovementStatus.DONE:
        # Measured results belong to done items only; an item moved back loses them.
        improvement.measured_before = improvement.measured_after = None
    _validate(improvement, covered=("measured_before", "measured_after"))
    improvement.save()
    return improvement


def set_improvement_status(
    *,
    improvement: Improvement,
    status: str,
    measured_before: Decimal | None = None,
    measured_after: Decimal | None = None,
) -> Improvement:
    """Move an item on the board; a done item needs its measure before and after."""
    if status not in ImprovementStatus.values:
        raise ValidationError({"status": f"“{status}” is not a status of the improvement log."})
    improvement.status = status
    if status == ImprovementStatus.DONE:
        if measured_before is not None:
            improvement.measured_before = measured_before
        if measured_after is not None:
            improvement.measured_after = measured_after
    return save_improvement(improvement=improvement)


def remove_improvement(*, improvement: Improvement) -> None:
    improvement.delete()
