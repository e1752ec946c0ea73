"""Reusable reads of cost data and of the stored TCO results."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.conf import settings
from django.db import connection
from django.db.models import DecimalField, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from finance import tco
from finance.choices import CostCategory, Expenditure, NodeKind, PeriodStatus, UnallocatedReason
from finance.models import (
    CostItem,
    CostPool,
    ExchangeRate,
    Period,
    PoolAllocation,
    ReportFile,
    ReportRun,
    TcoResult,
    TcoRun,
    TcoUnallocated,
)
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

MONEY = DecimalField(max_digits=18, decimal_places=2)


def periods_with_results() -> QuerySet:
    return Period.objects.filter(results__isnull=False).distinct().order_by("-serial")


def default_period() -> Period | None:
    """The period a page shows unless told: the latest one with results."""
    return periods_with_results().first()


def previous_period(period: Period) -> Period | None:
    return Period.objects.filter(serial=period.serial - 1).first()


def results_for(*, period: Period, version: int | None = None) -> QuerySet:
    return TcoResult.objects.filter(
        period=period, version=version or period.current_version
    ).select_related("service", "service__owner")


def services_with_tco(*, period: Period, version: int | None = None) -> QuerySet:
    """Each service's result in ``period``, with its TCO in the previous month
    (``previous_tco``, None when there is none) for the change."""
    previous = previous_period(period)
    queryset = results_for(period=period, version=version)
    if previous is None:
        return queryset.annotate(previous_tco=Subquery(TcoResult.objects.none().values("tco")))
    earlier = TcoResult.objects.filter(
        period=previous, version=previous.current_version, service=OuterRef("service")
    ).values("tco")[:1]
    return queryset.annotate(previous_tco=Subquery(earlier, output_field=MONEY))


def period_totals(*, period: Period, version: int | None = None) -> dict:
    version = version or period.current_version
    totals = TcoResult.objects.filter(period=period, version=version).aggregate(
        kept=Coalesce(Sum("kept"), Decimal(0), output_field=MONEY),
        revenue=Coalesce(Sum("revenue"), Decimal(0), output_field=MONEY),
        **{
            f"kept_{category}": Coalesce(
                Sum(f"tco_{category}", filter=Q(passed_on=0)), Decimal(0), output_field=MONEY
            )
            for category in tco.CATEGORIES
        },
    )
    totals["unallocated"] = TcoUnallocated.objects.filter(
        period=period, version=version, amount__isnull=False
    ).aggregate(total=Coalesce(Sum("amount"), Decimal(0), output_field=MONEY))["total"]
    totals["margin"] = totals["revenue"] - totals["kept"]
    run = (
        TcoRun.objects.filter(period=period, version=version, outcome="succeeded")
        .order_by("-started_at")
        .first()
    )
    totals["run"] = run
    # The input as the roll-up read it from the ledger, so that "input = kept + unallocated"
    # is a check of the results, not a definition.
    allocated = totals["kept"] + totals["unallocated"]
    totals["input"] = allocated if run is None or run.input_total is None else run.input_total
    return totals


def unallocated_for(*, period: Period, version: int | None = None) -> list[TcoUnallocated]:
    return list(
        TcoUnallocated.objects.filter(
            period=period, version=version or period.current_version
        ).order_by("reason", "-amount", "source_label")
    )


def period_versions(
    *, period: Period, compare: int | None = None
) -> tuple[list[dict], dict | None]:
    """The totals of each version of ``period``, newest first, and what the current version
    changed against version ``compare`` (default: the one before; None when there is one
    version only). Each version's totals are read once."""
    totals = {
        version: period_totals(period=period, version=version)
        for version in range(period.current_version, 0, -1)
    }
    versions = [{"number": version, **values} for version, values in totals.items()]
    if period.current_version == 1:
        return versions, None
    new = period.current_version
    old = min(max(compare or new - 1, 1), new - 1)
    return versions, version_differences(period=period, old=old, new=new, totals=totals)


def version_differences(
    *, period: Period, old: int, new: int, totals: dict[int, dict] | None = None
) -> dict:
    """What a restatement changed: per service (only those that moved) and in total.
    ``totals`` are the versions' period_totals when the caller has them already."""
    rows = {}
    for result in TcoResult.objects.filter(period=period, version__in=(old, new)).select_related(
        "service"
    ):
        entry = rows.setdefault(
            result.service_id, {"service": result.service, "old": None, "new": None}
        )
        entry["old" if result.version == old else "new"] = result
    changed = []
    for entry in rows.values():
        old_tco = entry["old"].tco if entry["old"] else Decimal(0)
        new_tco = entry["new"].tco if entry["new"] else Decimal(0)
        old_kept = entry["old"].kept if entry["old"] else Decimal(0)
        new_kept = entry["new"].kept if entry["new"] else Decimal(0)
        old_revenue = entry["old"].revenue if entry["old"] else Decimal(0)
        new_revenue = entry["new"].revenue if entry["new"] else Decimal(0)
        if (old_tco, old_kept, old_revenue) == (new_tco, new_kept, new_revenue):
            continue
        changed.append(
            {
                **entry,
                "old_tco": old_tco,
                "new_tco": new_tco,
                "tco_change": new_tco - old_tco,
                "kept_change": new_kept - old_kept,
                "revenue_change": new_revenue - old_revenue,
            }
        )
    changed.sort(key=lambda row: (-abs(row["tco_change"]), row["service"].name))
    totals = totals or {}
    old_totals = totals.get(old) or period_totals(period=period, version=old)
    new_totals = totals.get(new) or period_totals(period=period, version=new)
    return {
        "old": old,
        "new": new,
        "rows": changed,
        "input_change": new_totals["input"] - old_totals["input"],
        "kept_change": new_totals["kept"] - old_totals["kept"],
        "unallocated_change": new_totals["unallocated"] - old_totals["unallocated"],
        "old_totals": old_totals,
        "new_totals": new_totals,
    }


# --- Lineage: computed on demand, never stored per pair ------------------------------------

ITEMS_SQL = """
    SELECT ci.id, ci.description, ci.service_id, ci.application_id, ci.contract_id, ci.pool_id,
           ci.category, ci.expenditure, ci.currency, ci.amount, ci.spread_months, ci.period_id,
           ROUND(ci.amount * 100)::bigint / ci.spread_months
           + CASE WHEN %(serial)s - p.serial
                       < MOD(ROUND(ci.amount * 100)::bigint, ci.spread_months)
                  THEN 1 ELSE 0 END AS cents
      FROM {items} ci
      JOIN {periods} p ON p.id = ci.period_id
     WHERE p.serial <= %(serial)s AND p.serial + ci.spread_months > %(serial)s
       AND (ci.service_id = ANY(%(services)s) OR ci.application_id = ANY(%(applications)s)
            OR ci.contract_id = ANY(%(contracts)s) OR ci.pool_id = ANY(%(pools)s))
"""


@dataclass
class LineageLine:
    kind: str  # "item" or "contract value"
    label: str
    node: tco.Node
    node_label: str
    category: str
    expenditure: str
    original: Decimal
    currency: str
    contribution: Decimal
    item_id: int | None = None
    converted: bool = True


@dataclass
class LineageEdge:
    source: tco.Node
    target: tco.Node
    source_label: str
    target_label: str
    weight: Decimal
    flow: Decimal
    contribution: Decimal


def lineage(*, service: Service, period: Period, limit: int = 50, loaded=None) -> dict:
    """Where ``service``'s fully-loaded TCO in ``period`` came from: the cost items (and
    contract values) and the edges, each with the part of it that reaches this service.

    Computed from today's data; for a closed period the frozen figure may differ, and the
    result says so. A caller tracing many services of one period passes the period's
    ``load_inputs`` once as ``loaded``.
    """
    target = (tco.SERVICE, service.pk)
    if loaded is None:
        loaded = load_inputs(period=period)
    factor = tco.absorption(loaded.inputs, target)
    upstream = set(factor)
    restricted = tco.Inputs(
        nodes=loaded.inputs.nodes,
        costs={node: vector for node, vector in loaded.inputs.costs.items() if node in upstream},
        edges=[edge for edge in loaded.inputs.edges if edge.source in upstream],
    )
    allocation = tco.allocate(restricted)
    gross = sum(allocation.gross.get(target, tco.zeros()), Decimal(0))
    by_kind: dict[str, list[int]] = {kind: [] for kind in NodeKind.values}
    for kind, pk in upstream:
        by_kind[kind].append(pk)
    labels = node_labels(upstream)

    lines: list[LineageLine] = []
    reporting = settings.PORTICO_CURRENCY
    rates = {(period_id, currency): rate for period_id, currency, rate in _rates_for(period)}
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        with connection.cursor() as cursor:
            cursor.execute(
                ITEMS_SQL.format(items=CostItem._meta.db_table, periods=Period._meta.db_table),
                {
                    "serial": period.serial,
                    "services": by_kind[tco.SERVICE],
                    "applications": by_kind[tco.APPLICATION],
                    "contracts": by_kind[tco.CONTRACT],
                    "pools": by_kind[tco.POOL],
                },
            )
            for row in cursor.fetchall():
                (
                    pk,
                    description,
                    s_id,
                    a_id,
                    c_id,
                    p_id,
                    category,
                    expenditure,
                    currency,
                    amount,
                    spread,
                    period_id,
                    cents,
                ) = row
                node = node_for(s_id, a_id, c_id, p_id)
                rate = Decimal(1) if currency == reporting else rates.get((period_id, currency))
                share = Decimal(cents) / 100
                contribution = share * rate * factor[node] if rate is not None else Decimal(0)
                label = description if spread == 1 else f"{description} (1/{spread} of {amount})"
                lines.append(
                    LineageLine(
                        "item",
                        label,
                        node,
                        labels.get(node, ""),
                        category,
                        expenditure,
                        share,
                        currency,
                        contribution,
                        pk,
                        rate is not None,
                    )
                )
        for contract in Contract.objects.filter(pk__in=by_kind[tco.CONTRACT]):
            node = (tco.CONTRACT, contract.pk)
            mid = period.mid_month
            in_term = (
                contract.start_date <= mid
                and (contract.end_date is None or contract.end_date >= mid)
                and (contract.retired_at is None or contract.retired_at.date() >= mid)
            )
            if not in_term:
                continue
            share = Decimal(monthly_share_cents(int(contract.annual_value * 100), period.month))
            share /= 100
            rate = (
                Decimal(1)
                if contract.currency == reporting
                else rates.get((period.pk, contract.currency))
            )
            contribution = share * rate * factor[node] if rate is not None else Decimal(0)
            lines.append(
                LineageLine(
                    "contract value",
                    f"A twelfth of {contract.annual_value:,.2f} {contract.currency} a year",
                    node,
                    labels.get(node, ""),
                    "vendor",
                    "opex",
                    share,
                    contract.currency,
                    contribution,
                    None,
                    rate is not None,
                )
            )
        edges = []
        for edge in restricted.edges:
            flow = allocation.flows.get((edge.source, edge.target))
            reach = factor.get(edge.target)
            if not flow or not reach:
                continue
            edges.append(
                LineageEdge(
                    edge.source,
                    edge.target,
                    labels.get(edge.source, ""),
                    labels.get(edge.target, ""),
                    edge.weight,
                    flow,
                    flow * reach,
                )
            )
        traced = sum((line.contribution for line in lines), Decimal(0))
    lines.sort(key=lambda line: (-line.contribution, line.label))
    edges.sort(key=lambda edge: (-edge.contribution, edge.source_label))
    stored = TcoResult.objects.filter(
        period=period, version=period.current_version, service=service
    ).first()
    recomputed = tco.round_half_even_cents(gross)
    return {
        "service": service,
        "period": period,
        "lines": lines[:limit],
        "line_count": len(lines),
        "edges": edges[:limit],
        "edge_count": len(edges),
        "traced": Decimal(tco.round_half_even_cents(traced)).scaleb(-2),
        "gross": Decimal(recomputed).scaleb(-2),
        "exact": gross,
        "stored": stored,
        "differs": stored is not None and not tco.agrees_to_the_cent(stored.tco, gross),
        "unconverted": [line for line in lines if not line.converted],
    }


def _rates_for(period: Period):
    from finance.models import ExchangeRate

    return ExchangeRate.objects.filter(period__serial__lte=period.serial).values_list(
        "period_id", "currency", "rate"
    )


def node_for(service_id, application_id, contract_id, pool_id) -> tco.Node:
    """The node a cost item (or a row of one) is recorded against: its one target."""
    if service_id is not None:
        return (tco.SERVICE, service_id)
    if application_id is not None:
        return (tco.APPLICATION, application_id)
    if contract_id is not None:
        return (tco.CONTRACT, contract_id)
    return (tco.POOL, pool_id)


def node_labels(nodes) -> dict[tco.Node, str]:
    wanted: dict[str, list[int]] = {kind: [] for kind in NodeKind.values}
    for kind, pk in nodes:
        wanted[kind].append(pk)
    labels: dict[tco.Node, str] = {}
    for pk, name in Service.objects.filter(pk__in=wanted[tco.SERVICE]).values_list("pk", "name"):
        labels[(tco.SERVICE, pk)] = name
    for pk, name in Application.objects.filter(pk__in=wanted[tco.APPLICATION]).values_list(
        "pk", "name"
    ):
        labels[(tco.APPLICATION, pk)] = name
    for pk, ref, title in Contract.objects.filter(pk__in=wanted[tco.CONTRACT]).values_list(
        "pk", "reference", "title"
    ):
        labels[(tco.CONTRACT, pk)] = f"{ref} {title}"
    for pk, name in CostPool.objects.filter(pk__in=wanted[tco.POOL]).values_list("pk", "name"):
        labels[(tco.POOL, pk)] = name
    return labels


# --- Cost completeness of one service ------------------------------------------------------


def cost_completeness(*, service: Service, period: Period | None) -> dict:
    """Whether the cost picture of ``service`` in ``period`` is complete, check by check:
    read-only information for the service page."""
    checks = []
    if period is None:
        return {"period": None, "checks": [], "complete": False}
    result = TcoResult.objects.filter(
        period=period, version=period.current_version, service=service
    ).first()
    checks.append(
        {
            "label": f"Cost reaches the service in {period}",
            "ok": result is not None and result.tco > 0,
            "detail": "" if result is not None and result.tco > 0 else "No cost at all.",
        }
    )
    supports = list(
        ApplicationSupport.objects.filter(service=service, application__retired_at__isnull=True)
        .exclude(application__lifecycle="retired")
        .values_list("application_id", "application__name")
    )
    application_ids = [pk for pk, _ in supports]
    with_cost = set(
        CostItem.objects.filter(application_id__in=application_ids, period=period).values_list(
            "application_id", flat=True
        )
    ) | set(
        ContractCoverage.objects.filter(application_id__in=application_ids).values_list(
            "application_id", flat=True
        )
    )
    missing = [name for pk, name in supports if pk not in with_cost]
    checks.append(
        {
            "label": "Every supporting application has cost",
            "ok": not missing,
            "detail": ("No cost this period: " + ", ".join(missing)) if missing else "",
        }
    )
    mid = period.mid_month
    contracts = list(
        Contract.objects.filter(coverages__service=service)
        .distinct()
        .values_list("reference", "annual_value", "start_date", "end_date")
    )
    idle = [
        reference
        for reference, value, start, end in contracts
        if not value or start > mid or (end is not None and end < mid)
    ]
    checks.append(
        {
            "label": "Every underpinning contract brings a value this month",
            "ok": not idle,
            "detail": ("No value or out of term: " + ", ".join(idle)) if idle else "",
        }
    )
    related = Q(source_kind=tco.SERVICE, source_id=service.pk) | Q(
        source_kind=tco.APPLICATION, source_id__in=application_ids
    )
    no_rate = TcoUnallocated.objects.filter(
        related,
        period=period,
        version=period.current_version,
        reason=UnallocatedReason.NO_RATE,
    ).values_list("original_currency", flat=True)
    currencies = sorted(set(no_rate))
    checks.append(
        {
            "label": "Every currency has a rate",
            "ok": not currencies,
            "detail": ("Missing: " + ", ".join(currencies)) if currencies else "",
        }
    )
    if service.kind != "supporting":
        has_revenue = Subscription.objects.filter(service=service, retired_at__isnull=True).exists()
        checks.append(
            {
                "label": "Revenue or charge is recorded",
                "ok": has_revenue,
                "detail": "" if has_revenue else "No subscription: no revenue to compare.",
            }
        )
    return {
        "period": period,
        "checks": checks,
        "complete": all(check["ok"] for check in checks),
    }


def service_panel(*, request, service: Service) -> dict:
    """The TCO panel of a service page: the period asked for (``?tco_period=``) or the
    latest with a result for this service."""
    periods = list(
        Period.objects.filter(results__service=service).distinct().order_by("-serial")[:24]
    )
    wanted = request.GET.get("tco_period", "") if request is not None else ""
    period = next((p for p in periods if p.label == wanted), periods[0] if periods else None)
    result = previous = None
    versions = []
    if period is not None:
        result = TcoResult.objects.filter(
            period=period, version=period.current_version, service=service
        ).first()
        before = previous_period(period)
        if before is not None:
            previous = TcoResult.objects.filter(
                period=before, version=before.current_version, service=service
            ).first()
        versions = list(
            TcoResult.objects.filter(period=period, service=service)
            .order_by("version")
            .values_list("version", "tco")
        )
    rows = []
    if result is not None:
        for category, label in tco_categories():
            cells = result.breakdown.get("tco", {}).get(category, {})
            rows.append(
                {
                    "label": label,
                    "opex": Decimal(cells.get("opex", 0)) / 100,
                    "capex": Decimal(cells.get("capex", 0)) / 100,
                    "total": getattr(result, f"tco_{category}"),
                }
            )
    return {
        "periods": periods,
        "period": period,
        "result": result,
        "previous": previous,
        "change": (result.tco - previous.tco) if result and previous else None,
        "rows": rows,
        "versions": versions if len(versions) > 1 else [],
        "completeness": cost_completeness(service=service, period=period),
        "closed": period is not None and period.status == PeriodStatus.CLOSED,
    }


def tco_categories():
    from finance.choices import CostCategory

    return CostCategory.choices


def sankey(*, period: Period, version: int | None = None):
    """The period's flow chart, laid out (finance.charts)."""
    from django.urls import reverse

    from finance import charts
    from finance.models import TcoFlow

    version = version or period.current_version
    run = (
        TcoRun.objects.filter(period=period, version=version, outcome="succeeded")
        .order_by("-started_at")
        .first()
    )
    results = list(
        TcoResult.objects.filter(period=period, version=version).only("service_id", *tco.FIGURES)
    )
    flows = list(
        TcoFlow.objects.filter(period=period, version=version).values_list(
            "source_kind", "source_id", "target_kind", "target_id", "amount"
        )
    )
    unallocated = list(
        TcoUnallocated.objects.filter(
            period=period, version=version, amount__isnull=False
        ).values_list("source_kind", "source_id", "amount")
    )
    pattern = reverse("portfolio:service_detail", args=["slug-placeholder"])
    services = {
        pk: (name, pattern.replace("slug-placeholder", slug))
        for pk, name, slug in Service.objects.filter(
            pk__in=[r.service_id for r in results]
        ).values_list("pk", "name", "slug")
    }
    return charts.build(
        inputs_by_kind=run.inputs_by_kind if run else {},
        results=results,
        flows=flows,
        unallocated=unallocated,
        services=services,
    )


# --- Scheduled reports: the figures of one or more closed months ----------------------------

# A result's TCO split by category and by opex/capex (its tco_* fields).
RESULT_SPLITS = (*(f"tco_{category}" for category in tco.CATEGORIES), "tco_opex", "tco_capex")
REPORT_MONEY = (*RESULT_SPLITS, *tco.FIGURES, "revenue", "margin")


def closed_months_with_results() -> set[int]:
    """The serials of closed months that have results in their current version."""
    return set(
        Period.objects.filter(
            status=PeriodStatus.CLOSED,
            results__version=F("current_version"),
        )
        .values_list("serial", flat=True)
        .distinct()
    )


def _current_versions(periods: list[Period]) -> Q:
    """Rows of the current version of each of ``periods`` (results or unallocated lines)."""
    condition = Q(pk__in=[])
    for period in periods:
        condition |= Q(period=period, version=period.current_version)
    return condition


def _current_results(periods: list[Period]) -> QuerySet:
    return TcoResult.objects.filter(_current_versions(periods))


def scoped_results(*, periods: list[Period], scope: dict) -> QuerySet:
    """The current results of ``periods`` narrowed by ``scope``: the Fund services page's
    filters (FundServicesFilterSet) with the values that page takes. A scope that no longer
    fits (a customer renamed, an owner gone) is refused, naming the filter."""
    from django.core.exceptions import ValidationError

    from finance.filtersets import FundServicesFilterSet

    filterset = FundServicesFilterSet(scope or {}, _current_results(periods))
    if not filterset.is_valid():
        problems = [
            f"{filterset.form.fields[name].label}: {' '.join(errors)}"
            if name in filterset.form.fields
            else " ".join(errors)
            for name, errors in filterset.errors.items()
        ]
        raise ValidationError({"scope": problems})
    return filterset.qs


def report_services(*, periods: list[Period], scope: dict) -> list[dict]:
    """One row per service in scope, its figures summed over ``periods`` (highest TCO first).

    Ratios are worked out from the sums: recovery = revenue / kept, unit cost = TCO / units
    (for several months, the cost of a unit for a month, on average).
    """
    rows: dict[int, dict] = {}
    results = scoped_results(periods=periods, scope=scope).select_related(
        "service", "service__owner"
    )
    for result in results.order_by("service__name", "period__serial"):
        row = rows.get(result.service_id)
        if row is None:
            row = rows[result.service_id] = {
                "service": result.service,
                "units": Decimal(0),
                "unit_names": set(),
                **dict.fromkeys(REPORT_MONEY, Decimal(0)),
            }
        for name in REPORT_MONEY:
            row[name] += getattr(result, name)
        row["units"] += result.consumed_units
        if result.unit_name:
            row["unit_names"].add(result.unit_name)
    for row in rows.values():
        row["received"] = (
            row["received_applications"]
            + row["received_contracts"]
            + row["received_pools"]
            + row["received_services"]
        )
        row["recovery_ratio"] = (
            (row["revenue"] / row["kept"]).quantize(Decimal("0.0001")) if (row["kept"]) else None
        )
        row["unit_cost"] = (
            (row["tco"] / row["units"]).quantize(Decimal("0.01")) if (row["units"]) else None
        )
        names = row.pop("unit_names")
        row["unit_name"] = names.pop() if len(names) == 1 else ("units" if names else "")
    return sorted(rows.values(), key=lambda row: (-row["tco"], row["service"].name))


def report_totals(*, periods: list[Period]) -> dict:
    """``period_totals`` of each month and their sum (organisation-wide, whatever a report's
    scope): the ledger's input against kept + unallocated, month by month and in total."""
    months = []
    total = dict.fromkeys(("input", "kept", "unallocated", "revenue", "margin"), Decimal(0))
    for period in sorted(periods, key=lambda p: p.serial):
        figures = period_totals(period=period)
        months.append({"period": period, "version": period.current_version, **figures})
        for name in total:
            total[name] += figures[name]
    return {**total, "months": months}


def reconciliation_by_category(*, periods: list[Period]) -> list[dict]:
    """Input, kept and unallocated by cost category over ``periods``, from the cents the
    roll-up stored per category, so each line balances to the cent."""
    kept = dict.fromkeys(tco.CATEGORIES, 0)
    unallocated = dict.fromkeys(tco.CATEGORIES, 0)
    for breakdown in _current_results(periods).values_list("breakdown", flat=True):
        for category, cells in breakdown.get("kept", {}).items():
            kept[category] += sum(cells.values())
    for breakdown in TcoUnallocated.objects.filter(
        _current_versions(periods), amount__isnull=False
    ).values_list("breakdown", flat=True):
        for category, cells in breakdown.items():
            unallocated[category] += sum(cells.values())
    rows = []
    for category, label in tco_categories():
        rows.append(
            {
                "category": category,
                "label": label,
                "kept": Decimal(kept[category]).scaleb(-2),
                "unallocated": Decimal(unallocated[category]).scaleb(-2),
                "input": Decimal(kept[category] + unallocated[category]).scaleb(-2),
            }
        )
    return rows


def report_unallocated(*, periods: list[Period]) -> list[dict]:
    """What reached no service over ``periods``, by source and reason, the months it
    happened in, summed (cost without a rate in its own currency)."""
    grouped: dict[tuple, dict] = {}
    rows = TcoUnallocated.objects.filter(_current_versions(periods)).select_related("period")
    for row in rows.order_by("period__serial", "id"):
        key = (row.source_kind, row.source_id, row.reason, row.original_currency)
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = {
                "source_kind": row.get_source_kind_display(),
                "source_label": row.source_label,
                "reason": row.get_reason_display(),
                "detail": row.detail,
                "amount": None,
                "original_amount": None,
                "original_currency": row.original_currency,
                "months": [],
            }
        if row.amount is not None:
            entry["amount"] = (entry["amount"] or Decimal(0)) + row.amount
        if row.original_amount is not None:
            entry["original_amount"] = (entry["original_amount"] or Decimal(0)) + (
                row.original_amount
            )
        if row.period.label not in entry["months"]:
            entry["months"].append(row.period.label)
    return sorted(
        grouped.values(),
        key=lambda e: (e["reason"], -(e["amount"] or Decimal(0)), e["source_label"]),
    )


def report_mismatches(*, service_ids) -> tuple[dict[int, list], list[dict]]:
    """The maturity mismatches (maturity.selectors.mismatches) of the customers that
    subscribe to any of ``service_ids``: by service, and each relationship with its services."""
    from maturity.selectors import mismatches

    found = {relationship.customer.pk: relationship for relationship in mismatches()}
    if not found:
        return {}, []
    pairs = (
        Subscription.objects.filter(
            customer_id__in=found, service_id__in=list(service_ids), retired_at__isnull=True
        )
        .values_list("service_id", "customer_id", "service__name")
        .distinct()
        .order_by("service__name")
    )
    by_service: dict[int, list] = {}
    services_of: dict[int, list[str]] = {}
    for service_id, customer_id, service_name in pairs:
        by_service.setdefault(service_id, []).append(found[customer_id])
        names = services_of.setdefault(customer_id, [])
        if service_name not in names:
            names.append(service_name)
    relationships = [
        {"relationship": relationship, "services": services_of[pk]}
        for pk, relationship in found.items()
        if pk in services_of
    ]
    relationships.sort(
        key=lambda r: (-r["relationship"].mismatch.gap, r["relationship"].customer.name)
    )
    return by_service, relationships


# --- Scheduled reports ---------------------------------------------------------------------


def last_report_runs(definitions) -> dict[int, ReportRun]:
    """The latest run of each of ``definitions``, by definition id, in one query."""
    runs = (
        ReportRun.objects.filter(definition__in=definitions)
        .order_by("definition_id", "-started_at", "-id")
        .distinct("definition_id")
    )
    return {run.definition_id: run for run in runs}


def report_runs_with_files(runs: QuerySet) -> QuerySet:
    """``runs`` with their definition, requester and files (without the files' content)."""
    return runs.select_related("definition", "requested_by").prefetch_related(
        Prefetch("files", queryset=ReportFile.objects.defer("content").order_by("format"))
    )


def report_already_emailed(*, definition, period_key: str) -> bool:
    """Whether the report for ``period_key`` went out already: a run (there is one per
    report and period) then files the report again without e-mailing it unless asked to
    resend (services.run_report)."""
    return ReportRun.objects.filter(
        definition=definition, period_key=period_key, emailed_at__isnull=False
    ).exists()


# --- The roll-up's inputs ------------------------------------------------------------------


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
