from django.apps import AppConfig


def contracts_to_act_on(request) -> dict:
    """Dashboard: live contracts whose notice deadline falls within the horizon."""
    from django.utils import timezone

    from core.permissions import can
    from portfolio import selectors
    from portfolio.models import Contract

    contracts = []
    if can(request.user, "view", Contract):
        contracts = selectors.contracts_near_notice(days=selectors.NOTICE_HORIZON_DAYS)
    today = timezone.localdate()
    for contract in contracts:
        contract.days_left = (contract.notice_deadline - today).days
    return {"contracts": contracts, "horizon_days": selectors.NOTICE_HORIZON_DAYS}


def my_services_summary(request) -> dict:
    """Dashboard: how many services the signed-in user is accountable for, how many incomplete."""
    from portfolio import selectors

    return selectors.service_summary_for(request.user)


class PortfolioConfig(AppConfig):
    name = "portfolio"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from django.db.models import Q
        from django.db.models import Value
        from django.db.models.functions import Concat

        from core import finder
        from core import panels
        from portfolio import models
        from portfolio import services  # noqa: F401
        from portfolio.choices import ServiceLifecycle

        # What the header's search finds (core.finder), in the order of the navigation.
        for kind in (
            finder.Kind(
                "service",
                models.Service,
                "Services",
                owner="owner",
                retired=Q(lifecycle=ServiceLifecycle.RETIRED),
                order=10,
            ),
            finder.Kind("application", models.Application, "Applications", owner="owner", order=20),
            finder.Kind(
                "customer", models.Customer, "Customers", owner="relationship_manager", order=30
            ),
            finder.Kind("supplier", models.Supplier, "Suppliers", owner="owner", order=40),
            finder.Kind(
                "contract",
                models.Contract,
                "Contracts",
                owner="owner",
                context="supplier__name",
                title=Concat("reference", Value(" "), "title"),
                order=50,
            ),
        ):
            finder.register(kind)

        panels.register(
            "dashboard",
            panels.Panel(
                "My services",
                "portfolio/inc/dashboard_my_services.html",
                my_services_summary,
                order=10,
            ),
        )
        panels.register(
            "dashboard",
            panels.Panel(
                "Contracts to act on",
                "portfolio/inc/dashboard_contracts.html",
                contracts_to_act_on,
                order=20,
            ),
        )
