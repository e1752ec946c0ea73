"""Writes and workflows of cost data and the TCO roll-up: the one place their rules live."""

import datetime
import json
import logging
import re
import time
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, localcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from core.services import delete_or_retire
from core.slugs import unique_slug
from finance import tco
from finance.choices import (
    CostCategory,
    Expenditure,
    PeriodStatus,
    ReportFormat,
    ReportOutcome,
    ReportPeriodSelector,
    ReportTrigger,
    RunOutcome,
    RunTrigger,
    UnallocatedReason,
)
from finance.models import (
    SCHEDULE_FIELDS,
    CostItem,
    CostPool,
    ExchangeRate,
    Period,
    PoolAllocation,
    ReportDefinition,
    ReportFile,
    ReportRun,
    TcoFlow,
    TcoResult,
    TcoRun,
    TcoUnallocated,
    fiscal_start_month,
    fiscal_year_of,
    month_serial,
    parse_label,
    serial_label,
)
from finance.selectors import node_for, node_labels
from portfolio.choices import ApplicationLifecycle, ServiceLifecycle
from portfolio.models import (
    Application,
    ApplicationSupport,
    Contract,
    ContractCoverage,
    Service,
    ServiceDependency,
    Subscription,
)

logger = logging.getLogger(__name__)

# A burst of edits becomes one run: the task waits this long before it looks for dirty periods.
COALESCE_SECONDS = 10
# A dirty marker older than this with no run since means the task was lost: enqueue again.
STALE_AFTER = timedelta(minutes=15)

# --- Periods ---------------------------------------------------------------------------------


def period_for(label: str, *, create: bool = False) -> Period:
    """The period ``YYYY-MM``; made (open) when ``create`` and it does not exist yet."""
    year, month = parse_label(label)
    period = Period.objects.filter(year=year, month=month).first()
    if period is None:
        if not create:
            raise ValidationError(f"There is no period {label}.")
        period = Period(year=year, month=month)
        period.full_clean()
        period.save()
    return period


def close_period(*, period: Period, user=None, trigger: str = RunTrigger.MANUAL) -> TcoRun:
    """Compute the period once more from today's data, then freeze those results."""
    run = _start_run(period, trigger=trigger, user=user, note="Closing the period")
    with _recorded(run), transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.is_closed:
            raise ValidationError(f"{locked} is already closed.")
        _compute(locked, locked.current_version, run)
        locked.status = PeriodStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = user if getattr(user, "is_authenticated", False) else None
        locked.recompute_requested_at = None
        locked.save()
    period.refresh_from_db()
    return run


def restate_period(*, period: Period, user=None, reason: str) -> TcoRun:
    """Compute a closed period again as a new version beside the frozen one."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the period is restated."})
    run = _start_run(period, trigger=RunTrigger.RESTATEMENT, user=user, note=reason[:500])
    with _recorded(run), transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if not locked.is_closed:
            raise ValidationError(
                f"{locked} is open: its figures follow the data; only a closed period is restated."
            )
        locked.current_version += 1
        locked.save()
        run.version = locked.current_version
        run.save(update_fields=["version"])
        _compute(locked, locked.current_version, run)
    period.refresh_from_db()
    return run


# --- The roll-up -----------------------------------------------------------------------------


def recompute_tco(
    *, period: Period, trigger: str = RunTrigger.MANUAL, user=None, note: str = ""
) -> TcoRun:
    """Compute the period's results from today's data and upsert them (same period and
    version: the same rows). A closed period is frozen: restate it instead."""
    if period.is_closed:
        raise ValidationError(f"{period} is closed: its results are frozen. Restate it instead.")
    run = _start_run(period, trigger=trigger, user=user, note=note)
    with _recorded(run), transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.is_closed:
            raise ValidationError(f"{locked} was closed meanwhile: its results are frozen.")
        _compute(locked, locked.current_version, run)
    return run


def recompute_dirty_periods(*, trigger: str = RunTrigger.CHANGE) -> list[TcoRun]:
    """Recompute every open period marked dirty, each once, oldest first."""
    with transaction.atomic():
        dirty = list(
            Period.objects.select_for_update(skip_locked=True)
            .filter(status=PeriodStatus.OPEN, recompute_requested_at__isnull=False)
            .order_by("serial")
        )
        Period.objects.filter(pk__in=[p.pk for p in dirty]).update(recompute_requested_at=None)
    return _recompute_each(dirty, trigger=trigger)


def recompute_open_periods(*, trigger: str = RunTrigger.NIGHTLY) -> list[TcoRun]:
    """The nightly full recomputation: every open period."""
    periods = list(Period.objects.filter(status=PeriodStatus.OPEN).order_by("serial"))
    Period.objects.filter(pk__in=[p.pk for p in periods]).update(recompute_requested_at=None)
    return _recompute_each(periods, trigger=trigger)


def _recompute_each(periods: list[Period], *, trigger: str) -> list[TcoRun]:
    runs, failure = [], None
    for period in periods:
        try:
            runs.append(recompute_tco(period=period, trigger=trigger))
        except Exception as exc:
            # Keep it dirty so the next run (or the retry) takes it up again.
            Period.objects.filter(pk=period.pk, status=PeriodStatus.OPEN).update(
                recompute_requested_at=timezone.now()
            )
            failure = failure or exc
    if failure is not None:
        raise failure
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


@dataclass
class LoadedInputs:
    """The engine's inputs for one period, plus what only the results need."""

    inputs: tco.Inputs
    # (node, currency, source period label) → original amount without a rate
    unconverted: dict[tuple[tco.Node, str, str], Decimal] = field(default_factory=dict)
    revenue: dict[int, Decimal] = field(default_factory=dict)
    units: dict[int, Decimal] = field(default_factory=dict)
    unit_names: dict[int, str] = field(default_factory=dict)
    revenue_unconverted: dict[str, Decimal] = field(default_factory=dict)
    cost_groups: int = 0


# Each item's share of this month in whole cents (capex: the odd cents go to its first
# months), converted at the rate of the item's own period, summed exactly (numeric) by
# target, category and opex/capex. Items whose currency has no rate are summed apart, in
# their own currency, by currency and period.
COST_SHARES_SQL = """
    WITH shares AS (
        SELECT ci.service_id, ci.application_id, ci.contract_id, ci.pool_id,
               ci.category, ci.expenditure, ci.currency, ci.period_id,
               ROUND(ci.amount * 100)::bigint / ci.spread_months
               + CASE WHEN %(serial)s - p.serial
                           < MOD(ROUND(ci.amount * 100)::bigint, ci.spread_months)
                      THEN 1 ELSE 0 END AS cents,
               CASE WHEN ci.currency = %(reporting)s THEN 1 ELSE r.rate END AS rate
          FROM {items} ci
          JOIN {periods} p ON p.id = ci.period_id
          LEFT JOIN {rates} r ON r.period_id = ci.period_id AND r.currency = ci.currency
         WHERE p.serial <= %(serial)s AND p.serial + ci.spread_months > %(serial)s
    )
    SELECT service_id, application_id, contract_id, pool_id, category, expenditure,
           CASE WHEN rate IS NULL THEN currency ELSE '' END AS unconverted_currency,
           CASE WHEN rate IS NULL THEN period_id END AS unconverted_period,
           SUM(cents * COALESCE(rate, 1)) AS cents
      FROM shares
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
"""

REVENUE_SQL = """
    SELECT s.service_id, s.currency,
           COALESCE(SUM(s.annual_charge), 0) AS annual,
           COALESCE(SUM(CASE WHEN s.annual_charge IS NULL
                             THEN s.units * s.price_per_unit END), 0) AS monthly,
           SUM(s.units) AS units, MIN(s.unit_name), MAX(s.unit_name)
      FROM {subscriptions} s
     WHERE s.start_date <= %(mid)s AND (s.end_date IS NULL OR s.end_date >= %(mid)s)
       AND (s.retired_at IS NULL OR s.retired_at >= %(mid_time)s)
     GROUP BY s.service_id, s.currency
     ORDER BY s.service_id, s.currency
"""


def monthly_share_cents(annual_cents: int, month: int) -> int:
    """A twelfth of an annual amount in whole cents; the cents left over go to the first
    months of the calendar year, so any twelve consecutive months add up to the amount."""
    base, extra = divmod(annual_cents, 12)
    return base + (1 if month <= extra else 0)


def load_inputs(*, period: Period) -> LoadedInputs:
    """Everything the engine needs for ``period``, in a fixed number of set-based queries."""
    reporting = settings.PORTICO_CURRENCY
    serial = period.serial
    mid = period.mid_month
    mid_time = timezone.make_aware(datetime.datetime(mid.year, mid.month, mid.day))

    nodes: dict[tco.Node, bool] = {}
    for pk, lifecycle in Service.objects.values_list("pk", "lifecycle"):
        nodes[(tco.SERVICE, pk)] = lifecycle == ServiceLifecycle.RETIRED
    for pk, lifecycle, retired_at in Application.objects.values_list(
        "pk", "lifecycle", "retired_at"
    ):
        retired = lifecycle == ApplicationLifecycle.RETIRED or retired_at is not None
        nodes[(tco.APPLICATION, pk)] = retired
    for pk, retired_at in Contract.objects.values_list("pk", "retired_at"):
        nodes[(tco.CONTRACT, pk)] = retired_at is not None
    for pk, retired_at in CostPool.objects.values_list("pk", "retired_at"):
        nodes[(tco.POOL, pk)] = retired_at is not None

    edges: list[tco.Edge] = []
    for application_id, service_id, weight in ApplicationSupport.objects.values_list(
        "application_id", "service_id", "weight"
    ):
        edges.append(tco.Edge((tco.APPLICATION, application_id), (tco.SERVICE, service_id), weight))
    for contract_id, service_id, application_id, weight in ContractCoverage.objects.values_list(
        "contract_id", "service_id", "application_id", "weight"
    ):
        target = (
            (tco.SERVICE, service_id)
            if service_id is not None
            else (tco.APPLICATION, application_id)
        )
        edges.append(tco.Edge((tco.CONTRACT, contract_id), target, weight))
    for pool_id, service_id, weight in PoolAllocation.objects.values_list(
        "pool_id", "service_id", "weight"
    ):
        edges.append(tco.Edge((tco.POOL, pool_id), (tco.SERVICE, service_id), weight))
    for provider_id, consumer_id, weight in ServiceDependency.objects.values_list(
        "provider_id", "consumer_id", "weight"
    ):
        edges.append(tco.Edge((tco.SERVICE, provider_id), (tco.SERVICE, consumer_id), weight))

    with connection.cursor() as cursor:
        cursor.execute(
            COST_SHARES_SQL.format(
                items=CostItem._meta.db_table,
                periods=Period._meta.db_table,
                rates=ExchangeRate._meta.db_table,
            ),
            {"serial": serial, "reporting": reporting},
        )
        groups = cursor.fetchall()
    rates: dict[str, Decimal] = dict(
        ExchangeRate.objects.filter(period=period).values_list("currency", "rate")
    )
    labels = {
        pk: f"{year:04d}-{month:02d}"
        for pk, year, month in Period.objects.filter(
            pk__in={row[7] for row in groups if row[7] is not None}
        ).values_list("pk", "year", "month")
    }
    loaded = LoadedInputs(inputs=tco.Inputs(nodes=nodes, costs={}, edges=edges))
    loaded.cost_groups = len(groups)
    costs = loaded.inputs.costs
    cell_index = tco.CELL_INDEX
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        for s_id, a_id, c_id, p_id, category, expenditure, currency, period_id, cents in groups:
            node = node_for(s_id, a_id, c_id, p_id)
            if currency:
                key = (node, currency, labels[period_id])
                loaded.unconverted[key] = loaded.unconverted.get(key, Decimal(0)) + Decimal(
                    cents
                ).scaleb(-2)
                continue
            vector = costs.get(node)
            if vector is None:
                vector = costs[node] = tco.zeros()
            vector[cell_index[(category, expenditure)]] += Decimal(cents).scaleb(-2)

        contracts = Contract.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=mid),
            Q(retired_at__isnull=True) | Q(retired_at__gte=mid_time),
            start_date__lte=mid,
        ).values_list("pk", "currency", "annual_value")
        vendor_cell = tco.CELL_INDEX[(CostCategory.VENDOR.value, Expenditure.OPEX.value)]
        for pk, currency, annual_value in contracts:
            cents = monthly_share_cents(int(annual_value * 100), period.month)
            if not cents:
                continue
            node = (tco.CONTRACT, pk)
            rate = Decimal(1) if currency == reporting else rates.get(currency)
            if rate is None:
                key = (node, currency, period.label)
                loaded.unconverted[key] = loaded.unconverted.get(key, Decimal(0)) + Decimal(
                    cents
                ).scaleb(-2)
                continue
            vector = costs.get(node)
            if vector is None:
                vector = costs[node] = tco.zeros()
            vector[vendor_cell] += Decimal(cents) * rate / 100

        with connection.cursor() as cursor:
            cursor.execute(
                REVENUE_SQL.format(subscriptions=Subscription._meta.db_table),
                {"mid": mid, "mid_time": mid_time},
            )
            for service_id, currency, annual, monthly, units, first, last in cursor.fetchall():
                amount = annual / 12 + monthly
                rate = Decimal(1) if currency == reporting else rates.get(currency)
                if rate is None:
                    loaded.revenue_unconverted[currency] = (
                        loaded.revenue_unconverted.get(currency, Decimal(0)) + amount
                    )
                else:
                    loaded.revenue[service_id] = (
                        loaded.revenue.get(service_id, Decimal(0)) + amount * rate
                    )
                loaded.units[service_id] = loaded.units.get(service_id, Decimal(0)) + units
                name = first if first == last else "units"
                previous = loaded.unit_names.get(service_id)
                loaded.unit_names[service_id] = name if previous in (None, name) else "units"
    return loaded


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _cells_json(cells: list[int]) -> dict:
    by_category: dict[str, dict[str, int]] = {}
    for (category, expenditure), cents in zip(tco.CELLS, cells, strict=True):
        if cents:
            by_category.setdefault(category, {})[expenditure] = cents
    return by_category


def _compute(period: Period, version: int, run: TcoRun) -> None:
    """Load, allocate, round and write one period's results under ``version``."""
    loaded = load_inputs(period=period)
    allocation = tco.allocate(loaded.inputs)
    rounded = tco.round_allocation(allocation)
    _write(period, version, run, loaded, rounded)


REASON_DETAIL = {
    UnallocatedReason.NO_TARGET.value: "It supports, covers or is allocated to nothing.",
    UnallocatedReason.RETIRED_TARGETS.value: "Everything it is allocated to is retired.",
    UnallocatedReason.ZERO_WEIGHT.value: "Every edge from it has weight zero.",
    UnallocatedReason.CLOSED_CYCLE.value: (
        "It depends, in a cycle, only on services that pass their cost back into the cycle: "
        "no consumer outside the cycle carries it."
    ),
}


RESULT_COLUMNS = tuple(
    field.column for field in TcoResult._meta.concrete_fields if field.name != "id"
)
RESULT_KEY = ("period_id", "version", "service_id")
FOUR_PLACES = Decimal("0.0001")


def _result_rows(period, version, run, loaded: LoadedInputs, rounded: tco.Rounded):
    """One tuple per service in RESULT_COLUMNS order: every service that is not retired, and
    any retired one that still has figures."""
    retired = set(
        Service.objects.filter(lifecycle=ServiceLifecycle.RETIRED).values_list("pk", flat=True)
    )
    service_ids = set(Service.objects.values_list("pk", flat=True))
    wanted = {pk for pk in service_ids if pk not in retired}
    wanted |= {node[1] for node in rounded.services} | set(loaded.revenue)
    wanted &= service_ids
    empty = {name: [0] * tco.NCELLS for name in tco.FIGURES}
    category_of = [category for category, _ in tco.CELLS]
    expenditure_of = [expenditure for _, expenditure in tco.CELLS]
    for pk in sorted(wanted):
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
        units = loaded.units.get(pk, Decimal(0))
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
            "unit_name": loaded.unit_names.get(pk, ""),
            "unit_cost": (_cents(totals["tco"]) / units).quantize(FOUR_PLACES) if units else None,
            "recovery_ratio": (
                (Decimal(revenue) / totals["kept"]).quantize(FOUR_PLACES)
                if totals["kept"]
                else None
            ),
            "margin": _cents(revenue - totals["kept"]),
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


def _write(period, version, run, loaded: LoadedInputs, rounded: tco.Rounded) -> None:
    """Upsert the results of (period, version) and replace its unallocated rows and flows,
    set-based: COPY into a temporary table, then one INSERT ... ON CONFLICT and one DELETE
    of the rows of services that have none any more."""
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
        rows = list(_result_rows(period, version, run, loaded, rounded))
        services_count = _copy(cursor, "finance_result_load", RESULT_COLUMNS, rows)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM finance_result_load "
            f"ON CONFLICT (period_id, version, service_id) DO UPDATE SET {updates}"
        )
        cursor.execute(
            f"DELETE FROM {table} AS result WHERE result.period_id = %s AND result.version = %s "
            "AND NOT EXISTS (SELECT 1 FROM finance_result_load AS fresh "
            "WHERE fresh.service_id = result.service_id)",
            [period.pk, version],
        )

        labels = node_labels(
            {node for node, _ in rounded.unallocated} | {node for node, _, _ in loaded.unconverted}
        )
        unallocated_rows = []
        for (node, reason), cells in sorted(rounded.unallocated.items()):
            unallocated_rows.append(
                (
                    period.pk, version, run.pk, node[0], node[1],
                    labels.get(node, f"{node[0]} {node[1]}")[:300], reason,
                    REASON_DETAIL[reason], _cents(sum(cells)), "", None,
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
        unallocated_table = TcoUnallocated._meta.db_table
        cursor.execute(
            f"DELETE FROM {unallocated_table} WHERE period_id = %s AND version = %s",
            [period.pk, version],
        )
        _copy(
            cursor,
            unallocated_table,
            (
                "period_id", "version", "run_id", "source_kind", "source_id", "source_label",
                "reason", "detail", "amount", "original_currency", "original_amount",
                "breakdown",
            ),
            unallocated_rows,
        )  # fmt: skip
        flow_table = TcoFlow._meta.db_table
        cursor.execute(
            f"DELETE FROM {flow_table} WHERE period_id = %s AND version = %s",
            [period.pk, version],
        )
        _copy(
            cursor,
            flow_table,
            (
                "period_id", "version", "source_kind", "source_id", "target_kind",
                "target_id", "amount",
            ),
            (
                (period.pk, version, source[0], source[1], target[0], target[1], _cents(cents))
                for (source, target), cents in sorted(rounded.flows.items())
                if cents
            ),
        )  # fmt: skip

    inputs_by_kind: dict[str, dict[str, Decimal]] = {}
    for node, vector in loaded.inputs.costs.items():
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


# --- Scheduling: a burst of edits becomes one run ----------------------------------------------


class PendingRecompute:
    """What changed in one transaction. On commit it marks the affected open periods dirty
    with one UPDATE and enqueues the recomputation task only if a period became dirty
    (a task is already waiting for the others)."""

    def __init__(self):
        self.done = False
        self.all_periods = False
        # (period id, months from it; None = that period and every later one)
        self.spans: set[tuple[int, int | None]] = set()

    def add(self, *, period_id: int | None = None, months: int | None = 1, all_periods=False):
        if all_periods or period_id is None:
            self.all_periods = True
        else:
            self.spans.add((period_id, months))

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            if mark_dirty(self):
                enqueue_recompute()
        except Exception as exc:  # the marker stays; the nightly run or a later edit takes it up
            logger.warning("Could not schedule the TCO recomputation: %s", exc)


def mark_dirty(pending: PendingRecompute) -> bool:
    """Mark the affected open periods dirty; True when a task should be enqueued."""
    open_periods = Period.objects.filter(status=PeriodStatus.OPEN)
    if not pending.all_periods:
        starts = dict(
            Period.objects.filter(pk__in={pk for pk, _ in pending.spans}).values_list(
                "pk", "serial"
            )
        )
        condition = Q(pk__in=[])
        for period_id, months in pending.spans:
            start = starts.get(period_id)
            if start is None:
                continue
            if months is None:
                condition |= Q(serial__gte=start)
            else:
                condition |= Q(serial__gte=start, serial__lt=start + months)
        open_periods = open_periods.filter(condition)
    now = timezone.now()
    newly = open_periods.filter(recompute_requested_at__isnull=True).update(
        recompute_requested_at=now
    )
    stale = open_periods.filter(recompute_requested_at__lt=now - STALE_AFTER).update(
        recompute_requested_at=now
    )
    return bool(newly or stale)


def enqueue_recompute() -> None:
    from finance.tasks import recompute_dirty_periods

    recompute_dirty_periods.apply_async(countdown=COALESCE_SECONDS)


def discard_scheduled_recompute() -> None:
    """Drop the recomputation this transaction scheduled (for a loader that rolls up every
    period it touched itself before committing)."""
    conn = transaction.get_connection()
    for _savepoints, callback, _robust in conn.run_on_commit:
        if isinstance(callback, PendingRecompute):
            callback.done = True


def request_recompute(*, period_id: int | None = None, months: int | None = 1, all_periods=False):
    """Schedule a recomputation of the open periods a change affects, after commit.

    All requests of one transaction share one PendingRecompute, so a thousand edits make one
    UPDATE and at most one task.
    """
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        # The callbacks waiting for this transaction's commit (Django keeps them as
        # (savepoint ids, callback, robust); a rolled-back savepoint drops its own).
        for _savepoints, callback, _robust in conn.run_on_commit:
            if isinstance(callback, PendingRecompute) and not callback.done:
                callback.add(period_id=period_id, months=months, all_periods=all_periods)
                return
    pending = PendingRecompute()
    pending.add(period_id=period_id, months=months, all_periods=all_periods)
    transaction.on_commit(pending, robust=True)


# --- Cost data -------------------------------------------------------------------------------


def save_cost_item(*, item: CostItem) -> CostItem:
    if item.expenditure == Expenditure.OPEX:
        item.spread_months = 1
    item.full_clean()
    item.save()
    return item


def remove_cost_item(*, item: CostItem) -> str:
    item.delete()
    return "deleted"


def save_pool(*, pool: CostPool) -> CostPool:
    if not pool.slug:
        pool.slug = unique_slug(CostPool, pool.name, instance_pk=pool.pk)
    pool.full_clean()
    pool.save()
    return pool


def remove_pool(*, pool: CostPool) -> str:
    """Delete a pool nothing refers to; retire one with cost items (its allocations are
    parts of it)."""
    return delete_or_retire(pool, parts=(PoolAllocation,))


def save_allocation(*, allocation: PoolAllocation) -> PoolAllocation:
    duplicate = PoolAllocation.objects.filter(
        pool_id=allocation.pool_id, service_id=allocation.service_id
    ).exclude(pk=allocation.pk)
    if duplicate.exists():
        raise ValidationError({"service": "This pool is already allocated to this service."})
    allocation.full_clean(validate_unique=False)
    allocation.save()
    return allocation


def save_rate(*, rate: ExchangeRate) -> ExchangeRate:
    duplicate = ExchangeRate.objects.filter(
        period_id=rate.period_id, currency=rate.currency
    ).exclude(pk=rate.pk)
    if duplicate.exists():
        raise ValidationError({"currency": f"{rate.currency} already has a rate in this period."})
    rate.full_clean(validate_unique=False)
    rate.save()
    return rate


def create_period(*, label: str) -> Period:
    year, month = parse_label(label)
    if Period.objects.filter(year=year, month=month).exists():
        raise ValidationError({"label": f"The period {label} exists already."})
    return period_for(label, create=True)


# --- Scheduled reports -----------------------------------------------------------------------

REPORT_TASK = "finance.tasks.run_report"
QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR_KEY = re.compile(r"^FY(\d{4})$")
PERIOD_KEY_FORMS = "YYYY-MM (a month), YYYY-Qn (a fiscal quarter) or FYyyyy (a fiscal year)"


@dataclass(frozen=True)
class ReportSpan:
    """The months a report covers: one month, a fiscal quarter or a fiscal year."""

    kind: str  # "month", "quarter" or "year"
    first: int  # month serial (finance.models.month_serial)
    last: int

    @property
    def serials(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def first_label(self) -> str:
        return serial_label(self.first)

    @property
    def last_label(self) -> str:
        return serial_label(self.last)

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.first // 12, self.first % 12 + 1)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return self.first_label
        if self.kind == "quarter":
            quarter = (self.first % 12 + 1 - fiscal_start_month()) % 12 // 3 + 1
            return f"{self.fiscal_year}-Q{quarter}"
        return f"FY{self.fiscal_year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.first_label
        if self.kind == "quarter":
            year, quarter = self.key.split("-")
            name = f"{quarter} of fiscal year {year}"
        else:
            name = f"Fiscal year {self.fiscal_year}"
        return f"{name} ({self.first_label} to {self.last_label})"


SELECTOR_SPAN = {
    ReportPeriodSelector.LAST_MONTH.value: "month",
    ReportPeriodSelector.LAST_QUARTER.value: "quarter",
    ReportPeriodSelector.LAST_YEAR.value: "year",
}
SPAN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def span_containing(kind: str, serial: int) -> ReportSpan:
    """The month, fiscal quarter or fiscal year that month ``serial`` belongs to."""
    fiscal_index = (serial % 12 + 1 - fiscal_start_month()) % 12
    if kind == "month":
        first = serial
    elif kind == "quarter":
        first = serial - fiscal_index % 3
    else:
        first = serial - fiscal_index
    return ReportSpan(kind, first, first + SPAN_MONTHS[kind] - 1)


def parse_report_period(text: str) -> ReportSpan:
    """``2025-03``, ``2025-Q1`` (quarter 1 of fiscal year 2025) or ``FY2025``."""
    value = (text or "").strip().upper()
    if quarter := QUARTER_KEY.match(value):
        year, number = int(quarter[1]), int(quarter[2])
        start = fiscal_start_month()
        first = month_serial(year - (1 if start != 1 else 0), start) + 3 * (number - 1)
        return ReportSpan("quarter", first, first + 2)
    if fiscal := YEAR_KEY.match(value):
        start = fiscal_start_month()
        first = month_serial(int(fiscal[1]) - (1 if start != 1 else 0), start)
        return ReportSpan("year", first, first + 11)
    try:
        year, month = parse_label(value)
    except ValidationError:
        raise ValidationError(
            {"period": f"A report period is written {PERIOD_KEY_FORMS}, not {text!r}."}
        ) from None
    serial = month_serial(year, month)
    return ReportSpan("month", serial, serial)


def resolve_report_period(
    *, selector: str, today: datetime.date | None = None, closed: set[int] | None = None
) -> ReportSpan:
    """The latest month, fiscal quarter or fiscal year whose every month is closed with
    results. When there is none yet: the latest one that has ended, so the run that finds it
    incomplete is recorded against it."""
    from finance.selectors import closed_months_with_results

    kind = SELECTOR_SPAN[selector]
    closed = closed_months_with_results() if closed is None else closed
    if closed:
        span = span_containing(kind, max(closed))
        while span.last >= min(closed):
            if all(serial in closed for serial in span.serials):
                return span
            span = span_containing(kind, span.first - 1)
    today = today or timezone.localdate()
    current = span_containing(kind, month_serial(today.year, today.month))
    return span_containing(kind, current.first - 1)


def report_periods(span: ReportSpan) -> tuple[list[Period], str]:
    """The periods of ``span`` and, when any month is not closed with results, why the
    report cannot be made (empty when it can)."""
    from finance.selectors import closed_months_with_results

    periods = {
        p.serial: p for p in Period.objects.filter(serial__gte=span.first, serial__lte=span.last)
    }
    closed = closed_months_with_results()
    missing = [serial_label(s) for s in span.serials if s not in periods]
    still_open = [
        serial_label(s) for s in span.serials if s in periods and not periods[s].is_closed
    ]
    empty = [
        serial_label(s)
        for s in span.serials
        if s in periods and periods[s].is_closed and s not in closed
    ]
    problems = []
    if missing:
        problems.append(f"no period for {', '.join(missing)}")
    if still_open:
        problems.append(f"{', '.join(still_open)} not closed yet")
    if empty:
        problems.append(f"no results in {', '.join(empty)}")
    if problems:
        return [], (
            f"{span.label} has no closed results: {'; '.join(problems)}. The report is made "
            "once every month of it is closed."
        )
    return [periods[s] for s in span.serials], ""


def clean_report_scope(scope: dict | None) -> dict:
    """Keep only the Fund services filters that are set; refuse a value they reject."""
    from finance.filtersets import FundServicesFilterSet
    from finance.selectors import scoped_results

    names = set(FundServicesFilterSet.base_filters)
    scope = {key: str(value).strip() for key, value in (scope or {}).items() if value}
    unknown = sorted(set(scope) - names)
    if unknown:
        raise ValidationError(
            {"scope": f"Unknown filter: {', '.join(unknown)}. Use {', '.join(sorted(names))}."}
        )
    scope = {key: value for key, value in scope.items() if value}
    scoped_results(periods=[], scope=scope)
    return scope


def save_report_definition(*, definition: ReportDefinition, user=None) -> ReportDefinition:
    """Validate and save a report, and keep its beat schedule in step."""
    definition.scope = clean_report_scope(definition.scope)
    definition.formats = [f for f in ReportFormat.values if f in set(definition.formats)]
    definition.recipients = list(dict.fromkeys(a.strip() for a in definition.recipients if a))
    if definition.pk is None and getattr(user, "is_authenticated", False):
        definition.created_by = user
    definition.full_clean()
    definition.save()
    sync_report_schedule(definition=definition)
    return definition


def sync_report_schedule(*, definition: ReportDefinition) -> PeriodicTask:
    """Create or update the report's CrontabSchedule and PeriodicTask (enabled with it), in
    the server's time zone; a crontab no entry uses any more is removed."""
    values = {name: getattr(definition, name) for name, _ in SCHEDULE_FIELDS}
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    crontab = CrontabSchedule.objects.filter(**values, timezone=zone).order_by("pk").first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**values, timezone=zone)
    task = definition.periodic_task or PeriodicTask()
    previous_crontab = task.crontab_id
    task.name = f"finance report {definition.pk}: {definition.name}"[:200]
    task.task = REPORT_TASK
    task.crontab = crontab
    task.interval = task.solar = task.clocked = None
    task.args = json.dumps([definition.pk])
    task.kwargs = "{}"
    task.enabled = definition.enabled
    task.description = f"Renders and e-mails the finance report “{definition.name}”."
    task.save()
    if definition.periodic_task_id != task.pk:
        ReportDefinition.objects.filter(pk=definition.pk).update(periodic_task=task)
        definition.periodic_task = task
    if previous_crontab and previous_crontab != crontab.pk:
        _drop_unused_crontab(previous_crontab)
    return task


def _drop_unused_crontab(crontab_id: int) -> None:
    CrontabSchedule.objects.filter(pk=crontab_id, periodictask__isnull=True).delete()


def delete_report_definition(*, definition: ReportDefinition) -> str:
    """Delete a report with its runs, files and beat entry."""
    task = definition.periodic_task
    definition.delete()
    if task is not None:
        crontab_id = task.crontab_id
        task.delete()
        if crontab_id:
            _drop_unused_crontab(crontab_id)
    return "deleted"


def queue_report_run(
    *, definition: ReportDefinition, resend: bool = False, period: str = "", user=None
) -> None:
    """Run a report in the background (after commit); ``period`` is checked now."""
    from finance.tasks import run_report as task

    key = parse_report_period(period).key if period else None
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    transaction.on_commit(
        lambda: task.apply_async(
            args=[definition.pk],
            kwargs={
                "resend": resend,
                "period": key,
                "trigger": ReportTrigger.MANUAL,
                "user_id": user_id,
            },
        )
    )


def run_report(
    definition: ReportDefinition,
    *,
    resend: bool = False,
    period: str | None = None,
    trigger: str = ReportTrigger.SCHEDULE,
    user=None,
    today: datetime.date | None = None,
) -> ReportRun:
    """Render, store and e-mail a report for one period (``period`` as in
    parse_report_period; by default the one its selector names).

    One run per report and period: a rerun regenerates the files in place. The e-mail (one
    message, every file attached, to every recipient) goes once per period unless
    ``resend``. A period that is not closed with results gives a skipped run with the reason.
    """
    from finance import reports

    span = (
        parse_report_period(period)
        if period
        else resolve_report_period(selector=definition.period_selector, today=today)
    )
    requested_by = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        run, _ = ReportRun.objects.get_or_create(
            definition=definition,
            period_key=span.key,
            defaults={"trigger": trigger, "started_at": timezone.now()},
        )
        run.trigger = trigger
        run.started_at = timezone.now()
        run.finished_at = None
        run.outcome = ReportOutcome.RUNNING
        run.first_month, run.last_month = span.first_label, span.last_label
        run.error = run.note = ""
        run.requested_by = requested_by
        run.save(update_fields=[*RUN_START_FIELDS, *RUN_END_FIELDS])
    run.delivery_failed = False

    try:
        periods, reason = report_periods(span)
        if reason:
            return _finish_run(run, ReportOutcome.SKIPPED, error=reason)
        data = reports.gather(definition=definition, span=span, periods=periods)
        rendered = [reports.render(data, fmt) for fmt in definition.formats]
        with transaction.atomic():
            now = timezone.now()
            for item in rendered:
                ReportFile.objects.update_or_create(
                    run=run,
                    format=item.format,
                    defaults={
                        "filename": item.filename,
                        "content_type": item.content_type,
                        "content": item.content,
                        "size": len(item.content),
                        "rendered_at": now,
                    },
                )
            run.files.exclude(format__in=definition.formats).delete()
    except Exception as exc:
        logger.exception("Report %s for %s failed", definition.pk, span.key)
        return _finish_run(run, ReportOutcome.FAILED, error=f"{type(exc).__name__}: {exc}")

    with transaction.atomic():
        # Locked while sending: two runs of one period cannot both send it.
        locked = ReportRun.objects.select_for_update().get(pk=run.pk)
        if locked.emailed_at is not None and not resend:
            run.emailed_at, run.emailed_to = locked.emailed_at, locked.emailed_to
            run.email_count = locked.email_count
            when = timezone.localtime(locked.emailed_at).strftime("%Y-%m-%d %H:%M")
            run.note = (
                f"Files made again; not e-mailed again (sent {when} to "
                f"{', '.join(locked.emailed_to)})."
            )[:500]
            return _finish_run(run, ReportOutcome.SUCCEEDED)
        try:
            reports.email(data, rendered, recipients=definition.recipients)
        except Exception as exc:
            run.delivery_failed = True
            return _finish_run(
                run, ReportOutcome.FAILED, error=f"The e-mail could not be sent: {exc}"
            )
        run.emailed_at = timezone.now()
        run.emailed_to = list(definition.recipients)
        run.email_count = locked.email_count + 1
        count = len(run.emailed_to)
        run.note = f"E-mailed to {count} recipient{pluralize(count)}" + (
            f" (time {run.email_count})." if run.email_count > 1 else "."
        )
        return _finish_run(run, ReportOutcome.SUCCEEDED, emailed=True)


RUN_START_FIELDS = ("trigger", "started_at", "first_month", "last_month", "requested_by")
RUN_END_FIELDS = ("outcome", "error", "note", "finished_at")
RUN_EMAIL_FIELDS = ("emailed_at", "emailed_to", "email_count")


def _finish_run(run: ReportRun, outcome: str, *, error: str = "", emailed=False) -> ReportRun:
    """Record how the run ended; the e-mail fields only by the run that sent it."""
    run.outcome = outcome
    run.error = error[:5000]
    run.finished_at = timezone.now()
    run.save(update_fields=[*RUN_END_FIELDS, *(RUN_EMAIL_FIELDS if emailed else ())])
    return run
