from django.apps import AppConfig


class AttestationConfig(AppConfig):
    name = "attestation"
    verbose_name = "Attestation and data quality"

    def ready(self):
        from attestation.views import service_panel_context
        from core import panels

        panels.register(
            "service",
            panels.Panel(
                "Data quality", "attestation/inc/service_panel.html", service_panel_context, order=3
            ),
        )
