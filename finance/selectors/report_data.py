"""The figures of a finance report over one or more closed months, and the reads of report
runs."""

from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models import Prefetch
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone

from core.money import from_cents
from core.translations import translated
from finance import tco
from finance.choices import PeriodStatus
from finance.choices import ReportOutcome
from finance.filtersets import FundServicesFilterSet
from finance.models import Period
from finance.models import QueuedTask
from finance.models import ReportFile
from finance.models import ReportRun
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.selectors.results import period_totals
from finance.selectors.results import tco_categories
from maturity.selectors import mismatches
from portfolio.models import Subscription

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
        # Kept to four places as the roll-up stores it: shown, it is rounded once, to the cent,
        # by core.money like the page's (rounding twice could make the cents differ).
        names = row.pop("unit_names")
        # Never a unit cost across unlike units: one unit name over the months, or none.
        row["unit_name"] = names.pop() if len(names) == 1 else ""
        row["unit_cost"] = (
            (row["tco"] / row["units"]).quantize(Decimal("0.0001"))
            if row["units"] and row["unit_name"]
            else None
        )
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
                "kept": from_cents(kept[category]),
                "unallocated": from_cents(unallocated[category]),
                "input": from_cents(kept[category] + unallocated[category]),
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
    found = {relationship.customer.pk: relationship for relationship in mismatches()}
    if not found:
        return {}, []
    pairs = (
        Subscription.objects.filter(
            customer_id__in=found, service_id__in=list(service_ids), retired_at__isnull=True
        )
        .values_list("service_id", "customer_id", "service__name", "service__translations")
        .distinct()
        .order_by("service__name")
    )
    by_service: dict[int, list] = {}
    services_of: dict[int, list[str]] = {}
    for service_id, customer_id, original, texts in pairs:
        by_service.setdefault(service_id, []).append(found[customer_id])
        # The reader's language (core.translations), in the order of the originals.
        service_name = translated({"name": original, "translations": texts}, "name")
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


# A page waits this long for a run it asked for to start before it stops following it.
REPORT_RUN_WAIT = timedelta(minutes=10)


def report_run_pending(*, definition, requested_at: datetime | None = None) -> bool:
    """Whether a run of the report is still to come or under way: a request waiting for the
    job queue, a run still running, or (``requested_at``: when *Run now* was asked) no run
    started since then yet. Two queries at most; a page polls it until it answers False."""
    if ReportRun.objects.filter(definition=definition, outcome=ReportOutcome.RUNNING).exists():
        return True
    # The task name services.report_definitions.REPORT_TASK queues (selectors import no services).
    if QueuedTask.objects.filter(task="finance.tasks.run_report", args__0=definition.pk).exists():
        return True
    if requested_at is None or timezone.now() - requested_at > REPORT_RUN_WAIT:
        return False
    return not ReportRun.objects.filter(
        definition=definition, started_at__gte=requested_at
    ).exists()


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
