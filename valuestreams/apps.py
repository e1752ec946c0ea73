from django.apps import AppConfig


class ValueStreamsConfig(AppConfig):
    name = "valuestreams"
    verbose_name = "Value streams"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from core import panels
        from valuestreams import services  # noqa: F401
        from valuestreams import signals

        signals.connect()
        from valuestreams.views import service_panel_context

        panels.register(
            "service",
            panels.Panel(
                "Value streams",
                "valuestreams/inc/service_panel.html",
                service_panel_context,
                order=20,
            ),
        )
