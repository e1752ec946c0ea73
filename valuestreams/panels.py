"""The value-stream owner's dashboard panels (registered in ValueStreamsConfig.ready): their
streams' lead time and activity ratio over time, and their open improvements."""

from django.utils import timezone

from core import charts
from valuestreams import selectors
from valuestreams.choices import StreamState
from valuestreams.models import ValueStream

# The streams and improvements a dashboard shows; the pages behind the links show them all.
STREAMS_SHOWN = 6
IMPROVEMENTS_SHOWN = 5


def my_streams(request):
    """The signed-in owner's current-state streams in use, by name."""
    return list(
        ValueStream.objects.filter(
            owner=request.user, retired_at__isnull=True, state=StreamState.CURRENT
        ).order_by("name", "id")[:STREAMS_SHOWN]
    )


def stream_flow_context(request) -> dict:
    """Each of the owner's streams: lead time and activity ratio per month, as charts."""
    streams = my_streams(request)
    history = selectors.measures_over_time(streams, today=timezone.localdate())
    counts = selectors.open_improvement_counts(streams)
    rows = []
    for stream in streams:
        # The lines start at the first month the stream had stages in Portico.
        months = [m for m in history[stream.pk] if m.lead_time_hours is not None]
        labels = [m.month for m in months]
        drawn = len(months) > 1
        rows.append(
            {
                "stream": stream,
                "latest": months[-1] if months else None,
                "since": labels[0] if labels else None,
                "open_improvements": counts.get(stream.pk, 0),
                "lead_time": charts.line(labels, [m.lead_time_hours for m in months])
                if drawn
                else None,
                "activity_ratio": charts.line(labels, [m.activity_ratio for m in months])
                if drawn
                else None,
            }
        )
    return {"streams": rows}


def open_improvements_context(request) -> dict:
    """The open improvements of the owner's streams, highest priority first."""
    streams = my_streams(request)
    return {
        "improvements": selectors.open_improvements_of(streams, limit=IMPROVEMENTS_SHOWN),
        "has_streams": bool(streams),
    }
