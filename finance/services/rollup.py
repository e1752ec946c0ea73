"""The TCO roll-up of a period: a run recorded from start to end, the engine fed from the
selectors, and its results written set-based."""

import dataclasses
import datetime
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from decimal import ROUND_HALF_EVEN
from decimal import Context
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction
from django.utils import timezone

from core.money import FIGURE_DIGITS
from core.money import from_cents
from finance import selectors
from finance import showback
from finance import tco
from finance.choices import PeriodStatus
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.choices import UnallocatedReason
from finance.models import CustomerStatement
from finance.models import Period
from finance.models import StageCost
from finance.models import StatementLine
from finance.models import TcoFlow
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from finance.models import ValueStreamCost
from finance.selectors import LoadedInputs
from finance.selectors import node_labels
from portfolio.choices import ServiceLifecycle
from portfolio.models import Service

logger = logging.getLogger(__name__)


# The first key of every period's roll-up lock (pg_advisory_lock(ROLLUP_LOCK, period id)).
ROLLUP_LOCK = 7_314_001
INTERRUPTED = (
    "Interrupted: the process computing it stopped before it finished (its worker was "
    "killed or lost its database connection). The period was marked for recomputation."
)


@contextmanager
def period_lock(period_id: int, *, wait: bool = True) -> Iterator[bool]:
    """Hold the roll-up lock of one period: one computation of a period at a time, on any
    node. Yields True when held; with ``wait=False``, False at once when another process
    holds it.

    A PostgreSQL session advisory lock on a connection of its own, so no transaction of the
    caller's can keep or lose it. It is released on exit, and by the server when the process
    dies, which is how reap_interrupted_runs tells a dead run from a running one: a run is
    created and finished only while its period's lock is held.
    """
    lock_connection = connection.get_new_connection(connection.get_connection_params())
    try:
        lock_connection.autocommit = True
        with lock_connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ROLLUP_LOCK, period_id])
                held = True
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ROLLUP_LOCK, period_id])
                held = cursor.fetchone()[0]
        yield held
    finally:
        lock_connection.close()  # ends the session, and with it the lock


def recompute_tco(
    *, period: Period, trigger: str = RunTrigger.MANUAL, user=None, note: str = ""
) -> TcoRun:
    """Compute the period's results from today's data and upsert them (same period and
    version: the same rows). A closed period is frozen: restate it instead. Waits while
    another process computes the same period."""
    if period.is_closed:
        raise ValidationError(f"{period} is closed: its results are frozen. Restate it instead.")
    with period_lock(period.pk):
        return _recompute_held(period, trigger=trigger, user=user, note=note)


def _recompute_held(period: Period, *, trigger: str, user=None, note: str = "") -> TcoRun:
    """recompute_tco with the period's lock held.

    The dirty marker is cleared in the transaction that writes the results, and only when no
    change reached the period since the run read its inputs (Period.change_serial): a change
    that arrives during the run keeps the period dirty, and a run that dies clears nothing.

    A run after changes (trigger ``change``) that are all known node by node
    (Period.changed_nodes) is incremental when this process holds the figures of the run
    that wrote the stored results: it reads the cost of the changed nodes only and
    recomputes what they reach (tco.reallocate), rounds the whole period again, and writes
    the rows that changed. Any other run is a full one.
    """
    _reap_held(period.pk)
    run = _start_run(period, trigger=trigger, user=user, note=note)
    with _recorded(run):
        # Read before the inputs: any change counted after this is not in these results.
        changes_seen, changed_nodes, computed_by, version = Period.objects.values_list(
            "change_serial", "changed_nodes", "computed_by", "current_version"
        ).get(pk=period.pk)
        previous = None
        computed = None
        if trigger == RunTrigger.CHANGE and changed_nodes:
            previous = _snapshot(period.pk, version, computed_by)
            if previous is not None:
                computed = _reallocate(period, previous, changed_nodes)
        if computed is None:
            previous = None
            computed = _allocate(period)
        else:
            run.note = (
                run.note
                or (
                    f"Incremental: {len(computed.reached or ())} of "
                    f"{len(computed.loaded.inputs.nodes)} nodes recomputed after changes to "
                    f"{len(changed_nodes)}."
                )[:500]
            )
        with transaction.atomic():
            locked = Period.objects.select_for_update().get(pk=period.pk)
            if locked.is_closed:
                raise ValidationError(f"{locked} was closed meanwhile: its results are frozen.")
            _write(locked, locked.current_version, run, computed, previous)
            Period.objects.filter(pk=period.pk, change_serial=changes_seen).update(
                recompute_requested_at=None, changed_nodes=[]
            )
        if trigger in KEEPS_FIGURES:
            _remember(period.pk, locked.current_version, run.pk, computed)
        else:
            _snapshots.pop(period.pk, None)  # no longer the stored figures
    return run


# --- The figures a run leaves for the next one ---------------------------------------------


@dataclass
class Computed:
    """A period's figures as one run computes them (exact and rounded), with its inputs and
    the rows it writes: what the next run of the period may start from."""

    loaded: LoadedInputs
    graph: tco.Graph
    allocation: tco.Allocation
    rounded: tco.Rounded
    reached: set[tco.Node] | None = None  # None: everything was computed
    # Filled in by _write: the rows as written, without the run's id.
    rows: dict[int, tuple] = field(default_factory=dict)
    unallocated_rows: list[tuple] = field(default_factory=list)
    served: showback.CostToServe | None = None
    streams: showback.StreamCost | None = None


@dataclass
class Snapshot:
    run_id: int
    version: int
    computed: Computed


# The last figures of the last few periods this process computed, by period id (several
# processes each keep their own: a process without the figures of the run that wrote the
# stored results computes the period in full). Only the runs of the worker's tasks keep them:
# a web process that computes a period when asked does not hold its figures afterwards.
SNAPSHOT_PERIODS = 3
KEEPS_FIGURES = {RunTrigger.CHANGE, RunTrigger.NIGHTLY}
_snapshots: OrderedDict[int, Snapshot] = OrderedDict()


def _remember(period_id: int, version: int, run_id: int, computed: Computed) -> None:
    # Each target's edges in, worked out now (after the write) rather than after the next edit.
    _ = computed.graph.incoming
    _snapshots.pop(period_id, None)
    _snapshots[period_id] = Snapshot(run_id, version, computed)
    while len(_snapshots) > SNAPSHOT_PERIODS:
        _snapshots.popitem(last=False)


def forget_snapshots() -> None:
    """Drop every period's remembered figures: the next run of each is a full one."""
    _snapshots.clear()


def _snapshot(period_id: int, version: int, computed_by: int | None) -> Computed | None:
    """This process's figures of the run that wrote the stored results of the period's
    current version, if it has them."""
    snapshot = _snapshots.get(period_id)
    if snapshot is None or (snapshot.run_id, snapshot.version) != (computed_by, version):
        return None
    if TcoRun.objects.filter(
        period_id=period_id, pk__gt=snapshot.run_id, outcome=RunOutcome.SUCCEEDED
    ).exists():
        return None  # a later run wrote results (its marker was overwritten)
    return snapshot.computed


def _reallocate(period: Period, previous: Computed, changed_nodes: list[str]) -> Computed | None:
    """The period's figures after changes to the cost recorded against ``changed_nodes``
    only, from ``previous``: the same figures as a full run's. None when a node is not one
    of the previous inputs' (the run is then a full one)."""
    before = previous.loaded.inputs
    seeds: set[tco.Node] = set()
    for key in changed_nodes:
        kind, _, pk = key.partition(":")
        node = (kind, int(pk))
        if node not in before.nodes:
            return None
        seeds.add(node)
    found = selectors.load_costs(period, seeds)
    costs = {node: vector for node, vector in before.costs.items() if node not in seeds}
    costs.update(found.costs)
    inputs = tco.Inputs(
        nodes=before.nodes, costs=costs, edges=before.edges, quantities=before.quantities
    )
    groups = {node: n for node, n in previous.loaded.node_groups.items() if node not in seeds}
    groups.update(found.groups)
    loaded = dataclasses.replace(
        previous.loaded,
        inputs=inputs,
        unconverted={
            key: amount
            for key, amount in previous.loaded.unconverted.items()
            if key[0] not in seeds
        }
        | found.unconverted,
        node_groups=groups,
        cost_groups=sum(groups.values()),
    )
    allocation, reached = tco.reallocate(inputs, previous.allocation, seeds, graph=previous.graph)
    rounded = tco.round_allocation(allocation, reuse=(previous.rounded, reached))
    return Computed(loaded, previous.graph, allocation, rounded, reached)


def recompute_dirty_periods(
    *, trigger: str = RunTrigger.CHANGE, marked_before: datetime.datetime | None = None
) -> list[TcoRun]:
    """Recompute every open period marked dirty (before ``marked_before`` when given), each
    once, oldest first. A period another process is computing is left to it: if the data
    changed after that run read it, the period stays dirty for the next sweep."""
    candidates = Period.objects.filter(
        status=PeriodStatus.OPEN, recompute_requested_at__isnull=False
    )
    if marked_before is not None:
        candidates = candidates.filter(recompute_requested_at__lte=marked_before)
    runs, failure = [], None
    for period in candidates.order_by("serial"):
        with period_lock(period.pk, wait=False) as held:
            if not held:
                continue
            # Another run may have computed it between the query and the lock.
            period.refresh_from_db()
            if period.is_closed or period.recompute_requested_at is None:
                continue
            try:
                runs.append(_recompute_held(period, trigger=trigger))
            except Exception as exc:  # it stays dirty; the retry or the sweep takes it up
                failure = failure or exc
    if failure is not None:
        raise failure
    return runs


def recompute_open_periods(*, trigger: str = RunTrigger.NIGHTLY) -> list[TcoRun]:
    """The nightly full recomputation: every open period."""
    runs, failure = [], None
    for period in Period.objects.filter(status=PeriodStatus.OPEN).order_by("serial"):
        with period_lock(period.pk):
            period.refresh_from_db()
            if period.is_closed:
                continue
            try:
                runs.append(_recompute_held(period, trigger=trigger))
            except Exception as exc:
                # Keep it dirty so the next run (or the retry) takes it up again.
                mark_period_dirty(period.pk)
                failure = failure or exc
    if failure is not None:
        raise failure
    return runs


def mark_period_dirty(period_id: int, *, since: datetime.datetime | None = None) -> None:
    """Mark an open period for recomputation (as of ``since``, default now), keeping an
    earlier marker."""
    Period.objects.filter(
        pk=period_id, status=PeriodStatus.OPEN, recompute_requested_at__isnull=True
    ).update(recompute_requested_at=since or timezone.now(), changed_nodes=None)


def reap_interrupted_runs() -> list[TcoRun]:
    """Runs left ``running`` by a process that died: mark each failed with the reason and
    its open period dirty again. A period whose lock is held is being computed: its run is
    alive and left alone."""
    reaped = []
    period_ids = (
        TcoRun.objects.filter(outcome=RunOutcome.RUNNING)
        .values_list("period_id", flat=True)
        .distinct()
    )
    for period_id in sorted(period_ids):
        with period_lock(period_id, wait=False) as held:
            if held:
                reaped += _reap_held(period_id)
    return reaped


def _reap_held(period_id: int) -> list[TcoRun]:
    """With the period's lock held, any run of it still ``running`` has lost its process."""
    runs = list(TcoRun.objects.filter(period_id=period_id, outcome=RunOutcome.RUNNING))
    if not runs:
        return []
    now = timezone.now()
    for run in runs:
        run.outcome, run.error, run.finished_at = RunOutcome.FAILED, INTERRUPTED, now
        run.input_total = run.kept_total = run.unallocated_total = None
        run.unconverted = {}
    TcoRun.objects.bulk_update(
        runs,
        ["outcome", "error", "finished_at", "input_total", "kept_total", "unallocated_total",
         "unconverted"],
    )  # fmt: skip
    # Dirty since the lost run began: the sweep recomputes it without a coalescing wait.
    mark_period_dirty(period_id, since=min(run.started_at for run in runs))
    logger.warning("Reaped %d interrupted roll-up run(s) of period %s", len(runs), period_id)
    return runs


def _start_run(period: Period, *, trigger: str, user=None, note: str = "") -> TcoRun:
    return TcoRun.objects.create(
        period=period,
        version=period.current_version,
        trigger=trigger,
        started_at=timezone.now(),
        note=note[:500],
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )


class _recorded:
    """Finish ``run``: outcome, end, duration; a failure is recorded with its error."""

    def __init__(self, run: TcoRun):
        self.run = run
        self.started = time.monotonic()

    def __enter__(self):
        return self.run

    def __exit__(self, exc_type, exc, tb):
        run = self.run
        run.finished_at = timezone.now()
        run.duration = timedelta(seconds=time.monotonic() - self.started)
        if exc is None:
            run.outcome = RunOutcome.SUCCEEDED
        else:
            run.outcome = RunOutcome.FAILED
            run.error = f"{exc_type.__name__}: {exc}"[:5000]
        fields = ["finished_at", "duration", "outcome", "error"]
        if exc is not None:
            # The computation was rolled back: the totals it set on the run mean nothing.
            run.input_total = run.kept_total = run.unallocated_total = None
            run.unconverted = {}
            fields += ["input_total", "kept_total", "unallocated_total", "unconverted"]
        TcoRun.objects.filter(pk=run.pk).update(**{name: getattr(run, name) for name in fields})
        return False


def _cents(value: int) -> Decimal:
    return from_cents(value)


def _cells_json(cells: list[int]) -> dict:
    by_category: dict[str, dict[str, int]] = {}
    for (category, expenditure), cents in zip(tco.CELLS, cells, strict=True):
        if cents:
            by_category.setdefault(category, {})[expenditure] = cents
    return by_category


def _allocate(period: Period) -> Computed:
    """Load the period's inputs, allocate and round: everything but the writing."""
    loaded = selectors.load_inputs(period=period)
    graph = tco.Graph.build(loaded.inputs)
    allocation = tco.allocate(loaded.inputs, graph=graph)
    return Computed(loaded, graph, allocation, tco.round_allocation(allocation))


def _compute(period: Period, version: int, run: TcoRun) -> None:
    """Load, allocate, round and write one period's results under ``version``."""
    _write(period, version, run, _allocate(period))


REASON_DETAIL = {
    UnallocatedReason.NO_TARGET.value: "It supports, covers or is allocated to nothing.",
    UnallocatedReason.RETIRED_TARGETS.value: "Everything it is allocated to is retired.",
    UnallocatedReason.ZERO_WEIGHT.value: "Every edge from it has weight zero.",
    UnallocatedReason.CLOSED_CYCLE.value: (
        "It depends, in a cycle, only on services that pass their cost back into the cycle: "
        "no consumer outside the cycle carries it."
    ),
    UnallocatedReason.NO_QUANTITIES.value: (
        "Its edges are driven, and none of its consumers has a quantity of the driver this month."
    ),
}

# Apps that own some dead-end pools say why their cost stays unallocated (cloud: an account's
# untagged spend): ``explain(period, pool_ids) -> {pool id: (reason, detail)}``.
DeadEndExplainer = Callable[[Period, set[int]], dict[int, tuple[str, str]]]
_dead_end_explainers: list[DeadEndExplainer] = []


def explain_dead_ends(explainer: DeadEndExplainer) -> None:
    """Register ``explainer`` (from the app's ready()); registering it again does nothing."""
    if explainer not in _dead_end_explainers:
        _dead_end_explainers.append(explainer)


def dead_end_explanations(period: Period, unallocated) -> dict[int, tuple[str, str]]:
    """The registered explanations of the pools left with no target (reason no_target)."""
    pools = {
        node[1]
        for node, reason in unallocated
        if node[0] == tco.POOL and reason == UnallocatedReason.NO_TARGET.value
    }
    explained: dict[int, tuple[str, str]] = {}
    if pools:
        for explainer in _dead_end_explainers:
            explained.update(explainer(period, pools))
    return explained


RESULT_COLUMNS = tuple(
    field.column for field in TcoResult._meta.concrete_fields if field.name != "id"
)
RESULT_KEY = ("period_id", "version", "service_id")
FOUR_PLACES = Decimal("0.0001")
# Room for any figure of FIGURE_DIGITS digits (the default context keeps 28).
FIGURE_CONTEXT = Context(prec=FIGURE_DIGITS + 20)


def _four_places(numerator: Decimal, denominator) -> Decimal:
    """A unit cost or a ratio, numerator / denominator, to four places (half to even),
    however large."""
    quotient = FIGURE_CONTEXT.divide(numerator, Decimal(denominator))
    return quotient.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN, context=FIGURE_CONTEXT)


def _wanted_services(loaded: LoadedInputs, rounded: tco.Rounded) -> list[int]:
    """The services that get a result: every service that is not retired, and any retired one
    that still has figures."""
    retired = set(
        Service.objects.filter(lifecycle=ServiceLifecycle.RETIRED).values_list("pk", flat=True)
    )
    service_ids = set(Service.objects.values_list("pk", flat=True))
    wanted = {pk for pk in service_ids if pk not in retired}
    wanted |= {node[1] for node in rounded.services} | set(loaded.revenue)
    wanted &= service_ids
    return sorted(wanted)


def _kept_cents(rounded: tco.Rounded) -> dict[int, int]:
    return {node[1]: sum(figures["kept"]) for node, figures in rounded.services.items()}


def _revenue_cents(loaded: LoadedInputs) -> dict[int, int]:
    return {pk: tco.round_half_even_cents(amount) for pk, amount in loaded.revenue.items()}


def _result_rows(
    period,
    version,
    run,
    loaded: LoadedInputs,
    rounded: tco.Rounded,
    wanted: list[int],
    served: showback.CostToServe,
    streams: showback.StreamCost,
):
    """One tuple per service of ``wanted`` in RESULT_COLUMNS order."""
    empty = {name: [0] * tco.NCELLS for name in tco.FIGURES}
    category_of = [category for category, _ in tco.CELLS]
    expenditure_of = [expenditure for _, expenditure in tco.CELLS]
    for pk in wanted:
        figures = rounded.services.get((tco.SERVICE, pk), empty)
        totals = {name: sum(figures[name]) for name in tco.FIGURES}
        cells = figures["tco"]
        by_category = dict.fromkeys(tco.CATEGORIES, 0)
        by_expenditure = dict.fromkeys(tco.EXPENDITURES, 0)
        for index, cents in enumerate(cells):
            if cents:
                by_category[category_of[index]] += cents
                by_expenditure[expenditure_of[index]] += cents
        revenue = tco.round_half_even_cents(loaded.revenue.get(pk, Decimal(0)))
        # Units and unit cost only when every subscription counts the same unit.
        unit_name = loaded.unit_names.get(pk, "")
        units = loaded.units.get(pk, Decimal(0)) if unit_name else Decimal(0)
        values = {
            "period_id": period.pk,
            "version": version,
            "service_id": pk,
            "run_id": run.pk,
            **{name: _cents(totals[name]) for name in tco.FIGURES},
            **{f"tco_{c}": _cents(by_category[c]) for c in tco.CATEGORIES},
            **{f"tco_{e}": _cents(by_expenditure[e]) for e in tco.EXPENDITURES},
            "revenue": _cents(revenue),
            "consumed_units": units,
            "unit_name": unit_name,
            "unit_cost": _four_places(_cents(totals["tco"]), units) if units else None,
            # A ratio to a cost of zero or below (credits exceeding the cost) means nothing.
            "recovery_ratio": (
                _four_places(Decimal(revenue), totals["kept"]) if totals["kept"] > 0 else None
            ),
            "margin": _cents(revenue - totals["kept"]),
            "not_charged": _cents(served.not_charged.get(pk, totals["kept"])),
            "in_no_value_stream": _cents(streams.in_no_value_stream.get(pk, totals["kept"])),
            "breakdown": json.dumps(
                {name: _cells_json(figures[name]) for name in tco.FIGURES if totals[name]}
            ),
        }
        yield tuple(values[column] for column in RESULT_COLUMNS)


def _copy(cursor, table: str, columns, rows) -> int:
    """COPY ``rows`` into ``table``; ``rows`` must not use the connection while it runs."""
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _replace(cursor, model, period, version: int, columns, rows) -> int:
    """Replace the rows of (``period``, ``version``) in ``model``'s table by ``rows``: one
    DELETE, then COPY."""
    table = model._meta.db_table
    cursor.execute(
        f"DELETE FROM {table} WHERE period_id = %s AND version = %s", [period.pk, version]
    )
    return _copy(cursor, table, columns, rows)


def _ids_by(cursor, model, key: str, period, version: int) -> dict[int, int]:
    """``key`` → id of the rows of (``period``, ``version``) in ``model``'s table."""
    cursor.execute(
        f"SELECT {key}, id FROM {model._meta.db_table} WHERE period_id = %s AND version = %s",
        [period.pk, version],
    )
    return dict(cursor.fetchall())


def _write_statements(cursor, period, version, run, loaded, served: showback.CostToServe):
    """Replace the customer statements of (period, version) and their lines: one statement
    per customer with a subscription in force."""
    statements, lines = CustomerStatement._meta.db_table, StatementLine._meta.db_table
    cursor.execute(
        f"DELETE FROM {lines} WHERE statement_id IN (SELECT id FROM {statements} "
        "WHERE period_id = %s AND version = %s)",
        [period.pk, version],
    )
    by_customer: dict[int, list[int]] = {}
    for subscription in loaded.subscriptions:
        by_customer.setdefault(subscription.customer, [0, 0])
        totals = by_customer[subscription.customer]
        totals[0] += served.line_revenue[subscription.id]
        totals[1] += served.line_cost[subscription.id]
    rows = []
    for customer, (revenue, cost) in sorted(by_customer.items()):
        # No ratio against a cost to serve of zero, or below zero (credits).
        ratio = _four_places(Decimal(revenue), cost) if cost > 0 else None
        rows.append(
            (period.pk, version, run.pk, customer, _cents(revenue), _cents(cost),
             _cents(revenue - cost), ratio)
        )  # fmt: skip
    _replace(
        cursor,
        CustomerStatement,
        period,
        version,
        ("period_id", "version", "run_id", "customer_id", "revenue", "cost_to_serve", "margin",
         "recovery_ratio"),
        rows,
    )  # fmt: skip
    ids = _ids_by(cursor, CustomerStatement, "customer_id", period, version)
    _copy(
        cursor,
        lines,
        ("statement_id", "subscription_id", "service_id", "units", "unit_name", "revenue",
         "cost_to_serve"),
        [
            (ids[s.customer], s.id, s.service, s.units, s.unit_name,
             _cents(served.line_revenue[s.id]), _cents(served.line_cost[s.id]))
            for s in loaded.subscriptions
        ],
    )  # fmt: skip


def _write_stream_costs(cursor, period, version, run, loaded, streams: showback.StreamCost):
    """Replace the value-stream costs of (period, version) and their stages' costs: one row
    per stream in force and per stage of it (zero when nothing reaches it)."""
    costs, stages = ValueStreamCost._meta.db_table, StageCost._meta.db_table
    cursor.execute(
        f"DELETE FROM {stages} WHERE stream_cost_id IN (SELECT id FROM {costs} "
        "WHERE period_id = %s AND version = %s)",
        [period.pk, version],
    )

    def cost_of(stream: int) -> int:
        if loaded.streams[stream]:
            return streams.what_if_stream_cost.get(stream, 0)
        return streams.stream_cost.get(stream, 0)

    _replace(
        cursor,
        ValueStreamCost,
        period,
        version,
        ("period_id", "version", "run_id", "value_stream_id", "cost", "what_if"),
        [
            (period.pk, version, run.pk, stream, _cents(cost_of(stream)), what_if)
            for stream, what_if in sorted(loaded.streams.items())
        ],
    )
    ids = _ids_by(cursor, ValueStreamCost, "value_stream_id", period, version)
    _copy(
        cursor,
        stages,
        ("stream_cost_id", "stage_id", "cost"),
        [
            (
                ids[stream],
                stage,
                _cents(
                    (
                        streams.what_if_stage_cost if loaded.streams[stream] else streams.stage_cost
                    ).get(stage, 0)
                ),
            )
            for stage, stream in sorted(loaded.stages.items())
        ],
    )


RUN_COLUMN = RESULT_COLUMNS.index("run_id")
SERVICE_COLUMN = RESULT_COLUMNS.index("service_id")


def _without_run(row: tuple, column: int) -> tuple:
    return row[:column] + row[column + 1 :]


def _write_flows(cursor, period, version, computed: Computed, previous: Computed | None):
    """Replace the flows of (period, version); after an incremental run, only those whose
    amount changed (the flows from the nodes it reached, when the graph is the previous
    one: the others kept their cents)."""
    rounded = computed.rounded
    columns = (
        "period_id", "version", "source_kind", "source_id", "target_kind", "target_id",
        "amount",
    )  # fmt: skip
    flows = rounded.flows

    def rows(edges):
        return (
            (
                period.pk,
                version,
                source[0],
                source[1],
                target[0],
                target[1],
                _cents(flows[(source, target)]),
            )
            for source, target in sorted(edges)
        )

    if previous is None:
        _replace(cursor, TcoFlow, period, version, columns, rows(e for e in flows if flows[e]))
        return
    if computed.graph is previous.graph and computed.reached is not None:
        candidates = {
            (source, share.target)
            for source in computed.reached
            for share in computed.graph.shares.get(source, ())
        }
    else:
        candidates = rounded.flows.keys() | previous.rounded.flows.keys()
    before = previous.rounded.flows
    changed = sorted(
        edge for edge in candidates if (flows.get(edge) or 0) != (before.get(edge) or 0)
    )
    if not changed:
        return
    cursor.execute(
        f"DELETE FROM {TcoFlow._meta.db_table} WHERE period_id = %s AND version = %s AND "
        "(source_kind, source_id, target_kind, target_id) IN "
        "(SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[]))",
        [
            period.pk,
            version,
            [source[0] for source, _ in changed],
            [source[1] for source, _ in changed],
            [target[0] for _, target in changed],
            [target[1] for _, target in changed],
        ],
    )
    _copy(cursor, TcoFlow._meta.db_table, columns, rows(e for e in changed if flows.get(e)))


def _write(period, version, run, computed: Computed, previous: Computed | None = None) -> None:
    """Upsert the results of (period, version) and replace its unallocated rows and flows,
    set-based: COPY into a temporary table, then one INSERT ... ON CONFLICT and one DELETE
    of the rows of services that have none any more. After an incremental run (``previous``:
    the figures it started from, which are the stored ones), only the rows that changed are
    written: a stored row keeps the run that last changed it.

    The period records the run as the one whose figures its results are (computed_by)."""
    loaded, rounded = computed.loaded, computed.rounded
    table = TcoResult._meta.db_table
    columns = ", ".join(RESULT_COLUMNS)
    updates = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in RESULT_COLUMNS if column not in RESULT_KEY
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS finance_result_load ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE finance_result_load")
        # Built before COPY starts: building them reads services on this same connection.
        wanted = _wanted_services(loaded, rounded)
        kept = _kept_cents(rounded)
        served = showback.cost_to_serve(
            kept={pk: kept.get(pk, 0) for pk in wanted},
            revenue=_revenue_cents(loaded),
            subscriptions=loaded.subscriptions,
        )
        streams = showback.stream_cost(
            kept={pk: kept.get(pk, 0) for pk in wanted},
            links=loaded.stage_links,
            what_if_links=loaded.what_if_links,
        )
        computed.served, computed.streams = served, streams
        services_count = len(wanted)
        fresh = wanted
        if previous is not None:
            # A row is worked out again only if its figures may have moved: the rounding
            # reuses a service's figures (the same object) when none of its cents moved.
            before = previous.rounded.services
            fresh = [
                pk
                for pk in wanted
                if pk not in previous.rows
                or rounded.services.get((tco.SERVICE, pk)) is not before.get((tco.SERVICE, pk))
                or served.not_charged.get(pk) != previous.served.not_charged.get(pk)
                or streams.in_no_value_stream.get(pk) != previous.streams.in_no_value_stream.get(pk)
            ]
        rows = list(_result_rows(period, version, run, loaded, rounded, fresh, served, streams))
        computed.rows = {} if previous is None else dict(previous.rows)
        computed.rows.update((row[SERVICE_COLUMN], _without_run(row, RUN_COLUMN)) for row in rows)
        if previous is not None:
            gone = sorted(set(previous.rows) - set(wanted))
            for pk in gone:
                del computed.rows[pk]
            rows = [
                row
                for row in rows
                if previous.rows.get(row[SERVICE_COLUMN]) != computed.rows[row[SERVICE_COLUMN]]
            ]
            if gone:
                cursor.execute(
                    f"DELETE FROM {table} WHERE period_id = %s AND version = %s "
                    "AND service_id = ANY(%s)",
                    [period.pk, version, gone],
                )
        if rows:
            _copy(cursor, "finance_result_load", RESULT_COLUMNS, rows)
            # A fresh temporary table has no statistics: without them the planner may check
            # each stored result against every loaded row (a second at 5,000 services).
            cursor.execute("ANALYZE finance_result_load")
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM finance_result_load "
                f"ON CONFLICT (period_id, version, service_id) DO UPDATE SET {updates}"
            )
        if previous is None:
            cursor.execute(
                f"DELETE FROM {table} AS result WHERE result.period_id = %s "
                "AND result.version = %s AND NOT EXISTS (SELECT 1 FROM finance_result_load "
                "AS fresh WHERE fresh.service_id = result.service_id)",
                [period.pk, version],
            )

        labels = node_labels(
            {node for node, _ in rounded.unallocated} | {node for node, _, _ in loaded.unconverted}
        )
        unallocated_rows = []
        explained = dead_end_explanations(period, rounded.unallocated)
        for (node, reason), cells in sorted(rounded.unallocated.items()):
            detail = REASON_DETAIL[reason]
            if node[0] == tco.POOL and reason == UnallocatedReason.NO_TARGET.value:
                reason, detail = explained.get(node[1], (reason, detail))
            unallocated_rows.append(
                (
                    period.pk, version, run.pk, node[0], node[1],
                    labels.get(node, f"{node[0]} {node[1]}")[:300], reason,
                    detail, _cents(sum(cells)), "", None,
                    json.dumps(_cells_json(cells)),
                )
            )  # fmt: skip
        unconverted_total: dict[str, Decimal] = {}
        for (node, currency, label), amount in sorted(loaded.unconverted.items()):
            unconverted_total[currency] = unconverted_total.get(currency, Decimal(0)) + amount
            unallocated_rows.append(
                (
                    period.pk, version, run.pk, node[0], node[1],
                    labels.get(node, f"{node[0]} {node[1]}")[:300], UnallocatedReason.NO_RATE,
                    f"No {currency} rate for {label}: this cost cannot be converted.",
                    None, currency, amount, "{}",
                )
            )  # fmt: skip
        computed.unallocated_rows = [_without_run(row, 2) for row in unallocated_rows]
        if previous is None or previous.unallocated_rows != computed.unallocated_rows:
            _replace(
                cursor,
                TcoUnallocated,
                period,
                version,
                (
                    "period_id", "version", "run_id", "source_kind", "source_id",
                    "source_label", "reason", "detail", "amount", "original_currency",
                    "original_amount", "breakdown",
                ),
                unallocated_rows,
            )  # fmt: skip
        _write_flows(cursor, period, version, computed, previous)
        if previous is None or (previous.served, previous.loaded.subscriptions) != (
            served,
            loaded.subscriptions,
        ):
            _write_statements(cursor, period, version, run, loaded, served)
        if previous is None or previous.streams != streams:
            _write_stream_costs(cursor, period, version, run, loaded, streams)
    Period.objects.filter(pk=period.pk).update(computed_by=run.pk)

    inputs_by_kind: dict[str, dict[str, Decimal]] = {}
    # In the nodes' order, whatever order the inputs were read in: an incremental run adds
    # up the same amounts in the same order as a full one.
    for node, vector in sorted(loaded.inputs.costs.items()):
        by_category = inputs_by_kind.setdefault(node[0], {})
        for (category, _), amount in zip(tco.CELLS, vector, strict=True):
            if amount:
                by_category[category] = by_category.get(category, Decimal(0)) + amount
    run.version = version
    run.input_total = _cents(rounded.input_total)
    run.kept_total = _cents(rounded.kept_total)
    run.unallocated_total = _cents(rounded.unallocated_total)
    run.unconverted = {
        "cost": {currency: str(amount) for currency, amount in sorted(unconverted_total.items())},
        "revenue": {
            currency: str(_cents(tco.round_half_even_cents(amount)))
            for currency, amount in sorted(loaded.revenue_unconverted.items())
        },
    }
    run.inputs_by_kind = {
        kind: {
            category: str(_cents(tco.round_half_even_cents(amount)))
            for category, amount in sorted(by_category.items())
        }
        for kind, by_category in sorted(inputs_by_kind.items())
    }
    run.services_count = services_count
    run.cost_groups_count = loaded.cost_groups
    run.save(
        update_fields=[
            "note",
            "version",
            "input_total",
            "kept_total",
            "unallocated_total",
            "unconverted",
            "inputs_by_kind",
            "services_count",
            "cost_groups_count",
        ]
    )
