"""The budget panel on each service page (registered in BudgetsConfig.ready): the service's
budget, actual, forecast and variance of the current fiscal year, per category and in all,
from budgets.selectors (the same figures as the Fund services page and the API)."""

from django.utils import timezone

from budgets import selectors
from finance.models import fiscal_year_of


def service_budget_context(request, service) -> dict:
    """The fiscal year asked for (``?budget_year=``) or today's, against its default
    version (its latest approved, else its latest draft)."""
    today = timezone.localdate()
    asked = request.GET.get("budget_year", "") if request is not None else ""
    fiscal_year = int(asked) if asked.isascii() and asked.isdigit() and len(asked) == 4 else None
    fiscal_year = fiscal_year or fiscal_year_of(today.year, today.month)
    version = selectors.default_version(fiscal_year)
    if version is None:
        return {"fiscal_year": fiscal_year, "version": None, "rows": [], "total": None}
    rows = selectors.year_figures(
        selectors.budget_vs_actual(fiscal_year, version=version, service=service)
    )
    total = next((row for row in rows if row.category == selectors.TOTAL), None)
    return {
        "fiscal_year": fiscal_year,
        "version": version,
        "rows": [row for row in rows if row.category != selectors.TOTAL],
        "total": total,
    }
