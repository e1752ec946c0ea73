"""The portfolio's dashboard panels (registered in PortfolioConfig.ready): contracts to act on,
the services by lifecycle and completeness, and the signed-in owner's services."""

from decimal import Decimal

from django.utils import timezone

from attestation import quality
from core import charts
from core.permissions import can
from portfolio import selectors
from portfolio.choices import ServiceLifecycle
from portfolio.models import Contract
from portfolio.models import Service

# The owner's services listed on the dashboard; "My services" lists them all.
MY_SERVICES_SHOWN = 8


def contracts_to_act_on(request) -> dict:
    """Live contracts whose notice deadline falls within the horizon."""
    contracts = []
    if can(request.user, "view", Contract):
        contracts = selectors.contracts_near_notice(days=selectors.NOTICE_HORIZON_DAYS)
    today = timezone.localdate()
    for contract in contracts:
        contract.days_left = (contract.notice_deadline - today).days
    return {"contracts": contracts, "horizon_days": selectors.NOTICE_HORIZON_DAYS}


def services_by_lifecycle(request) -> dict:
    """How many services each lifecycle holds, fully specified or not, as columns; and the
    mean data-quality score of the services in use (docs/quality.md)."""
    if not can(request.user, "view", Service):
        return {"visible": False}
    counts = selectors.services_by_lifecycle()
    lifecycles = ServiceLifecycle.choices
    complete = [Decimal(counts.get(value, {}).get("complete", 0)) for value, _ in lifecycles]
    incomplete = [Decimal(counts.get(value, {}).get("incomplete", 0)) for value, _ in lifecycles]
    scores = list(quality.service_scores(timezone.localdate()).values())
    return {
        "visible": True,
        "total": int(sum(complete) + sum(incomplete)),
        "incomplete": int(sum(incomplete)),
        "chart": charts.columns(
            [label for _, label in lifecycles],
            [
                charts.Series("Fully specified", "chart-good", complete),
                charts.Series("Incomplete", "chart-warn", incomplete),
            ],
        ),
        "quality": quality.mean(scores) if scores else None,
        "scored": len(scores),
    }


def my_services(request) -> dict:
    """How many services the signed-in user is accountable for (or a delegate of), how many
    incomplete, and the first of them (incomplete first) with their quadrants and score."""
    summary = selectors.service_summary_for(request.user)
    shown = list(
        quality.with_quality(selectors.services_owned_by(request.user), timezone.localdate())[
            :MY_SERVICES_SHOWN
        ]
    )
    for service in shown:
        service.quadrants_filled = len(selectors.filled_quadrants(service))
        service.missing = selectors.missing_parts(service)
    return {**summary, "services": shown}
