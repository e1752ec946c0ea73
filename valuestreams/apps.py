from django.apps import AppConfig


class ValueStreamsConfig(AppConfig):
    name = "valuestreams"
    verbose_name = "Value streams"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from core import panels
        from core import roles
        from valuestreams import services  # noqa: F401
        from valuestreams import signals
        from valuestreams.panels import open_improvements_context
        from valuestreams.panels import stream_flow_context

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
        panels.register(
            "dashboard",
            panels.Panel(
                "Your value streams",
                "valuestreams/inc/dashboard_flow.html",
                stream_flow_context,
                order=30,
                roles=(roles.VALUE_STREAM_OWNER,),
            ),
        )
        panels.register(
            "dashboard",
            panels.Panel(
                "Open improvements",
                "valuestreams/inc/dashboard_improvements.html",
                open_improvements_context,
                order=31,
                roles=(roles.VALUE_STREAM_OWNER,),
            ),
        )
