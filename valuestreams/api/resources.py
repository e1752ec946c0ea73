"""The value streams' API resources: one declaration each (see core.api.resources)."""

from decimal import Decimal

from django.db.models import Case
from django.db.models import Count
from django.db.models import DecimalField
from django.db.models import F
from django.db.models import IntegerField
from django.db.models import OuterRef
from django.db.models import Subquery
from django.db.models import Sum
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Abs
from django.db.models.functions import Cast
from django.db.models.functions import Coalesce
from django.db.models.functions import Exp
from django.db.models.functions import Floor
from django.db.models.functions import Greatest
from django.db.models.functions import Ln
from django.db.models.functions import NullIf
from django.db.models.functions import Round
from django.db.models.lookups import Exact
from django.db.models.lookups import GreaterThan

from attestation.api import QUALITY_SCHEMA
from attestation.quality import with_quality
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from core.translations import translations_schema
from valuestreams import filtersets
from valuestreams import services
from valuestreams.api import filtersets as api_filtersets
from valuestreams.choices import Effort
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import StageApplication
from valuestreams.models import StageService
from valuestreams.models import ValueStream

HUNDRED = Decimal(100)


def exact(expression, places: int, digits: int = 30):
    return Cast(expression, DecimalField(max_digits=digits, decimal_places=places))


# --- Value streams: the flow totals, one correlated subquery each -------------------------------


def _over_stages(aggregate, output):
    return Subquery(
        Stage.objects.filter(value_stream=OuterRef("pk"))
        .order_by()
        .values("value_stream")
        .annotate(result=aggregate)
        .values("result"),
        output_field=output,
    )


def with_flow_totals(streams):
    """The figures of selectors.flow_measures, computed by the database per stream: times in
    minutes (four decimals, as stored), ratios in percent rounded to four decimals."""
    number = DecimalField(max_digits=30, decimal_places=10)
    zero = Value(Decimal(0), output_field=number)
    lowest = Subquery(
        Stage.objects.filter(value_stream=OuterRef("pk"))
        .order_by("complete_accurate")
        .values("complete_accurate")[:1]
    )
    # The product of the stages' %C&A: exp(Σ ln(%C&A / 100)) × 100, and 0 when one is at 0 %.
    product = _over_stages(
        Exp(
            Sum(
                Ln(NullIf(F("complete_accurate"), Value(Decimal(0))) / Value(HUNDRED)),
                output_field=number,
            )
        )
        * Value(HUNDRED),
        number,
    )
    return streams.annotate(
        stage_count=Coalesce(_over_stages(Count("id"), IntegerField()), 0),
        total_lead_time=exact(
            Coalesce(_over_stages(Sum("lead_time_minutes"), number), zero), 4, 18
        ),
        total_process_time=exact(
            Coalesce(_over_stages(Sum("process_time_minutes"), number), zero), 4, 18
        ),
        moment_of_truth_count=Coalesce(
            _over_stages(Count("id", filter=F("moment_of_truth")), IntegerField()), 0
        ),
    ).annotate(
        activity_ratio=exact(
            Case(
                When(
                    GreaterThan(F("total_lead_time"), 0),
                    then=F("total_process_time") * Value(HUNDRED) / F("total_lead_time"),
                ),
                default=None,
                output_field=number,
            ),
            4,
        ),
        rolled_complete_accurate=exact(
            Case(
                When(GreaterThan(lowest, 0), then=product),
                When(stage_count__gt=0, then=zero),
                default=None,
                output_field=number,
            ),
            4,
        ),
    )


DECIMAL_TEXT = {"type": "string", "format": "decimal"}

register(
    Resource(
        "value-streams",
        model=ValueStream,
        schemas={"translations": translations_schema("name", "description")},
        fields=(
            "name",
            "slug",
            "description",
            "translations",
            "owner",
            "unit",
            "customer",
            "segment",
            "experience",
            "trigger",
            "result",
            "state",
            "current_state",
            "custom_fields",
        ),
        read_only=("state", "current_state"),
        description="The activities that deliver a good or service to a customer, with an "
        "accountable owner. A future state (state `future`) names the current state it "
        "improves; future states are made in the browser, from their current state.",
        reads=Reads(
            computed={
                "stage_count": {"type": "integer", "description": "How many stages it has."},
                "total_lead_time": {
                    **DECIMAL_TEXT,
                    "description": "The stages' lead times added up, in minutes.",
                },
                "total_process_time": {
                    **DECIMAL_TEXT,
                    "description": "The stages' process times added up, in minutes.",
                },
                "activity_ratio": {
                    **DECIMAL_TEXT,
                    "nullable": True,
                    "description": "Total process time over total lead time, in percent (four "
                    "decimals); null without lead time.",
                },
                "rolled_complete_accurate": {
                    **DECIMAL_TEXT,
                    "nullable": True,
                    "description": "The product of the stages' %C&A, in percent (four decimals); "
                    "null without stages.",
                },
                "moment_of_truth_count": {
                    "type": "integer",
                    "description": "How many of its stages are Moments of Truth.",
                },
                **QUALITY_SCHEMA,
            },
            filterset=filtersets.ValueStreamFilterSet,
            queryset=lambda qs: with_quality(with_flow_totals(qs), None),
        ),
        writes=Writes(
            save=lambda obj, user: services.save_value_stream(value_stream=obj, user=user),
            remove=lambda obj: services.remove_value_stream(value_stream=obj),
        ),
    )
)


# --- Stages -------------------------------------------------------------------------------------

register(
    Resource(
        "stages",
        model=Stage,
        fields=("value_stream", *services.STAGE_FIELDS),
        read_only=("position",),
        schemas={
            "process_time_minutes": {
                "type": "string",
                "format": "decimal",
                "pattern": r"^-?(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,4})?$",
                "description": "Hands-on time, in minutes: the time itself. Its unit says how "
                "people enter and read it, so it must be exact to four decimals in that unit.",
            },
            "lead_time_minutes": {
                "type": "string",
                "format": "decimal",
                "pattern": r"^-?(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,4})?$",
                "description": "Elapsed time including waiting, in minutes (the time itself; "
                "exact to four decimals in its unit). At least the process time.",
            },
        },
        description="One step of a value stream, with its flow measures. Times are written "
        "and read in minutes; `*_unit` is the unit people see them in. A new stage goes to "
        "the end of its stream (`position`); stages are reordered in the browser.",
        reads=Reads(
            filterset=api_filtersets.StageFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_stage(stage=obj),
            # The model reports its times under the names of the stage form's fields.
            error_names={
                "process_time": "process_time_minutes",
                "lead_time": "lead_time_minutes",
            },
            remove=lambda obj: services.remove_stage(stage=obj),
        ),
    )
)


def stage_link_resource(name, model, target, *, filterset, save, description, extra=()):
    """A stage's link to what underpins it: a pair, keyed by its two ends."""
    return Resource(
        name,
        model=model,
        fields=("stage", target, *extra),
        description=description,
        reads=Reads(filterset=filterset),
        writes=Writes(
            key=("stage", target),
            save=lambda obj, user: save(link=obj),
            remove=lambda obj: services.remove_stage_link(link=obj),
        ),
    )


register(
    stage_link_resource(
        "stage-services",
        StageService,
        "service",
        filterset=api_filtersets.StageServiceFilterSet,
        save=services.save_stage_service,
        description=(
            "The service underpins the stage: the stage depends on it. `weight` (default 1, "
            "not negative) is the link's share of the service's kept cost among the service's "
            'links from current-state value streams (docs/tco.md, "Value-stream cost").'
        ),
        extra=("weight",),
    )
)
register(
    stage_link_resource(
        "stage-applications",
        StageApplication,
        "application",
        filterset=api_filtersets.StageApplicationFilterSet,
        save=services.save_stage_application,
        description="The application supports the stage.",
    )
)


# --- Processes ----------------------------------------------------------------------------------

register(
    Resource(
        "processes",
        model=Process,
        fields=("name", "value_stream", "description", "trigger", "result", "activities", "layer"),
        read_only=("layer",),
        schemas={
            "activities": {
                "type": "array",
                "items": {"type": "string", "maxLength": 500},
                "description": "What happens in the process, in order (blank ones are dropped).",
            },
            "layer": {
                "type": "integer",
                "enum": [1, 2, 3, 4],
                "description": "The CEMM layer, computed from the Moments of Truth of its "
                "stages and its connections: 1 the whole customer journey, 2 some Moments of "
                "Truth, 3 connected to a layer-2 process, 4 anything else.",
            },
        },
        description="A business process in the CEMM sense. Its stages are chosen in the "
        "browser; its layer is computed.",
        reads=Reads(
            filterset=filtersets.ProcessFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_process(process=obj),
            remove=lambda obj: services.remove_process(process=obj),
        ),
    )
)

register(
    Resource(
        "process-connections",
        model=ProcessConnection,
        fields=("process", "connected_to", "note"),
        description="Two processes hand work to each other (each pair once, in either direction).",
        reads=Reads(
            filterset=api_filtersets.ProcessConnectionFilterSet,
        ),
        writes=Writes(
            key=("process", "connected_to"),
            save=lambda obj, user: services.save_connection(connection=obj),
            remove=lambda obj: services.disconnect_processes(connection=obj),
        ),
    )
)


# --- Improvements: the priority as selectors.priority_score computes it -------------------------


def with_priority(improvements):
    """Expected benefit (percent) over effort points, to one decimal, half to even."""
    number = DecimalField(max_digits=40, decimal_places=20)
    largest = Greatest(Abs("benefit_from"), Abs("benefit_to"))
    benefit = Case(
        When(GreaterThan(largest, 0), then=Abs(F("benefit_to") - F("benefit_from")) / largest),
        default=Value(Decimal(0)),
        output_field=number,
    ) * Value(HUNDRED)
    points = Case(
        *(When(effort=effort, then=Value(Decimal(effort.points))) for effort in Effort),
        output_field=number,
    )
    tenths = benefit / points * Value(Decimal(10))
    # PostgreSQL's round() takes halves away from zero; Decimal.quantize takes them to the
    # even neighbour (the score is never negative).
    rounded = Case(
        When(
            Exact(tenths - Floor(tenths), Value(Decimal("0.5"))),
            then=Round(tenths / Value(Decimal(2))) * Value(Decimal(2)),
        ),
        default=Round(tenths),
        output_field=number,
    )
    return improvements.annotate(priority=exact(rounded / Value(Decimal(10)), 1, 8))


register(
    Resource(
        "improvements",
        model=Improvement,
        fields=(
            "value_stream",
            "stage",
            "service",
            "item",
            "outcome",
            "title",
            "description",
            "suggested_by",
            "suggested_on",
            "benefit_metric",
            "benefit_from",
            "benefit_to",
            "benefit_unit",
            "effort",
            "status",
            "measured_before",
            "measured_after",
            "completed_on",
            "measured_from_series",
        ),
        read_only=("measured_from_series",),
        description="A suggestion in the improvement log. It concerns a value stream, a "
        "service, a quadrant item (`item`) or an outcome, at least one: an item or outcome "
        "names its service, a stage its stream. Measured results belong to done items only; a "
        "done item linked to a quadrant item with figures on both sides of `completed_on` "
        "(today unless given) takes them from those figures (`measured_from_series`).",
        reads=Reads(
            computed={
                "priority": {
                    **DECIMAL_TEXT,
                    "description": "Expected benefit in percent over effort points (small 1, "
                    "medium 2, large 3, very large 5), to one decimal.",
                }
            },
            filterset=api_filtersets.ImprovementFilterSet,
            queryset=with_priority,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_improvement(improvement=obj),
            remove=lambda obj: services.remove_improvement(improvement=obj),
        ),
    )
)
