from django.apps import AppConfig


class MaturityConfig(AppConfig):
    name = "maturity"
    verbose_name = "Maturity"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from core import panels
        from core import roles
        from maturity import services  # noqa: F401
        from maturity.views import dashboard_panel

        panels.register(
            "dashboard",
            panels.Panel(
                "Value maturity",
                "maturity/inc/dashboard_panel.html",
                dashboard_panel,
                order=60,
                roles=(roles.PORTFOLIO_MANAGER, roles.SERVICE_OWNER, roles.VIEWER),
            ),
        )
