from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from django.db.models import Q
        from django.db.models import Value
        from django.db.models.functions import Concat

        from core import finder
        from core import panels
        from core import roles
        from portfolio import models
        from portfolio import services  # noqa: F401
        from portfolio.choices import ServiceLifecycle
        from portfolio.panels import contracts_to_act_on
        from portfolio.panels import my_services
        from portfolio.panels import services_by_lifecycle

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
                "Services by lifecycle",
                "portfolio/inc/dashboard_lifecycle.html",
                services_by_lifecycle,
                order=5,
                roles=(roles.PORTFOLIO_MANAGER, roles.VIEWER),
            ),
        )
        panels.register(
            "dashboard",
            panels.Panel(
                "My services",
                "portfolio/inc/dashboard_my_services.html",
                my_services,
                order=10,
                roles=(roles.SERVICE_OWNER,),
            ),
        )
        panels.register(
            "dashboard",
            panels.Panel(
                "Contracts to act on",
                "portfolio/inc/dashboard_contracts.html",
                contracts_to_act_on,
                order=40,
                roles=(roles.PORTFOLIO_MANAGER, roles.FINANCE, roles.VIEWER),
            ),
        )
