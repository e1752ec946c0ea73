"""Reusable reads of value streams: the flow measures (computed, never stored), the checks of
the process model, the service-ownership report and the improvement board."""

import re
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField
from django.db.models import Case
from django.db.models import Count
from django.db.models import DecimalField as DecimalOutput
from django.db.models import F
from django.db.models import Min
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import Sum
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Coalesce
from django.db.models.functions import Exp
from django.db.models.functions import Ln
from django.db.models.functions import NullIf
from django.urls import reverse
from django.utils import timezone

from core import permissions
from core.models import ObjectChange
from core.rules import Change
from core.rules import row_of
from core.translations import translated
from portfolio.choices import CustomerKind
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.models import Service
from valuestreams.choices import Effort
from valuestreams.choices import Experience
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import StreamState
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream

HUNDRED = Decimal(100)

# --- Flow measures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowMeasures:
    """The measures of a whole value stream. Times are in minutes; ratios are percentages.

    ``activity_ratio`` (flow efficiency, total PT / total LT) is None when there is no lead
    time to divide by; ``rolled_complete_accurate`` (the product of the stages' %C&A) is None
    for a stream without stages.
    """

    stage_count: int
    lead_time: Decimal
    process_time: Decimal
    activity_ratio: Decimal | None
    rolled_complete_accurate: Decimal | None
    moments_of_truth: int


def flow_measures(stages: Sequence[Stage]) -> FlowMeasures:
    """The measures of a stream from its stages (already loaded: no query)."""
    lead_time = sum((stage.lead_time_minutes for stage in stages), Decimal(0))
    process_time = sum((stage.process_time_minutes for stage in stages), Decimal(0))
    rolled = None
    if stages:
        rolled = Decimal(1)
        for stage in stages:
            rolled *= stage.complete_accurate / HUNDRED
        rolled *= HUNDRED
    return FlowMeasures(
        stage_count=len(stages),
        lead_time=lead_time,
        process_time=process_time,
        activity_ratio=process_time / lead_time * HUNDRED if lead_time > 0 else None,
        rolled_complete_accurate=rolled,
        moments_of_truth=sum(1 for stage in stages if stage.moment_of_truth),
    )


@dataclass(frozen=True)
class ServiceRef:
    """What a map and a stage list show of a service beneath a stage. ``flag`` names a
    lifecycle that does not belong under a current-state stage ("retired", "pipeline"), or is
    empty: a current state maps what runs today, on live services."""

    pk: int
    name: str
    url: str
    flag: str = ""


def lifecycle_flag(lifecycle: str, *, current_state: bool) -> str:
    """Why a service does not belong beneath a stage of a current state, as a flag: a retired
    service no longer runs, and a pipeline service does not run yet. A future state may plan
    with either."""
    if current_state and lifecycle in (ServiceLifecycle.RETIRED, ServiceLifecycle.PIPELINE):
        return str(lifecycle)
    return ""


def stages_of(value_stream: ValueStream) -> list[Stage]:
    """A stream's stages in order (three queries), each with ``service_refs`` (its services,
    by name, flagged when retired or in the pipeline under a current state) and
    ``application_names``. The services and applications are read as plain values: a map of
    60 stages with 10 services each needs no 600 model instances."""
    stages = list(Stage.objects.filter(value_stream=value_stream).order_by("position", "id"))
    url = reverse("portfolio:service_detail", args=["__slug__"])
    current_state = value_stream.state == StreamState.CURRENT
    services: dict[int, list[ServiceRef]] = defaultdict(list)
    # Names in the reader's language (core.translations), in the order of the originals.
    for stage_id, pk, name, names, slug, lifecycle in (
        Stage.services.through.objects.filter(stage__value_stream=value_stream)
        .order_by("service__name", "service_id")
        .values_list(
            "stage_id",
            "service_id",
            "service__name",
            "service__translations",
            "service__slug",
            "service__lifecycle",
        )
    ):
        services[stage_id].append(
            ServiceRef(
                pk,
                translated({"name": name, "translations": names}, "name"),
                url.replace("__slug__", slug),
                lifecycle_flag(lifecycle, current_state=current_state),
            )
        )
    applications: dict[int, list[str]] = defaultdict(list)
    for stage_id, name, names in (
        Stage.applications.through.objects.filter(stage__value_stream=value_stream)
        .order_by("application__name")
        .values_list("stage_id", "application__name", "application__translations")
    ):
        applications[stage_id].append(translated({"name": name, "translations": names}, "name"))
    for stage in stages:
        stage.service_refs = services[stage.pk]
        stage.application_names = applications[stage.pk]
    return stages


def measures_of(value_stream: ValueStream) -> FlowMeasures:
    return flow_measures(list(Stage.objects.filter(value_stream=value_stream)))


def with_measures(streams: QuerySet) -> QuerySet:
    """Annotate each stream with its measures, computed by the database in one query: the
    same figures as flow_measures.

    The rolled %C&A is exp(Σ ln(%C&A/100)) × 100, and 0 when any stage is at 0 %.
    """
    decimal = DecimalOutput(max_digits=30, decimal_places=10)
    zero = Value(Decimal(0), output_field=decimal)
    rolled = Exp(
        Sum(Ln(NullIf(F("stages__complete_accurate"), zero) / Value(HUNDRED)), output_field=decimal)
    ) * Value(HUNDRED)
    return streams.annotate(
        stage_count=Count("stages"),
        total_lead_time=Coalesce(Sum("stages__lead_time_minutes"), zero, output_field=decimal),
        total_process_time=Coalesce(
            Sum("stages__process_time_minutes"), zero, output_field=decimal
        ),
        moment_of_truth_count=Count("stages", filter=Q(stages__moment_of_truth=True)),
        lowest_complete_accurate=Min("stages__complete_accurate"),
    ).annotate(
        rolled_complete_accurate=Case(
            When(lowest_complete_accurate=0, then=zero),
            default=rolled,
            output_field=decimal,
        ),
        activity_ratio=Case(
            When(
                total_lead_time__gt=0,
                then=F("total_process_time") * Value(HUNDRED) / F("total_lead_time"),
            ),
            default=None,
            output_field=decimal,
        ),
    )


@dataclass(frozen=True)
class MeasureDifference:
    label: str
    kind: str  # "duration", "percent" or "count": how to show the values
    current: Decimal | int | None
    future: Decimal | int | None
    better_when: str  # "lower", "higher" or "" (neither)

    @property
    def change(self):
        if self.current is None or self.future is None:
            return None
        return self.future - self.current

    @property
    def verdict(self) -> str:
        """ "better", "worse", "same" or "" when the change cannot be judged."""
        change = self.change
        if change is None or not self.better_when:
            return ""
        if change == 0:
            return "same"
        improved = change < 0 if self.better_when == "lower" else change > 0
        return "better" if improved else "worse"


def measure_differences(*, current: FlowMeasures, future: FlowMeasures) -> list[MeasureDifference]:
    """What a future state changes in the measures of its current state."""
    return [
        MeasureDifference("Stages", "count", current.stage_count, future.stage_count, ""),
        MeasureDifference(
            "Total lead time", "duration", current.lead_time, future.lead_time, "lower"
        ),
        MeasureDifference(
            "Total process time", "duration", current.process_time, future.process_time, "lower"
        ),
        MeasureDifference(
            "Activity ratio", "percent", current.activity_ratio, future.activity_ratio, "higher"
        ),
        MeasureDifference(
            "Rolled %C&A",
            "percent",
            current.rolled_complete_accurate,
            future.rolled_complete_accurate,
            "higher",
        ),
        MeasureDifference(
            "Moments of Truth", "count", current.moments_of_truth, future.moments_of_truth, ""
        ),
    ]


# --- The cost of the services beneath each stage ---------------------------------------------


@dataclass(frozen=True)
class StreamCosts:
    """The kept cost a stream's stages carry, as the roll-up apportioned it (finance: each
    service's kept cost shared among the stage links to it by weight, so no service counts
    twice), from the latest period with results, current version. A future state's figure is
    a what-if: computed on its own links as if it replaced its current state. ``period`` is
    None when no figure was computed for the stream."""

    period: object | None
    currency: str
    per_stage: dict[int, Decimal | None]
    total: Decimal | None
    what_if: bool = False


def latest_stream_costs():
    """The latest period with results and its current version's ValueStreamCost rows, or
    (None, none) when nothing was computed."""
    from finance import selectors as finance
    from finance.models import ValueStreamCost

    period = finance.default_period()
    if period is None:
        return None, ValueStreamCost.objects.none()
    return period, ValueStreamCost.objects.filter(period=period, version=period.current_version)


def stream_costs(value_stream: ValueStream, stages: Sequence[Stage]) -> StreamCosts:
    """The apportioned cost of ``value_stream`` and of each of ``stages`` (three queries)."""
    from django.conf import settings

    from finance.models import StageCost

    currency = settings.PORTICO_CURRENCY
    period, rows = latest_stream_costs()
    row = rows.filter(value_stream=value_stream).first() if period is not None else None
    if row is None:
        return StreamCosts(None, currency, {stage.pk: None for stage in stages}, None)
    per_stage = dict(StageCost.objects.filter(stream_cost=row).values_list("stage_id", "cost"))
    return StreamCosts(
        period,
        currency,
        {stage.pk: per_stage.get(stage.pk) for stage in stages},
        row.cost,
        row.what_if,
    )


def with_costs(streams: QuerySet) -> QuerySet:
    """Annotate each stream with ``cost`` and ``cost_what_if`` from the latest period with
    results, current version (None where the stream has no figure)."""
    period, rows = latest_stream_costs()
    if period is None:
        return streams.annotate(
            cost=Value(None, output_field=DecimalOutput(max_digits=18, decimal_places=2)),
            cost_what_if=Value(None, output_field=BooleanField(null=True)),
        )
    mine = rows.filter(value_stream=OuterRef("pk"))
    return streams.annotate(
        cost=Subquery(mine.values("cost")[:1]),
        cost_what_if=Subquery(mine.values("what_if")[:1]),
    )


@dataclass(frozen=True)
class StreamTotals:
    """For the list of streams: the period, the current streams' total and the kept cost in no
    value stream (None when nothing was computed)."""

    period: object | None
    currency: str
    in_streams: Decimal | None
    in_no_value_stream: Decimal | None


def stream_totals() -> StreamTotals:
    """Σ current-state stream cost and Σ kept cost in no value stream of the latest period
    with results, current version: together they are the period's kept cost."""
    from django.conf import settings

    from finance.models import TcoResult

    currency = settings.PORTICO_CURRENCY
    period, rows = latest_stream_costs()
    if period is None:
        return StreamTotals(None, currency, None, None)
    in_streams = rows.filter(what_if=False).aggregate(total=Sum("cost"))["total"]
    remainder = TcoResult.objects.filter(period=period, version=period.current_version).aggregate(
        total=Sum("in_no_value_stream")
    )["total"]
    return StreamTotals(period, currency, in_streams or Decimal(0), remainder or Decimal(0))


# --- Service ownership -------------------------------------------------------------------------


def delivers_to_external_customer(stream: ValueStream) -> bool:
    """A stream delivers to an external customer when the customer it serves is external, or,
    with no customer of the portfolio named, when it maps the customer's experience."""
    if stream.customer_id is not None:
        return stream.customer.kind == CustomerKind.EXTERNAL
    return stream.experience == Experience.CUSTOMER


RESOLUTION_STEPS = (
    "Map the value streams that deliver the service to the external customer.",
    "Identify each value stream's owner: accountable end to end, from request to result.",
    "Understand how technology underpins each stream: which stages use the service, and "
    "which supporting services lie beneath it.",
    "Define the service portfolio: make the value-stream owner the service owner; the present "
    "owner can stay on as service manager (a delegate) for the parts IT delivers.",
)


@dataclass
class ServiceOwnership:
    service: Service
    streams: list[ValueStream] = field(default_factory=list)

    @property
    def external_streams(self) -> list[ValueStream]:
        return [stream for stream in self.streams if delivers_to_external_customer(stream)]

    @property
    def accountable_candidates(self) -> list:
        """The owners of the streams that deliver the service to an external customer."""
        owners = {}
        for stream in self.external_streams:
            owners.setdefault(stream.owner_id, stream.owner)
        return list(owners.values())

    @property
    def misplaced(self) -> bool:
        """The service owner is not the owner of a value stream that delivers it to an
        external customer (or the service has no owner at all)."""
        candidates = self.accountable_candidates
        return bool(candidates) and self.service.owner_id not in {u.pk for u in candidates}


def service_ownership(*, user) -> list[ServiceOwnership]:
    """Each customer-facing service in use with the current value streams it serves through
    their stages, and their owners. Three queries, whatever the size of the portfolio."""
    services = list(
        Service.objects.restrict(user, "view")
        .filter(kind=ServiceKind.CUSTOMER_FACING)
        .exclude(lifecycle=ServiceLifecycle.RETIRED)
        .select_related("owner")
        .order_by("name")
    )
    rows = {service.pk: ServiceOwnership(service=service) for service in services}
    visible_streams = ValueStream.objects.restrict(user, "view").filter(
        state=StreamState.CURRENT, retired_at__isnull=True
    )
    links = (
        Stage.services.through.objects.filter(
            service_id__in=rows, stage__value_stream__in=visible_streams
        )
        .values_list("service_id", "stage__value_stream_id")
        .distinct()
    )
    links = list(links)
    streams = {
        stream.pk: stream
        for stream in ValueStream.objects.filter(pk__in={s for _, s in links})
        .select_related("owner", "customer")
        .order_by("name")
    }
    for service_id, stream_id in sorted(links, key=lambda link: streams[link[1]].name):
        rows[service_id].streams.append(streams[stream_id])
    return list(rows.values())


def misplaced_service_owners(*, user) -> list[ServiceOwnership]:
    return [row for row in service_ownership(user=user) if row.misplaced]


@dataclass
class ServiceStreamUse:
    value_stream: ValueStream
    stages: list[Stage] = field(default_factory=list)


def streams_underpinned_by(service: Service, *, user) -> list[ServiceStreamUse]:
    """The value streams and stages ``service`` underpins, that ``user`` may see (one query)."""
    stages = (
        Stage.objects.filter(
            services=service, value_stream__in=ValueStream.objects.restrict(user, "view")
        )
        .select_related("value_stream", "value_stream__owner", "value_stream__customer")
        .order_by("value_stream__name", "value_stream_id", "position", "id")
    )
    uses: dict[int, ServiceStreamUse] = {}
    for stage in stages:
        use = uses.setdefault(stage.value_stream_id, ServiceStreamUse(stage.value_stream))
        use.stages.append(stage)
    return list(uses.values())


# --- Checks of the process model (USM requirements 5 and 9) -----------------------------------

REQUIREMENT_5 = (
    "USM requirement 5: a process has a customer-relevant and unique purpose, with a "
    "customer-relevant input (the request that triggers it) and a customer-relevant output "
    "(the response that ends it). Without them its output is an intermediate result that "
    "matters to the provider alone: a practice or a step, not a process."
)
REQUIREMENT_9 = (
    "USM requirement 9: in an integrated process model each activity occurs only once. Keep "
    "the activity in one process and connect the others to it."
)


@dataclass(frozen=True)
class Finding:
    requirement: int
    subject: object  # a ValueStream or a Process; for requirement 9, the first process
    problems: tuple[str, ...]
    explanation: str
    related: tuple = ()  # requirement 9: every process the activity occurs in

    @property
    def subject_kind(self) -> str:
        if isinstance(self.subject, ValueStream):
            return "value stream"
        return f"process, layer {self.subject.layer}"


def purpose_problems(subject) -> list[str]:
    """What keeps a stream or process from a customer-relevant trigger and result (req. 5).

    A process's customer is the customer of its value stream; one outside any value stream
    serves no customer the model knows.
    """
    problems = []
    if not subject.trigger.strip():
        problems.append("no trigger: the customer's request that starts it is not recorded")
    if not subject.result.strip():
        problems.append("no result: the response the customer receives at the end is missing")
    stream = subject if isinstance(subject, ValueStream) else subject.value_stream
    if stream is None:
        problems.append("no customer: it belongs to no value stream, so nobody outside asks")
    elif stream.customer_id is None and not stream.segment.strip():
        problems.append(
            "no customer: "
            + ("it names" if stream is subject else "its value stream names")
            + " no customer or segment"
        )
    return problems


def purpose_findings(*, streams: Iterable[ValueStream], processes: Iterable[Process]):
    findings = []
    for subject in [*streams, *processes]:
        problems = purpose_problems(subject)
        if problems:
            findings.append(Finding(5, subject, tuple(problems), REQUIREMENT_5))
    return findings


def activity_key(activity: str) -> str:
    """Activities compare without case, extra spaces or a final full stop."""
    return re.sub(r"\s+", " ", activity).strip().rstrip(".").casefold()


def duplicate_activity_findings(processes: Iterable[Process]) -> list[Finding]:
    """Every activity listed in more than one process (requirement 9)."""
    occurrences: dict[str, list[Process]] = defaultdict(list)
    wording: dict[str, str] = {}
    for process in processes:
        for activity in dict.fromkeys(activity_key(a) for a in process.activities):
            occurrences[activity].append(process)
        for activity in process.activities:
            wording.setdefault(activity_key(activity), activity.strip())
    findings = []
    for key, holders in sorted(occurrences.items()):
        if len(holders) > 1:
            problem = f"“{wording[key]}” occurs in {len(holders)} processes: " + ", ".join(
                p.name for p in holders
            )
            findings.append(Finding(9, holders[0], (problem,), REQUIREMENT_9, tuple(holders)))
    return findings


def process_model_checks(*, user) -> dict[str, list[Finding]]:
    """The requirement-5 and requirement-9 findings over what ``user`` may see (two queries)."""
    streams = list(
        ValueStream.objects.restrict(user, "view")
        .filter(retired_at__isnull=True)
        .select_related("customer")
    )
    processes = list(
        Process.objects.restrict(user, "view").select_related(
            "value_stream", "value_stream__customer"
        )
    )
    return {
        "purpose": purpose_findings(streams=streams, processes=processes),
        "duplicates": duplicate_activity_findings(processes),
    }


def moments_of_truth_of(process: Process) -> list[Stage]:
    return [stage for stage in process.stages.all() if stage.moment_of_truth]


# --- Improvement log ---------------------------------------------------------------------------


def expected_benefit_percent(*, benefit_from: Decimal, benefit_to: Decimal) -> Decimal:
    """The relative change the improvement promises, 0–100: |to − from| over the larger of
    |from| and |to|. Lead time from 5 days to 2 is 60; %C&A from 70 to 95 is 26.3."""
    largest = max(abs(benefit_from), abs(benefit_to))
    if largest == 0:
        return Decimal(0)
    return abs(benefit_to - benefit_from) / largest * HUNDRED


def priority_score(improvement: Improvement) -> Decimal:
    """Priority = expected benefit (percent) ÷ effort points (small 1, medium 2, large 3,
    very large 5), to one decimal: the benefit bought per unit of effort."""
    benefit = expected_benefit_percent(
        benefit_from=improvement.benefit_from, benefit_to=improvement.benefit_to
    )
    return (benefit / Effort(improvement.effort).points).quantize(Decimal("0.1"))


def by_priority(items) -> list[Improvement]:
    """``items`` each given its ``priority``, highest first (then by title)."""
    items = list(items)
    for item in items:
        item.priority = priority_score(item)
    return sorted(items, key=lambda i: (-i.priority, i.title))


OPEN_STATUSES = (
    ImprovementStatus.PROPOSED,
    ImprovementStatus.ACCEPTED,
    ImprovementStatus.IN_PROGRESS,
)


def open_improvements(value_stream: ValueStream) -> list[Improvement]:
    """The improvements of ``value_stream`` still open, highest priority first (one query)."""
    return by_priority(
        value_stream.improvements.filter(status__in=OPEN_STATUSES).select_related(
            "stage", "suggested_by"
        )
    )


BOARD_COLUMNS = (
    ImprovementStatus.PROPOSED,
    ImprovementStatus.ACCEPTED,
    ImprovementStatus.IN_PROGRESS,
    ImprovementStatus.DONE,
    ImprovementStatus.REJECTED,
)


@dataclass
class BoardColumn:
    status: str
    label: str
    items: list[Improvement]


def improvement_board(*, user, value_stream: ValueStream | None = None) -> list[BoardColumn]:
    """The whole improvement log in columns by status, highest priority first (one query).

    Every signed-in user reads all of it, whatever their role: the log is there to publicise
    improvements. Each item carries ``priority``, ``can_decide`` (may move it on the board:
    the stream's owner or a Portfolio manager) and ``can_edit`` (deciders, and the suggester
    while the item is proposed), asked of core.permissions for the whole board at once.
    """
    items = Improvement.objects.select_related(
        "value_stream", "value_stream__owner", "stage", "service", "item", "outcome", "suggested_by"
    )
    if value_stream is not None:
        items = items.filter(value_stream=value_stream)
    items = by_priority(items)
    rows = [row_of(item) for item in items]
    edits = [Change(row=row, before=row) for row in rows]
    decisions = [
        Change(row={**row, "status": ImprovementStatus.ACCEPTED}, before=row) for row in rows
    ]
    may_edit = permissions.refusals(user, "change", Improvement, edits)
    may_decide = permissions.refusals(user, "change", Improvement, decisions)
    columns = {status: BoardColumn(status, status.label, []) for status in BOARD_COLUMNS}
    for item, edit_refused, decide_refused in zip(items, may_edit, may_decide, strict=True):
        item.can_decide = decide_refused is None
        item.can_edit = edit_refused is None
        columns[item.status].items.append(item)
    return list(columns.values())


# --- Flow measures over time (the value-stream owner's dashboard) ----------------------------


@dataclass(frozen=True)
class MonthMeasures:
    """A stream's lead time (hours) and activity ratio (%) as its stages stood at the end of
    a month; None before the stream had stages."""

    month: str  # YYYY-MM
    lead_time_hours: Decimal | None
    activity_ratio: Decimal | None


def _month_ends(today: date, months: int) -> list[tuple[str, datetime]]:
    """The last ``months`` calendar months up to today's, oldest first, each with the moment
    it ends (today's month: now)."""
    ends = []
    year, month = today.year, today.month
    for _ in range(months):
        following = date(year + (month == 12), month % 12 + 1, 1)
        end = datetime.combine(following, time.min, tzinfo=timezone.get_current_timezone())
        ends.append((f"{year:04d}-{month:02d}", end))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(ends))


def measures_over_time(
    streams: Sequence[ValueStream], *, today: date, months: int = 12
) -> dict[int, list[MonthMeasures]]:
    """Each stream's lead time and activity ratio at the end of each of the last ``months``
    months, replayed from the change log of its stages (core.ObjectChange keeps every stage
    row before and after each write, through the browser, the API and the sync alike), in
    one query. The current month shows the stages as they are now."""
    ids = {stream.pk for stream in streams}
    if not ids:
        return {}
    stage_type = ContentType.objects.get_for_model(Stage)
    changes = (
        ObjectChange.objects.filter(content_type=stage_type)
        .filter(Q(after__value_stream_id__in=list(ids)) | Q(before__value_stream_id__in=list(ids)))
        .order_by("time", "id")
        .values_list("time", "object_id", "before", "after")
    )
    # stream -> stage -> (lead time, process time), as the replay reaches each moment
    state: dict[int, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    seen: set[int] = set()
    history: dict[int, list[MonthMeasures]] = {pk: [] for pk in ids}
    month_ends = _month_ends(today, months)
    position = 0

    def close_month(label: str) -> None:
        for pk in ids:
            stages = state[pk].values()
            if pk not in seen:
                history[pk].append(MonthMeasures(label, None, None))
                continue
            lead = sum((lt for lt, _ in stages), Decimal(0))
            process = sum((pt for _, pt in stages), Decimal(0))
            history[pk].append(
                MonthMeasures(
                    label,
                    (lead / 60).quantize(Decimal("0.1")),
                    (process / lead * HUNDRED).quantize(Decimal("0.1")) if lead > 0 else None,
                )
            )

    for moment, object_id, before, after in changes:
        while position < len(month_ends) and moment >= month_ends[position][1]:
            close_month(month_ends[position][0])
            position += 1
        if before and before.get("value_stream_id") in ids:
            state[before["value_stream_id"]].pop(object_id, None)
        if after and after.get("value_stream_id") in ids:
            stream = after["value_stream_id"]
            seen.add(stream)
            state[stream][object_id] = (
                Decimal(str(after.get("lead_time_minutes") or 0)),
                Decimal(str(after.get("process_time_minutes") or 0)),
            )
    while position < len(month_ends):
        close_month(month_ends[position][0])
        position += 1
    return history


def open_improvement_counts(streams: Sequence[ValueStream]) -> dict[int, int]:
    """Stream -> how many of its improvements are open (one query)."""
    return dict(
        Improvement.objects.filter(value_stream__in=streams, status__in=OPEN_STATUSES)
        .order_by()
        .values("value_stream")
        .annotate(n=Count("pk"))
        .values_list("value_stream", "n")
    )


def open_improvements_of(streams: Sequence[ValueStream], *, limit: int) -> list[Improvement]:
    """The open improvements of ``streams``, highest priority first (one query)."""
    items = Improvement.objects.filter(
        value_stream__in=streams, status__in=OPEN_STATUSES
    ).select_related("value_stream")
    return by_priority(items)[:limit]
