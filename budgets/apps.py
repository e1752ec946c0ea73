from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Budgets"

    def ready(self):
        # Registers the write rules (core.rules) of budget lines and versions.
        from budgets import services  # noqa: F401
