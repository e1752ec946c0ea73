from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from core import panels
        from core import roles
        from portfolio import services  # noqa: F401
        from portfolio.panels import contracts_to_act_on
        from portfolio.panels import my_services
        from portfolio.panels import services_by_lifecycle

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
