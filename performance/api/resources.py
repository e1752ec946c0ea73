"""The performance API resources (see core.api.resources)."""

from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from performance import services
from performance.api import filtersets
from performance.models import Measurement

register(
    Resource(
        "measurements",
        model=Measurement,
        fields=("item", "outcome", "start", "end", "value", "note", "met", "recorded_by"),
        read_only=("met", "recorded_by"),
        description=(
            "A figure of one functioning item or one outcome over a window of days (both "
            "ends inclusive); met is judged against the target in force on its end day."
        ),
        reads=Reads(filterset=filtersets.MeasurementFilterSet),
        writes=Writes(
            save=lambda obj, user: services.save_measurement(measurement=obj, user=user),
            remove=lambda obj: services.remove_measurement(measurement=obj),
        ),
    )
)
