"""The TCO panel on each service page, the statements panel on each customer page and the
finance panels of the dashboard (registered in FinanceConfig.ready)."""

from core import charts
from core.permissions import can
from finance import selectors
from finance.models import Period
from finance.models import TcoResult
from portfolio import selectors as portfolio_selectors


def service_tco_context(request, service) -> dict:
    return selectors.service_panel(request=request, service=service)


def customer_statement_context(request, customer) -> dict:
    return selectors.customer_statement_panel(request=request, customer=customer)


# --- The dashboard (docs/dashboards.md) -------------------------------------------------------

# The movers a dashboard lists.
MOVERS_SHOWN = 5
# The periods whose status the finance dashboard shows.
PERIODS_SHOWN = 6


def _may_see_cost(request) -> bool:
    return can(request.user, "view", TcoResult)


def _labels(rows: list[dict]) -> list[str]:
    return [row["period"].label for row in rows]


def portfolio_cost_context(request) -> dict:
    """The portfolio manager's cost panel: the portfolio's TCO (what services keep) by month,
    and what stayed unallocated in the latest month, as Fund services shows them."""
    if not _may_see_cost(request):
        return {"visible": False}
    months = selectors.monthly_totals(periods=selectors.recent_periods())
    return {
        "visible": True,
        "latest": months[-1] if months else None,
        "chart": charts.columns(
            _labels(months), [charts.Series("TCO", "chart-kept", [m["kept"] for m in months])]
        ),
    }


def finance_months_context(request) -> dict:
    """Finance's reconciliation by month: input against kept and unallocated."""
    if not _may_see_cost(request):
        return {"visible": False}
    months = selectors.monthly_totals(periods=selectors.recent_periods())
    return {
        "visible": True,
        "latest": months[-1] if months else None,
        "chart": charts.columns(
            _labels(months),
            [
                charts.Series("Input", "chart-input", [m["input"] for m in months]),
                charts.Series("Kept by services", "chart-kept", [m["kept"] for m in months]),
                charts.Series("Unallocated", "chart-bad", [m["unallocated"] for m in months]),
            ],
        ),
    }


def period_status_context(request) -> dict:
    """The latest periods: open or closed, their version, and whether a recomputation is due."""
    if not can(request.user, "view", Period):
        return {"visible": False}
    return {"visible": True, "periods": list(Period.objects.order_by("-serial")[:PERIODS_SHOWN])}


def largest_movers_context(request) -> dict:
    """The services whose TCO moved most in the latest month with results."""
    if not _may_see_cost(request):
        return {"visible": False}
    period = selectors.default_period()
    movers = selectors.largest_movers(period=period, limit=MOVERS_SHOWN) if period else []
    return {"visible": True, "period": period, "movers": movers}


def my_services_tco_context(request) -> dict:
    """A service owner's services: their summed TCO by month and the largest movers."""
    if not _may_see_cost(request):
        return {"visible": False}
    mine = portfolio_selectors.service_ids_of(request.user)
    periods = selectors.recent_periods()
    totals = selectors.tco_by_month(periods=periods, services=mine)
    period = periods[-1] if periods else None
    movers = (
        selectors.largest_movers(period=period, services=mine, limit=MOVERS_SHOWN) if period else []
    )
    return {
        "visible": True,
        "period": period,
        "latest": totals[-1] if totals else None,
        "movers": movers,
        "chart": charts.columns(
            [p.label for p in periods], [charts.Series("TCO", "chart-kept", totals)]
        )
        if any(totals)
        else None,
    }
