"""Writes and workflows of value streams: the one place their business rules live.

Each model's write rules are written once, over rows (core.rules): the functions below apply
them to one record, and the sync engine applies the same rules to a batch. Every function
here may be called by a view, the API or a task; callers wrap them in a transaction (the
generic views and the API base do).
"""

import copy
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models import Max
from django.db.models import Q

from core import permissions
from core import roles
from core import rules
from core.permissions import perm_name
from core.rules import Change
from core.rules import first_with
from core.rules import stored_pairs
from core.rules import values_by_id
from core.services import delete_or_retire
from core.services import move_within
from core.services import renumber
from core.slugs import generate_slugs
from portfolio.choices import CustomerKind
from portfolio.choices import ServiceLifecycle
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import SpecificationItem
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import ProcessLayer
from valuestreams.choices import StreamState
from valuestreams.choices import TimeUnit
from valuestreams.models import CONCERNS_NOTHING
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import StageApplication
from valuestreams.models import StageService
from valuestreams.models import ValueStream
from valuestreams.models import VerbList
from valuestreams.validators import ENGLISH
from valuestreams.validators import Vocabulary
from valuestreams.validators import activity_name_error


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


# --- The verb rule: stages and processes are named as activities --------------------------------


def vocabulary_in_use() -> Vocabulary:
    """The verbs of the verb lists in use, together (one query)."""
    verbs: set[str] = set()
    verbs_last: set[str] = set()
    english = False
    for verb_list in VerbList.objects.filter(in_use=True).order_by():
        verbs |= verb_list.verb_set
        if verb_list.verb_last:
            verbs_last |= verb_list.verb_set
        english = english or verb_list.language.lower() == ENGLISH
    return Vocabulary(frozenset(verbs), frozenset(verbs_last), english)


def named_vocabulary(changes: list[Change]) -> Vocabulary:
    """Facts of the verb rule: the vocabulary, read when a change names something anew."""
    if any(change.is_new or change.moved("name") for change in changes):
        return vocabulary_in_use()
    return Vocabulary()


def activity_name_rule(change: Change, vocabulary: Vocabulary) -> None:
    """A stage or process gets a name that starts with a verb of the lists in use (a name kept
    as it is stays, though a verb was taken off a list since)."""
    if change.is_new or change.moved("name"):
        error = activity_name_error(change.row["name"] or "", vocabulary)
        if error is not None:
            change.error("name", " ".join(error.messages))


rules.rule(Stage, facts=named_vocabulary)(activity_name_rule)
rules.rule(Process, facts=named_vocabulary)(activity_name_rule)


def save_verb_list(*, verb_list: VerbList) -> VerbList:
    """Create or change a verb list; its verbs are kept lower case, one space apart."""
    verb_list.verbs = " ".join(sorted(set(verb_list.verbs.lower().split())))
    verb_list.language = verb_list.language.strip().lower()
    return rules.save_checked(verb_list)


def remove_verb_list(*, verb_list: VerbList) -> str:
    """Delete a verb list (names given with its verbs stay as they are)."""
    verb_list.delete()
    return "deleted"


# --- Value streams -----------------------------------------------------------------------------


generate_slugs(ValueStream, "name")


def writer_owns_streams(changes: list[Change]) -> bool:
    """Facts of the value-stream rule: whether the writer is a value-stream owner."""
    user = changes[0].writer.user
    return user is not None and user.groups.filter(name=roles.VALUE_STREAM_OWNER).exists()


@rules.rule(ValueStream, facts=writer_owns_streams)
def value_stream_rule(change: Change, writer_is_stream_owner: bool) -> None:
    """A value-stream owner who creates a stream without naming an owner becomes its owner."""
    if change.is_new and change.row["owner_id"] is None and writer_is_stream_owner:
        change.row["owner_id"] = change.writer.user.pk


# --- Moments of Truth: contacts with an external customer ------------------------------------

MOMENT_NEEDS_EXTERNAL_CUSTOMER = (
    "A Moment of Truth is a contact with an external customer: this value stream serves an "
    "internal customer, so none of its stages is one."
)
STREAM_WITH_MOMENTS_INTERNAL = (
    "This value stream has Moments of Truth, contacts with an external customer: an internal "
    "customer has none. Clear the Moment of Truth of its stages first ({stages})."
)
CUSTOMER_STREAMS_WITH_MOMENTS = (
    "Value streams serving this customer have Moments of Truth, contacts with an external "
    "customer: an internal customer has none. Clear them first ({streams})."
)


def internal_customers(ids) -> set[int]:
    """Which of the customers ``ids`` are internal (one query)."""
    return {
        pk
        for pk, row in values_by_id(Customer, ids, "kind").items()
        if row["kind"] == CustomerKind.INTERNAL
    }


def serves_internal_customer(stream_ids) -> set[int]:
    """Which of the value streams ``stream_ids`` serve an internal customer (one query)."""
    return set(
        ValueStream.objects.filter(
            pk__in=[pk for pk in stream_ids if pk is not None],
            customer__kind=CustomerKind.INTERNAL,
        )
        .values_list("pk", flat=True)
        .order_by()
    )


def moments_by_stream(stream_filter: Q) -> dict[int, list[str]]:
    """The names of the Moment-of-Truth stages of the streams ``stream_filter`` selects, by
    stream id (one query)."""
    names: dict[int, list[str]] = defaultdict(list)
    for stream_id, name in (
        Stage.objects.filter(stream_filter, moment_of_truth=True)
        .order_by("position", "id")
        .values_list("value_stream_id", "name")
    ):
        names[stream_id].append(name)
    return names


def stream_moment_facts(changes: list[Change]) -> tuple[set[int], dict[int, list[str]]]:
    """Facts of the stream's Moment-of-Truth rule: the internal customers the changes name,
    and the Moments of Truth of the stored streams that move to one."""
    internal = internal_customers({c.row["customer_id"] for c in changes})
    moving = [
        c.row["id"]
        for c in changes
        if not c.is_new and c.row["customer_id"] in internal and c.moved("customer_id")
    ]
    return internal, moments_by_stream(Q(value_stream_id__in=moving)) if moving else {}


@rules.rule(ValueStream, facts=stream_moment_facts)
def stream_moment_rule(change: Change, facts: tuple[set[int], dict[int, list[str]]]) -> None:
    """A stream with Moments of Truth does not move to an internal customer."""
    internal, moments = facts
    if change.moved("customer_id") and change.row["customer_id"] in internal:
        names = moments.get(change.row["id"])
        if names:
            change.error("customer", STREAM_WITH_MOMENTS_INTERNAL.format(stages=", ".join(names)))


def stage_moment_facts(changes: list[Change]) -> set[int]:
    return serves_internal_customer(
        {c.row["value_stream_id"] for c in changes if c.row["moment_of_truth"]}
    )


@rules.rule(Stage, facts=stage_moment_facts)
def stage_moment_rule(change: Change, internal_streams: set[int]) -> None:
    """A stage of a stream serving an internal customer is no Moment of Truth."""
    if change.row["moment_of_truth"] and change.row["value_stream_id"] in internal_streams:
        change.error("moment_of_truth", MOMENT_NEEDS_EXTERNAL_CUSTOMER)


def customer_moment_facts(changes: list[Change]) -> dict[int, list[str]]:
    """The streams with Moments of Truth of the customers that become internal, by customer."""
    becoming = [
        c.row["id"] for c in changes if c.row["kind"] == CustomerKind.INTERNAL and c.moved("kind")
    ]
    if not becoming:
        return {}
    streams: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in (
        ValueStream.objects.filter(customer_id__in=becoming, stages__moment_of_truth=True)
        .distinct()
        .order_by("name")
        .values_list("customer_id", "name")
    ):
        streams[customer_id].append(name)
    return streams


@rules.rule(Customer, facts=customer_moment_facts)
def customer_moment_rule(change: Change, streams: dict[int, list[str]]) -> None:
    """A customer whose streams have Moments of Truth does not become internal."""
    names = streams.get(change.row["id"])
    if names and change.moved("kind"):
        change.error("kind", CUSTOMER_STREAMS_WITH_MOMENTS.format(streams=", ".join(names)))


def save_value_stream(*, value_stream: ValueStream, user=None) -> ValueStream:
    """Create or update a value stream (value_stream_rule, stream_moment_rule); a stream that
    changes customer re-layers the processes (only an external customer's contacts count)."""
    change = rules.enforce(value_stream, user=user)
    _validate(value_stream, covered=("state", "current_state"))
    value_stream.save()
    if change.moved("customer_id"):
        recompute_process_layers()
    return value_stream


# What a future state takes over from its current state.
FUTURE_STATE_COPIES = ("description", "customer", "segment", "experience", "trigger", "result")
# A stage's own fields, in order, its stream aside: what a copy of it takes over, and what the
# API shows after the stream.
STAGE_FIELDS = (
    "position",
    "name",
    "responsible_party",
    "process_time_minutes",
    "process_time_unit",
    "lead_time_minutes",
    "lead_time_unit",
    "complete_accurate",
    "value_class",
    "moment_of_truth",
    "measured_on",
)
# The measures of a stage: a change to any of them is a new measurement (``measured_on``).
STAGE_MEASURES = ("process_time_minutes", "lead_time_minutes", "complete_accurate")


def _copy_of(record, names: Iterable[str], **values):
    """A new record of ``record``'s model, not yet saved, with its fields ``names`` and
    ``values``."""
    return type(record)(**{name: getattr(record, name) for name in names}, **values)


def future_state_of(*, current: ValueStream, name: str = "", owner=None) -> ValueStream:
    """A future-state variant of ``current``, not yet saved: its name (by default the current
    state's, marked as the future state), owner (by default the current state's), customer,
    experience, trigger and result."""
    if current.state != StreamState.CURRENT:
        raise ValidationError("A future state improves a current state, not another plan.")
    return _copy_of(
        current,
        FUTURE_STATE_COPIES,
        name=name or f"{current.name} (future state)",
        owner=owner or current.owner,
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
        copy = _copy_of(stage, STAGE_FIELDS, value_stream=future)
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
    renumber(Stage.objects.filter(value_stream_id=value_stream_id).order_by("position", "id"))


def last_stage_positions(changes: list[Change]) -> dict[int, int]:
    """Facts of the stage rule: the last position of each stream new stages go to."""
    streams = {change.row["value_stream_id"] for change in changes if change.is_new}
    if not streams:
        return {}
    return dict(
        Stage.objects.filter(value_stream_id__in=streams)
        .values("value_stream_id")
        .annotate(last=Max("position"))
        .order_by()
        .values_list("value_stream_id", "last")
    )


@rules.rule(Stage, facts=last_stage_positions)
def stage_rule(change: Change, last: dict[int, int]) -> None:
    """A new stage goes to the end of its value stream; a stage stays in the stream it was
    added to. (Its times are the model's own rule.)"""
    row = change.row
    if change.moved("value_stream_id"):
        change.error(
            "value_stream", "A stage stays in its value stream: add a stage to the other one."
        )
    elif change.is_new:
        stream = row["value_stream_id"]
        row["position"] = last[stream] = last[stream] + 1 if stream in last else 0
    before = change.before or {}
    remeasured = any(row[name] != before.get(name) for name in STAGE_MEASURES)
    if remeasured and row["measured_on"] == before.get("measured_on"):
        # New figures without their own date were measured today.
        row["measured_on"] = change.writer.today


def add_stage(*, stage: Stage, services=None, applications=None) -> Stage:
    """Add a stage at the end of its value stream."""
    return save_stage(stage=stage, services=services, applications=applications)


def save_stage(
    *, stage: Stage, services=None, applications=None, weights: dict | None = None
) -> Stage:
    """Save a stage and what underpins it (``weights``: the weight of the link to each
    service, by service id, for those given); a changed Moment of Truth re-layers the
    processes."""
    change = rules.enforce(stage)
    was_moment = bool(change.before and change.before["moment_of_truth"])
    _validate(stage, covered=("process_time_minutes", "lead_time_minutes", "complete_accurate"))
    stage.save()
    set_stage_links(stage=stage, services=services, applications=applications)
    if weights:
        set_stage_weights(stage=stage, weights=weights)
    if was_moment != stage.moment_of_truth:
        recompute_process_layers()
    return stage


# What each kind of link joins a stage to, and when that record is retired, read from its
# stored row: it is then linked to no new stage (what is linked already stays, until someone
# unlinks it).
LINK_TARGETS = {
    StageService: (
        "service",
        ("lifecycle",),
        lambda row: row["lifecycle"] == ServiceLifecycle.RETIRED,
        "This service is retired: it underpins no new stage.",
    ),
    StageApplication: (
        "application",
        ("retired_at",),
        lambda row: row["retired_at"] is not None,
        "This application is retired: it supports no new stage.",
    ),
}


def _link_rule(model) -> None:
    target, fields, is_retired, retired_message = LINK_TARGETS[model]
    attname = f"{target}_id"
    related = model._meta.get_field(target).related_model

    def linked_targets(changes: list[Change]) -> dict:
        newly = {c.row[attname] for c in changes if c.is_new or c.moved(attname)}
        return values_by_id(related, newly, *fields)

    @rules.rule(model, facts=linked_targets)
    def link_rule(change: Change, targets: dict) -> None:
        """A retired service or application is linked to no new stage."""
        row = targets.get(change.row[attname])
        if (change.is_new or change.moved(attname)) and row is not None and is_retired(row):
            change.error(target, retired_message)


_link_rule(StageService)
_link_rule(StageApplication)


NEGATIVE_WEIGHT = "A weight cannot be negative: 0 carries none of the cost."


@rules.rule(StageService)
def stage_service_weight_rule(change: Change, facts: None) -> None:
    """A link's weight is its share of the service's kept cost among the service's links: zero
    carries nothing, and a negative weight means nothing."""
    weight = change.row["weight"]
    if weight is not None and weight < 0:
        change.error("weight", NEGATIVE_WEIGHT)


def link_target_error(model, target) -> str | None:
    """Why ``target`` (a service or an application) cannot be newly linked to a stage by a
    ``model`` link, or None: the link rule, for a form that shows it beside its field."""
    _, _, is_retired, retired_message = LINK_TARGETS[model]
    return retired_message if is_retired(vars(target)) else None


def _save_link(link: StageService | StageApplication):
    rules.enforce(link)
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


def set_stage_weights(*, stage: Stage, weights: dict) -> None:
    """Set the weight of ``stage``'s link to each service in ``weights`` (by service id);
    each changed link is saved through its rules (a negative weight is refused)."""
    for link in StageService.objects.filter(stage=stage, service_id__in=list(weights)):
        weight = weights[link.service_id]
        if weight != link.weight:
            link.weight = weight
            try:
                _save_link(link)
            except ValidationError as exc:
                raise ValidationError(f"{link.service}: {' '.join(exc.messages)}") from exc


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
    stages = Stage.objects.filter(value_stream_id=stage.value_stream_id)
    move_within(stages.order_by("position", "id"), stage, offset)


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
    3. it holds none, and is directly connected to at least one layer-2 process: it serves a
       process that touches the customer at some Moments of Truth. A connection to a layer-1
       process alone does not make layer 3: the journey holds every contact already, so a
       process beside it is not one step from a partial contact;
    4. anything else.

    The primer's layer-4 rule ("no direct connection to a layer 1, 2 or 3 process") read word
    for word would leave a process connected only to a layer-3 (or a layer-1) process without
    a layer; we place it on layer 4, further from the customer than the layer-2 processes.
    Moments of Truth are contacts with an external customer: the caller leaves out those of
    a stream serving an internal customer (recompute_process_layers).
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
            layers.get(other) == ProcessLayer.MOMENTS_OF_TRUTH for other in neighbours[process_id]
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
    # Only contacts with an external customer are Moments of Truth: a flag kept on a stage of
    # a stream serving an internal customer places no process on layer 1 or 2.
    internal = Q(value_stream__customer__kind=CustomerKind.INTERNAL)
    for process_id, stage_id in (
        Process.stages.through.objects.filter(stage__moment_of_truth=True)
        .exclude(stage__value_stream__customer__kind=CustomerKind.INTERNAL)
        .values_list("process_id", "stage_id")
    ):
        moments[process_id].add(stage_id)
    stream_moments: dict[int, set[int]] = defaultdict(set)
    for stage_id, stream_id in (
        Stage.objects.filter(moment_of_truth=True)
        .exclude(internal)
        .values_list("id", "value_stream_id")
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


@rules.rule(Process)
def process_rule(change: Change, facts: None) -> None:
    """Activities are kept stripped, blank ones dropped."""
    activities = change.row["activities"]
    if isinstance(activities, list):
        change.row["activities"] = [
            a.strip() for a in activities if isinstance(a, str) and a.strip()
        ]


def keep_stages_of_own_stream(process_ids) -> None:
    """A process that changed value stream keeps only the stages of its new stream (none
    without a stream): for one process saved here, and for a sync batch."""
    Process.stages.through.objects.filter(process_id__in=list(process_ids)).filter(
        Q(process__value_stream__isnull=True) | ~Q(stage__value_stream=F("process__value_stream"))
    ).delete()


def save_process(*, process: Process, stages=None, connected_to=None) -> Process:
    """Create or update a process, its stages and connections; then re-layer every process."""
    rules.enforce(process)
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
    else:
        keep_stages_of_own_stream([process.pk])
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


def connection_facts(changes: list[Change]) -> tuple[dict, dict]:
    """The first connection of the batch joining each pair of processes, and the stored
    connections of those pairs, in either direction: (process, connected_to) -> id."""
    first = first_with(
        changes, lambda c: frozenset((c.row["process_id"], c.row["connected_to_id"]))
    )
    stored = stored_pairs(
        ProcessConnection, changes, "process_id", "connected_to_id", either_way=True
    )
    return first, stored


@rules.rule(ProcessConnection, facts=connection_facts)
def connection_rule(change: Change, facts: tuple[dict, dict]) -> None:
    """A process is not connected to itself; two processes are connected once, in either
    direction."""
    first, stored = facts
    a, b = change.row["process_id"], change.row["connected_to_id"]
    if a == b:
        change.error("connected_to", "A process cannot be connected to itself.")
        return
    earlier = first[frozenset((a, b))]
    if earlier is not change:
        change.error("connected_to", f"Item {earlier.index} connects the same two processes.")
    elif stored.get((a, b), change.row["id"]) != change.row["id"]:
        change.error("connected_to", "These two processes are already connected.")
    elif stored.get((b, a), change.row["id"]) != change.row["id"]:
        change.error(
            "connected_to",
            "These two processes are already connected, in the other direction: "
            f"process {b} to {a}.",
        )


def save_connection(*, connection: ProcessConnection) -> ProcessConnection:
    """Create or change a connection (connection_rule); re-layer."""
    rules.enforce(connection)
    _validate(connection)
    connection.save()
    recompute_process_layers()
    return connection


def connect_processes(*, process: Process, other: Process, note: str = "") -> ProcessConnection:
    return save_connection(
        connection=ProcessConnection(process=process, connected_to=other, note=note)
    )


def disconnect_processes(*, connection: ProcessConnection) -> None:
    connection.delete()
    recompute_process_layers()


def remove_process(*, process: Process) -> None:
    """Delete a process with its connections (nothing else refers to a process)."""
    process.delete()
    recompute_process_layers()


# --- Improvement log ---------------------------------------------------------------------------


def suggester_may_write(user, action: str, before: dict | None, after: dict | None) -> bool:
    """Anyone who can see value streams suggests improvements in their own name (the log
    captures suggestions from everyone involved), and edits or withdraws their own while they
    are proposed. Deciders (the stream's owner, Portfolio managers) need no such grant: their
    rights are the model's."""
    if not permissions.is_active(user) or not user.has_perm(perm_name(ValueStream, "view")):
        return False
    return all(
        row["suggested_by_id"] == user.pk and row["status"] == ImprovementStatus.PROPOSED
        for row in (before, after)
        if row is not None
    )


def _suggested_rows(user, action: str) -> Q | None:
    if action not in ("change", "delete") or not user.has_perm(perm_name(ValueStream, "view")):
        return None
    return Q(suggested_by=user, status=ImprovementStatus.PROPOSED)


permissions.grant(Improvement, suggester_may_write, rows=_suggested_rows)


def decided(improvement: Improvement) -> Improvement:
    """``improvement`` as a decision would leave it (accepted, rejected, started, done): what
    a user must be allowed to change to move it on the board, which the suggester's grant,
    good while it is proposed, does not cover."""
    moved = copy.copy(improvement)
    moved.status = ImprovementStatus.ACCEPTED
    return moved


MEASURES = ("measured_before", "measured_after")
MEASURED_ONLY_WHEN_DONE = (
    "Measured results belong to done improvements: set the status to done, or leave it out."
)


@rules.rule(Improvement)
def improvement_rule(change: Change, facts: None) -> None:
    """Measured results belong to done items only, and an item moved back loses them. A
    measure given for an item that is not done would be lost without a word: it is refused
    instead (one kept from before is cleared)."""
    row = change.row
    if row["suggested_on"] is None:
        row["suggested_on"] = change.writer.today
    if row["status"] == ImprovementStatus.DONE:
        return
    for name in MEASURES:
        if row[name] is not None and row[name] != (change.before or {}).get(name):
            change.error(name, MEASURED_ONLY_WHEN_DONE)
        row[name] = None


@dataclass
class ConcernFacts:
    """Facts of the improvement's concern rule: the service of each item and outcome named,
    the stream of each stage named, and the figures of the items of done improvements."""

    item_services: dict[int, int]
    outcome_services: dict[int, int]
    stage_streams: dict[int, int]
    figures: dict[int, list[tuple[datetime.date, datetime.date, Decimal]]]


def concern_facts(changes: list[Change]) -> ConcernFacts:
    """Four queries at most, whatever the batch."""
    from performance.models import Measurement

    items = {c.row["item_id"] for c in changes} - {None}
    outcomes = {c.row["outcome_id"] for c in changes} - {None}
    stages = {c.row["stage_id"] for c in changes} - {None}
    item_services = {
        pk: row["service_id"]
        for pk, row in values_by_id(SpecificationItem, items, "service_id").items()
    }
    outcome_services = {
        pk: row["subscription__service_id"]
        for pk, row in values_by_id(Outcome, outcomes, "subscription__service_id").items()
    }
    stage_streams = {
        pk: row["value_stream_id"]
        for pk, row in values_by_id(Stage, stages, "value_stream_id").items()
    }
    done_items = {
        c.row["item_id"] for c in changes if c.row["status"] == ImprovementStatus.DONE
    } - {None}
    figures: dict[int, list] = defaultdict(list)
    if done_items:
        for item_id, start, end, value in (
            Measurement.objects.filter(item_id__in=done_items)
            .order_by("end", "start", "id")
            .values_list("item_id", "start", "end", "value")
        ):
            figures[item_id].append((start, end, value))
    return ConcernFacts(item_services, outcome_services, stage_streams, figures)


def figures_around(figures, day: datetime.date) -> tuple[Decimal, Decimal] | None:
    """The item's figure before ``day`` (the latest that ended before it) and after it (the
    first that started on or after it), or None when either is missing."""
    before = [value for _start, end, value in figures if end < day]
    after = [value for start, _end, value in figures if start >= day]
    if not before or not after:
        return None
    return before[-1], after[0]


ITEM_OF_ANOTHER_SERVICE = "Choose an item of the improvement's service."
OUTCOME_OF_ANOTHER_SERVICE = "Choose an outcome of a subscription to the improvement's service."
STAGE_OF_ANOTHER_STREAM = "Choose a stage of this value stream."


@rules.rule(Improvement, facts=concern_facts)
def improvement_concern_rule(change: Change, facts: ConcernFacts) -> None:
    """An improvement concerns a value stream, a service, a quadrant item or an outcome: an
    item or outcome names its service, a stage its stream. A done one is dated (today unless
    given); linked to an item with figures on both sides of that day, its measures before and
    after are those figures, else the typed ones."""
    row = change.row
    for attname, services_of, message, name in (
        ("item_id", facts.item_services, ITEM_OF_ANOTHER_SERVICE, "item"),
        ("outcome_id", facts.outcome_services, OUTCOME_OF_ANOTHER_SERVICE, "outcome"),
    ):
        service_id = services_of.get(row[attname])
        if service_id is None:
            continue
        if row["service_id"] is None:
            row["service_id"] = service_id
        elif row["service_id"] != service_id:
            change.error(name, message)
    stream_id = facts.stage_streams.get(row["stage_id"])
    if stream_id is not None:
        if row["value_stream_id"] is None:
            row["value_stream_id"] = stream_id
        elif row["value_stream_id"] != stream_id:
            change.error("stage", STAGE_OF_ANOTHER_STREAM)
    if row["value_stream_id"] is None and row["service_id"] is None:
        change.error("value_stream", CONCERNS_NOTHING)
    row["measured_from_series"] = False
    if row["status"] != ImprovementStatus.DONE:
        row["completed_on"] = None
        return
    if row["completed_on"] is None:
        row["completed_on"] = change.writer.today
    around = figures_around(facts.figures.get(row["item_id"], ()), row["completed_on"])
    if around is not None:
        row["measured_before"], row["measured_after"] = around
        row["measured_from_series"] = True


def save_improvement(*, improvement: Improvement) -> Improvement:
    """Create or update an improvement (improvement_rule)."""
    rules.enforce(improvement)
    _validate(improvement, covered=("measured_before", "measured_after"))
    improvement.save()
    return improvement


def set_improvement_status(
    *,
    improvement: Improvement,
    status: str,
    measured_before: Decimal | None = None,
    measured_after: Decimal | None = None,
    completed_on: datetime.date | None = None,
) -> Improvement:
    """Move an item on the board; a done item needs its measure before and after, from the
    figures of its quadrant item around ``completed_on`` (today unless given) or typed."""
    if status not in ImprovementStatus.values:
        raise ValidationError({"status": f"“{status}” is not a status of the improvement log."})
    improvement.status = status
    if status == ImprovementStatus.DONE:
        if completed_on is not None:
            improvement.completed_on = completed_on
        if measured_before is not None:
            improvement.measured_before = measured_before
        if measured_after is not None:
            improvement.measured_after = measured_after
    return save_improvement(improvement=improvement)


def remove_improvement(*, improvement: Improvement) -> None:
    improvement.delete()
