from django.apps import AppConfig


class ValueStreamsConfig(AppConfig):
    name = "valuestreams"
    verbose_name = "Value streams"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from django.db.models import Q
        from django.urls import reverse

        from core import finder
        from core import panels
        from core import roles
        from valuestreams import services  # noqa: F401
        from valuestreams.models import Stage
        from valuestreams.models import ValueStream

        finder.register(
            finder.Kind("valuestream", ValueStream, "Value streams", owner="owner", order=60)
        )
        # A stage is shown on its value stream's page, at its anchor.
        finder.register(
            finder.Kind(
                "stage",
                Stage,
                "Stages",
                owner="value_stream__owner",
                context="value_stream__name",
                retired=Q(value_stream__retired_at__isnull=False),
                link_key="value_stream__slug",
                link=lambda key, ident: (
                    reverse("valuestreams:valuestream_detail", args=[key]) + f"#stage-{ident}"
                ),
                order=70,
            )
        )
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
