from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Budgets"

    def ready(self):
        # Registers the write rules (core.rules) of budget lines, versions and scenarios.
        from budgets import scenarios  # noqa: F401
        from budgets import services  # noqa: F401
        from budgets.panels import service_budget_context
        from core import panels

        panels.register(
            "service",
            panels.Panel("Budget", "budgets/inc/service_budget.html", service_budget_context, 55),
        )
