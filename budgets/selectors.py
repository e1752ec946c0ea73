"""Reads of budgets: which version counts for a year, and budget against actual per service,
category and month, with the year to date, the forecast and the variances finance is shown.

The rules (docs/budgets.md):

* budget: the version's BudgetResult (its TCO by category); actual: the TcoResult of the
  period's current version, for every month of the year that has a period (open or closed);
* variance = actual − budget, for a month with actuals (None for one without a period);
  year to date: the sums from the first month of the fiscal year to the row's month;
* forecast of a month: its actual when its period is closed, else its budget; the year's
  forecast is their sum, and the year's variance is forecast − budget;
* a variance is flagged when its size exceeds both PORTICO_BUDGET_VARIANCE_PERCENT percent
  of the budget's size and PORTICO_BUDGET_VARIANCE_AMOUNT.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from budgets.choices import BudgetStatus
from budgets.models import BudgetLine
from budgets.models import BudgetResult
from budgets.models import BudgetVersion
from budgets.models import fiscal_year_serials
from core.translations import translated
from finance import tco
from finance.choices import PeriodStatus
from finance.models import Period
from finance.models import TcoResult
from finance.models import serial_label
from portfolio.models import Service

ZERO = Decimal(0)
CATEGORIES = tuple(tco.CATEGORIES)
TOTAL = "total"


def versions_of(fiscal_year: int) -> QuerySet:
    return BudgetVersion.objects.filter(fiscal_year=fiscal_year)


def default_version(fiscal_year: int) -> BudgetVersion | None:
    """The version a year is measured against unless told: its latest approved version,
    else its latest draft."""
    versions = versions_of(fiscal_year)
    approved = versions.filter(status=BudgetStatus.APPROVED).order_by("-approved_at", "-pk").first()
    return approved or versions.order_by("-created_at", "-pk").first()


def is_flagged(variance: Decimal | None, budget: Decimal) -> bool:
    """Whether a variance is beyond both thresholds (percent of the budget, and amount)."""
    if variance is None:
        return False
    size = abs(variance)
    if size <= Decimal(settings.PORTICO_BUDGET_VARIANCE_AMOUNT):
        return False
    return size * 100 > abs(budget) * settings.PORTICO_BUDGET_VARIANCE_PERCENT


@dataclass
class BudgetActualRow:
    """One service, category (or "total") and month of the year."""

    service_id: int
    service: str
    category: str
    serial: int
    closed: bool
    budget: Decimal
    actual: Decimal | None
    budget_ytd: Decimal
    actual_ytd: Decimal

    @property
    def month(self) -> str:
        return serial_label(self.serial)

    @property
    def variance(self) -> Decimal | None:
        return None if self.actual is None else self.actual - self.budget

    @property
    def variance_ytd(self) -> Decimal:
        return self.actual_ytd - self.budget_ytd

    @property
    def forecast(self) -> Decimal:
        """The month's part of the year's forecast: actual once closed, else budget."""
        return self.actual if self.closed and self.actual is not None else self.budget

    @property
    def flagged(self) -> bool:
        return is_flagged(self.variance, self.budget)


@dataclass
class YearFigures:
    """One service (and category, or "total") over the whole fiscal year."""

    service_id: int
    service: str
    category: str
    budget: Decimal
    actual: Decimal
    forecast: Decimal

    @property
    def variance(self) -> Decimal:
        """The year's expected variance: forecast − budget."""
        return self.forecast - self.budget

    @property
    def flagged(self) -> bool:
        return is_flagged(self.variance, self.budget)


def _budgets(version: BudgetVersion | None, service: Service | None) -> dict:
    """(service id, serial) → {category: amount} of the version's results."""
    if version is None:
        return {}
    results = BudgetResult.objects.filter(version=version)
    if service is not None:
        results = results.filter(service=service)
    columns = [f"tco_{category}" for category in CATEGORIES]
    return {
        (service_id, serial): dict(zip(CATEGORIES, values, strict=True))
        for service_id, serial, *values in results.values_list("service_id", "serial", *columns)
    }


def _actuals(periods: list[Period], service: Service | None) -> dict:
    """(service id, serial) → {category: amount} of the periods' current versions."""
    found: dict = {}
    columns = [f"tco_{category}" for category in CATEGORIES]
    for period in periods:
        results = TcoResult.objects.filter(period=period, version=period.current_version)
        if service is not None:
            results = results.filter(service=service)
        for service_id, *values in results.values_list("service_id", *columns):
            found[(service_id, period.serial)] = dict(zip(CATEGORIES, values, strict=True))
    return found


def budget_vs_actual(
    fiscal_year: int,
    *,
    version: BudgetVersion | None = None,
    service: Service | None = None,
    totals: bool = True,
) -> list[BudgetActualRow]:
    """Per service, category and month of ``fiscal_year``: budget (of ``version``, by default
    default_version), actual, variance and year to date; with ``totals`` a "total" row per
    service and month as well. Services with neither budget nor actual in the year are left
    out, and so are the categories of a service that have neither."""
    version = version or default_version(fiscal_year)
    serials = fiscal_year_serials(fiscal_year)
    periods = list(Period.objects.filter(serial__in=serials).order_by("serial"))
    by_serial = {period.serial: period for period in periods}
    budgets = _budgets(version, service)
    actuals = _actuals(periods, service)
    service_ids = {key[0] for key in budgets} | {key[0] for key in actuals}
    stored = Service.objects.filter(pk__in=service_ids).values_list("pk", "name", "translations")
    originals = {pk: name for pk, name, _ in stored}
    # Shown in the reader's language (core.translations), sorted by the originals.
    names = {
        pk: translated({"name": name, "translations": texts}, "name") for pk, name, texts in stored
    }
    rows: list[BudgetActualRow] = []
    for service_id in sorted(service_ids, key=lambda pk: (originals.get(pk, ""), pk)):
        categories = [
            category
            for category in CATEGORIES
            if any(
                budgets.get((service_id, s), {}).get(category)
                or actuals.get((service_id, s), {}).get(category)
                for s in serials
            )
        ]
        for category in [*categories, *([TOTAL] if totals and categories else [])]:
            budget_ytd = actual_ytd = ZERO
            for serial in serials:
                period = by_serial.get(serial)
                budget = _amount(budgets.get((service_id, serial)), category)
                actual = (
                    _amount(actuals.get((service_id, serial)), category)
                    if period is not None
                    else None
                )
                budget_ytd += budget
                actual_ytd += actual or ZERO
                rows.append(
                    BudgetActualRow(
                        service_id=service_id,
                        service=names.get(service_id, ""),
                        category=category,
                        serial=serial,
                        closed=period is not None and period.status == PeriodStatus.CLOSED,
                        budget=budget,
                        actual=actual,
                        budget_ytd=budget_ytd,
                        actual_ytd=actual_ytd,
                    )
                )
    return rows


def _amount(figures: dict | None, category: str) -> Decimal:
    if not figures:
        return ZERO
    if category == TOTAL:
        return sum(figures.values(), ZERO)
    return figures.get(category) or ZERO


def year_figures(rows: Iterable[BudgetActualRow]) -> list[YearFigures]:
    """The rows of budget_vs_actual summed over the year, per service and category: budget,
    actual (the months with actuals), forecast and variance."""
    found: dict[tuple[int, str], YearFigures] = {}
    for row in rows:
        key = (row.service_id, row.category)
        year = found.get(key)
        if year is None:
            year = found[key] = YearFigures(
                row.service_id, row.service, row.category, ZERO, ZERO, ZERO
            )
        year.budget += row.budget
        year.actual += row.actual or ZERO
        year.forecast += row.forecast
    return list(found.values())


def flagged_variances(
    fiscal_year: int, *, version: BudgetVersion | None = None
) -> list[BudgetActualRow]:
    """The months (per service, total of its categories) whose variance is beyond both
    thresholds, largest first: what finance is shown."""
    rows = [
        row
        for row in budget_vs_actual(fiscal_year, version=version)
        if row.category == TOTAL and row.flagged
    ]
    return sorted(rows, key=lambda row: (-abs(row.variance or ZERO), row.service, row.serial))


def month_totals(rows: Iterable[BudgetActualRow]) -> dict[int, dict[str, Decimal]]:
    """All services' total rows summed per month: budget, actual, forecast (for a chart)."""
    months: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {"budget": ZERO, "actual": ZERO, "forecast": ZERO}
    )
    for row in rows:
        if row.category != TOTAL:
            continue
        month = months[row.serial]
        month["budget"] += row.budget
        month["actual"] += row.actual or ZERO
        month["forecast"] += row.forecast
    return dict(sorted(months.items()))


def lines_of(version: BudgetVersion) -> QuerySet:
    return BudgetLine.objects.filter(version=version).select_related(
        "service", "application", "contract", "pool"
    )
