from django.apps import AppConfig


class MaturityConfig(AppConfig):
    name = "maturity"
    verbose_name = "Maturity"

    def ready(self):
        from core import panels
        from maturity.views import dashboard_panel

        panels.register(
            "dashboard",
            panels.Panel(
                "Value maturity", "maturity/inc/dashboard_panel.html", dashboard_panel, order=60
            ),
        )
