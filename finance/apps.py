from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from finance import services  # noqa: F401

        if not 1 <= settings.PORTICO_FISCAL_YEAR_START_MONTH <= 12:
            raise ImproperlyConfigured(
                "PORTICO_FISCAL_YEAR_START_MONTH must be a month from 1 to 12, not "
                f"{settings.PORTICO_FISCAL_YEAR_START_MONTH!r}."
            )
        from core import finder
        from core import panels
        from core import roles
        from finance import panels as finance_panels
        from finance import signals
        from finance.models import CostPool

        finder.register(finder.Kind("costpool", CostPool, "Cost pools", owner="owner", order=80))
        from finance.panels import customer_statement_context
        from finance.panels import service_tco_context

        signals.connect()
        panels.register(
            "service",
            panels.Panel(
                "Total cost of ownership", "finance/inc/service_tco.html", service_tco_context, 50
            ),
        )
        panels.register(
            "customer",
            panels.Panel(
                "Statement", "finance/inc/customer_statement.html", customer_statement_context, 50
            ),
        )
        for title, name, context, order, for_roles in (
            ("Cost of the portfolio", "cost", finance_panels.portfolio_cost_context, 20,
             (roles.PORTFOLIO_MANAGER,)),
            ("TCO of your services", "my_tco", finance_panels.my_services_tco_context, 12,
             (roles.SERVICE_OWNER,)),
            ("Periods", "periods", finance_panels.period_status_context, 1, (roles.FINANCE,)),
            ("Input, kept and unallocated", "months", finance_panels.finance_months_context, 2,
             (roles.FINANCE,)),
            ("Largest movers", "largest_movers", finance_panels.largest_movers_context, 3,
             (roles.FINANCE,)),
        ):  # fmt: skip
            panels.register(
                "dashboard",
                panels.Panel(
                    title, f"finance/inc/dashboard_{name}.html", context, order, roles=for_roles
                ),
            )
