from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = "Performance"

    def ready(self):
        # Registers the write rules (core.rules), the rights and the sync listeners.
        from core import panels
        from core import roles
        from performance import services  # noqa: F401
        from performance import signals

        signals.connect()
        from performance.views import dashboard_panel
        from performance.views import service_panel_context

        panels.register(
            "service",
            panels.Panel(
                "Performance", "performance/inc/service_panel.html", service_panel_context, order=5
            ),
        )
        panels.register(
            "dashboard",
            panels.Panel(
                "Targets",
                "performance/inc/dashboard_panel.html",
                dashboard_panel,
                order=15,
                roles=(roles.PORTFOLIO_MANAGER, roles.SERVICE_OWNER),
            ),
        )
