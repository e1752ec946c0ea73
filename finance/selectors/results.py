"""Reads of the stored TCO results: a period's figures and versions, a service's panel and
cost completeness, the flow chart."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField
from django.db.models import Exists
from django.db.models import F
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import Sum
from django.db.models.functions import Abs
from django.db.models.functions import Coalesce
from django.urls import reverse

from core.money import FIGURE_DIGITS
from core.money import format_amount
from core.money import from_cents
from core.translations import translated
from finance import charts
from finance import tco
from finance.choices import CostCategory
from finance.choices import PeriodStatus
from finance.choices import RunOutcome
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import Period
from finance.models import StatementLine
from finance.models import TcoFlow
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from finance.selectors.inputs import edges_in_force
from portfolio.choices import ApplicationLifecycle
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Service
from portfolio.models import Subscription

MONEY = DecimalField(max_digits=FIGURE_DIGITS, decimal_places=2)


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


def negative_cost_reason(result: TcoResult) -> str:
    """Why a service's result is flagged as a negative cost on the Fund services page (empty
    when it is not): credits (credit notes, reversals) booked on it or upstream of it exceed
    its cost this month."""
    if result.kept < 0:
        return (
            f"It keeps a negative cost, {format_amount(result.kept)}: credits booked on it "
            "or upstream of it this month exceed its cost."
        )
    if result.tco < 0:
        return (
            f"Its TCO is negative, {format_amount(result.tco)}: credits booked on it or "
            "upstream of it this month exceed its cost, and it passes them on to its consumers."
        )
    return ""


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


def recent_periods(*, months: int = 12) -> list[Period]:
    """The last ``months`` periods with results, oldest first: the months the dashboard's
    trends show."""
    return list(reversed(periods_with_results()[:months]))


def _current_versions(periods: list[Period]) -> Q:
    wanted = Q(pk__in=[])
    for period in periods:
        wanted |= Q(period=period, version=period.current_version)
    return wanted


def monthly_totals(*, periods: list[Period]) -> list[dict]:
    """``period_totals``' input, kept and unallocated of each of ``periods`` (current
    versions) in three queries however many months: one dict per period, in their order."""
    if not periods:
        return []
    wanted = _current_versions(periods)
    kept = dict(
        TcoResult.objects.filter(wanted)
        .order_by()
        .values("period")
        .annotate(total=Coalesce(Sum("kept"), Decimal(0), output_field=MONEY))
        .values_list("period", "total")
    )
    unallocated = dict(
        TcoUnallocated.objects.filter(wanted, amount__isnull=False)
        .order_by()
        .values("period")
        .annotate(total=Coalesce(Sum("amount"), Decimal(0), output_field=MONEY))
        .values_list("period", "total")
    )
    inputs = dict(
        TcoRun.objects.filter(wanted, outcome="succeeded")
        .order_by("period", "-started_at")
        .distinct("period")
        .values_list("period", "input_total")
    )
    rows = []
    for period in periods:
        row = {
            "period": period,
            "kept": kept.get(period.pk, Decimal(0)),
            "unallocated": unallocated.get(period.pk, Decimal(0)),
        }
        recorded = inputs.get(period.pk)
        row["input"] = row["kept"] + row["unallocated"] if recorded is None else recorded
        rows.append(row)
    return rows


def tco_by_month(*, periods: list[Period], services: QuerySet) -> list[Decimal]:
    """The summed TCO of ``services`` in each of ``periods`` (current versions; zero where
    they have no result), in one query."""
    if not periods:
        return []
    totals = dict(
        TcoResult.objects.filter(_current_versions(periods), service__in=services)
        .order_by()
        .values("period")
        .annotate(total=Sum("tco"))
        .values_list("period", "total")
    )
    return [totals.get(period.pk, Decimal(0)) for period in periods]


def largest_movers(*, period: Period, services: QuerySet | None = None, limit: int = 5):
    """The services whose TCO moved most since the month before ``period`` (a service new
    this month moved by all of it), largest change first: ``services_with_tco`` rows with
    ``change``."""
    rows = services_with_tco(period=period)
    if services is not None:
        rows = rows.filter(service__in=services)
    rows = rows.annotate(
        change=F("tco") - Coalesce(F("previous_tco"), Decimal(0), output_field=MONEY)
    ).annotate(size=Abs("change"))
    return list(rows.exclude(size=0).order_by("-size", "service__name")[:limit])


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


# --- Cost completeness of one service ------------------------------------------------------


def supports_in_use(period: Period, **filters) -> QuerySet:
    """The supports (filtered by ``filters``) in force in ``period`` of applications in use:
    neither retired nor at the end of their lifecycle."""
    in_use = ApplicationSupport.objects.filter(
        edges_in_force(period), application__retired_at__isnull=True, **filters
    )
    return in_use.exclude(application__lifecycle=ApplicationLifecycle.RETIRED)


def applications_with_cost(application_ids: Iterable[int], period: Period) -> set[int]:
    """Of ``application_ids``, those that bring cost in ``period``: a cost item booked against
    them in it, or a contract covering them."""
    application_ids = list(application_ids)
    return set(
        CostItem.objects.filter(application_id__in=application_ids, period=period).values_list(
            "application_id", flat=True
        )
    ) | set(
        ContractCoverage.objects.filter(
            edges_in_force(period), application_id__in=application_ids
        ).values_list("application_id", flat=True)
    )


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
    supports = [
        (pk, translated({"name": name, "translations": texts}, "name"))
        for pk, name, texts in supports_in_use(period, service=service).values_list(
            "application_id", "application__name", "application__translations"
        )
    ]
    application_ids = [pk for pk, _ in supports]
    with_cost = applications_with_cost(application_ids, period)
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
        Contract.objects.filter(
            pk__in=ContractCoverage.objects.filter(edges_in_force(period), service=service).values(
                "contract_id"
            )
        )
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


def recomputation_state(*, period: Period | None) -> str:
    """Whether a period's figures are being recomputed: "running" while a run computes it,
    "queued" while a change waits for its run (the dirty marker), "" when nothing is pending.
    One query, read fresh: a page polls it until it answers ""."""
    if period is None or period.status == PeriodStatus.CLOSED:
        return ""
    row = (
        Period.objects.filter(pk=period.pk)
        .annotate(
            running=Exists(TcoRun.objects.filter(period=OuterRef("pk"), outcome=RunOutcome.RUNNING))
        )
        .values("recompute_requested_at", "running")
        .first()
    )
    if row is None:
        return ""
    if row["running"]:
        return "running"
    return "queued" if row["recompute_requested_at"] is not None else ""


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
                    "opex": from_cents(cells.get("opex", 0)),
                    "capex": from_cents(cells.get("capex", 0)),
                    "total": getattr(result, f"tco_{category}"),
                }
            )
    return {
        "periods": periods,
        "period": period,
        "result": result,
        "unit_costs": unit_costs(service=service, period=period) if result else [],
        "previous": previous,
        "change": (result.tco - previous.tco) if result and previous else None,
        "rows": rows,
        "versions": versions if len(versions) > 1 else [],
        "completeness": cost_completeness(service=service, period=period),
        "closed": period is not None and period.status == PeriodStatus.CLOSED,
        "recomputing": recomputation_state(period=period),
    }


@dataclass(frozen=True)
class UnitCost:
    """The cost to serve of a service's subscriptions that count one unit, per unit."""

    unit_name: str
    units: Decimal
    cost_to_serve: Decimal

    @property
    def unit_cost(self) -> Decimal | None:
        if not self.units:
            return None
        return (self.cost_to_serve / self.units).quantize(Decimal("0.0001"))


def unit_costs(*, service: Service, period: Period) -> list[UnitCost]:
    """One unit cost per unit name of ``service``'s statement lines in ``period`` (current
    version): the cost to serve of the lines counting that unit over their units. Never
    across unlike units (one query)."""
    rows = (
        StatementLine.objects.filter(
            service=service,
            statement__period=period,
            statement__version=period.current_version,
        )
        .values("unit_name")
        .annotate(units=Sum("units"), cost=Sum("cost_to_serve"))
        .order_by("unit_name")
    )
    return [UnitCost(row["unit_name"], row["units"], row["cost"]) for row in rows]


def tco_categories():
    return CostCategory.choices


def sankey(*, period: Period, version: int | None = None):
    """The period's flow chart, laid out (finance.charts)."""
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
        pk: (
            translated({"name": name, "translations": texts}, "name"),
            pattern.replace("slug-placeholder", slug),
        )
        for pk, name, texts, slug in Service.objects.filter(
            pk__in=[r.service_id for r in results]
        ).values_list("pk", "name", "translations", "slug")
    }
    return charts.build(
        inputs_by_kind=run.inputs_by_kind if run else {},
        results=results,
        flows=flows,
        unallocated=unallocated,
        services=services,
    )
