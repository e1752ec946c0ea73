from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models import Q
from django.db.models.functions import Greatest
from django.db.models.functions import Least
from django.urls import reverse

from core.models import ChangeLoggedModel
from core.models import RetirableModel
from core.models import SluggedModel
from core.models import SyncedModel
from core.models import accountable_user
from core.models import protected_reference
from core.models import unique_external_id
from core.ordering import natural_name_index
from core.search import SearchIndex
from core.search import search_indexes
from core.translations import translations_field
from customfields.fields import CustomFieldsField
from customfields.fields import custom_fields_index
from finance.models import WEIGHT
from valuestreams.choices import Effort
from valuestreams.choices import Experience
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import ProcessLayer
from valuestreams.choices import StreamState
from valuestreams.choices import TimeUnit
from valuestreams.choices import ValueClass
from valuestreams.validators import validate_activities
from valuestreams.validators import validate_verbs

MINUTES = {"max_digits": 14, "decimal_places": 4, "validators": [MinValueValidator(Decimal(0))]}
MEASURE = {"max_digits": 18, "decimal_places": 4}
TIME_PLACES = Decimal("0.0001")  # a time keeps four decimals in the unit it is entered in
PERCENT_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]

# URL segments under /value-streams/ that a value stream's slug must not take.


class ValueStream(SluggedModel, RetirableModel):
    """The activities that deliver a good or service to a customer, with an accountable owner."""

    description = models.TextField(blank=True)
    translations = translations_field("name", "description")
    # PROTECT: accountability is handed over on purpose, never lost with a deleted account.
    owner = accountable_user(
        "owned_value_streams",
        null=False,
        blank=False,
        help_text="The value-stream owner: accountable end to end, from request to result.",
    )
    customer = protected_reference("portfolio.Customer", "value_streams")
    unit = protected_reference("people.OrganisationUnit", "value_streams")
    segment = models.CharField(
        max_length=200,
        blank=True,
        help_text="The customer segment served, when it is not one customer of the portfolio.",
    )
    experience = models.CharField(
        max_length=10, choices=Experience.choices, default=Experience.CUSTOMER
    )
    trigger = models.TextField(
        blank=True, help_text="The customer-relevant request that starts the value stream."
    )
    result = models.TextField(
        blank=True, help_text="The customer-relevant response that ends the value stream."
    )
    state = models.CharField(
        max_length=10, choices=StreamState.choices, default=StreamState.CURRENT, editable=False
    )
    # PROTECT: a current state with future-state variants is retired, not deleted.
    current_state = protected_reference("self", "future_states", editable=False)
    custom_fields = CustomFieldsField()

    ownership_lookups = ("owner",)

    class Meta(SluggedModel.Meta):
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="valuestream_name"),
            natural_name_index("valuestream"),
            *search_indexes(
                searched=("name", "slug", "segment", "trigger", "result", "external_id"),
                name="valuestream",
            ),
            custom_fields_index("valuestream"),
        ]
        constraints = [
            unique_external_id("valuestream"),
            models.CheckConstraint(
                condition=(Q(state=StreamState.CURRENT) & Q(current_state__isnull=True))
                | (Q(state=StreamState.FUTURE) & Q(current_state__isnull=False)),
                name="valuestream_future_has_current",
                violation_error_message="A future state names the current state it improves.",
            ),
            models.CheckConstraint(
                condition=~Q(current_state=F("pk")),
                name="valuestream_not_own_current_state",
            ),
        ]

    @property
    def is_future_state(self) -> bool:
        return self.state == StreamState.FUTURE

    @property
    def served(self) -> str:
        """Who the stream serves: the customer, else the segment."""
        return str(self.customer) if self.customer_id else self.segment

    def clean(self):
        if self.state == StreamState.FUTURE:
            if self.current_state_id is None:
                raise ValidationError("A future state names the current state it improves.")
            if self.current_state.state != StreamState.CURRENT:
                raise ValidationError("A future state improves a current state, not another plan.")


class Stage(SyncedModel):
    """One step of a value stream, with its flow measures and what underpins it."""

    value_stream = models.ForeignKey(ValueStream, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveIntegerField(default=0)
    # Named as an activity, starting with a verb of the lists in use (VerbList): a rule of
    # valuestreams.services, as the vocabulary is read from the database once per batch.
    name = models.CharField(
        max_length=200,
        help_text="An activity, starting with a verb: “Register the claim”.",
    )
    responsible_party = models.CharField(max_length=200, blank=True)
    process_time_minutes = models.DecimalField(
        default=Decimal(0), help_text="Hands-on time, in minutes.", **MINUTES
    )
    process_time_unit = models.CharField(
        max_length=10, choices=TimeUnit.choices, default=TimeUnit.MINUTES
    )
    lead_time_minutes = models.DecimalField(
        default=Decimal(0), help_text="Elapsed time including waiting, in minutes.", **MINUTES
    )
    lead_time_unit = models.CharField(
        max_length=10, choices=TimeUnit.choices, default=TimeUnit.MINUTES
    )
    complete_accurate = models.DecimalField(
        "%C&A",
        max_digits=5,
        decimal_places=2,
        default=Decimal(100),
        validators=PERCENT_VALIDATORS,
        help_text="Share of this stage's output the next stage can use as received (0–100).",
    )
    value_class = models.CharField(
        "value classification",
        max_length=15,
        choices=ValueClass.choices,
        default=ValueClass.VALUE_ADDING,
    )
    moment_of_truth = models.BooleanField(
        default=False,
        help_text="The external customer touches the business here, or it touches them.",
    )
    measured_on = models.DateField(
        null=True,
        blank=True,
        help_text="When its times and %C&A were last measured: set on the day they change, "
        "unless given.",
    )
    services = models.ManyToManyField(
        "portfolio.Service", blank=True, related_name="stages", through="StageService"
    )
    applications = models.ManyToManyField(
        "portfolio.Application", blank=True, related_name="stages", through="StageApplication"
    )

    ownership_lookups = ("value_stream__owner",)
    parent_lookups = ("value_stream",)

    class Meta:
        ordering = ["value_stream", "position", "id"]
        indexes = [
            models.Index(fields=["value_stream", "position"]),
            *search_indexes(searched=("name", "responsible_party", "external_id"), name="stage"),
        ]
        constraints = [
            unique_external_id("stage"),
            models.CheckConstraint(
                condition=Q(complete_accurate__gte=0) & Q(complete_accurate__lte=100),
                name="stage_complete_accurate_percent",
                violation_error_message="%C&A is a percentage from 0 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(process_time_minutes__gte=0) & Q(lead_time_minutes__gte=0),
                name="stage_times_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(process_time_minutes__lte=F("lead_time_minutes")),
                name="stage_process_within_lead_time",
                violation_error_message="Process time cannot be longer than lead time.",
            ),
        ]

    def get_absolute_url(self):
        return reverse("valuestreams:valuestream_detail", args=[self.value_stream.slug]) + (
            f"#stage-{self.pk}"
        )

    @property
    def process_time(self) -> Decimal:
        """The process time in the unit it was entered in."""
        return self.process_time_minutes / TimeUnit(self.process_time_unit).minutes

    @property
    def lead_time(self) -> Decimal:
        """The lead time in the unit it was entered in."""
        return self.lead_time_minutes / TimeUnit(self.lead_time_unit).minutes

    def clean(self):
        errors = {}
        for name, label in (("process_time", "process time"), ("lead_time", "lead time")):
            minutes, unit = getattr(self, f"{name}_minutes"), getattr(self, f"{name}_unit")
            if minutes is None or unit not in TimeUnit.values:
                continue
            in_unit = minutes / TimeUnit(unit).minutes
            if in_unit != in_unit.quantize(TIME_PLACES):
                # The unit is how people enter and read the time: a time it cannot show
                # exactly could not be edited in it again.
                errors[f"{name}_unit"] = (
                    f"A {label} of {minutes.normalize():f} minutes is "
                    f"{in_unit.quantize(Decimal('0.000001')).normalize():f}… "
                    f"{TimeUnit(unit).label}, and a time keeps at most four decimals in its "
                    "unit: give it in a smaller unit."
                )
        if (
            self.process_time_minutes is not None
            and self.lead_time_minutes is not None
            and self.process_time_minutes > self.lead_time_minutes
        ):
            errors["process_time"] = "Process time cannot be longer than lead time."
        if errors:
            raise ValidationError(errors)


class StageLink(SyncedModel):
    """A record a stage of a value stream relies on, linked to it by the stream's owner: the
    stage and its ``linked_field``."""

    ownership_lookups = ("stage__value_stream__owner",)
    parent_lookups = ("stage",)
    linked_field: str

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.stage} ← {getattr(self, self.linked_field)}"


class StageService(StageLink):
    """A service underpins a stage of a value stream (the stage depends on it)."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="service_links")
    service = models.ForeignKey(
        "portfolio.Service", on_delete=models.CASCADE, related_name="stage_links"
    )
    weight = models.DecimalField(
        default=Decimal(1),
        help_text="This stage's share of the service's cost, against its other stages' weights.",
        **WEIGHT,
    )

    linked_field = "service"

    class Meta:
        # The table of the many-to-many field it replaced, with its rows.
        db_table = "valuestreams_stage_services"
        verbose_name = "stage service"
        # No default ordering, as the table had none: reads that take distinct pairs from it
        # (valuestreams.selectors, maturity.selectors, finance.filtersets) rely on that.
        constraints = [
            unique_external_id("stageservice"),
            models.UniqueConstraint(
                fields=["stage", "service"],
                name="stageservice_unique_pair",
                violation_error_message="This service already underpins this stage.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0), name="stageservice_weight_not_negative"
            ),
        ]


class StageApplication(StageLink):
    """An application supports a stage of a value stream."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="application_links")
    application = models.ForeignKey(
        "portfolio.Application", on_delete=models.CASCADE, related_name="stage_links"
    )

    linked_field = "application"

    class Meta:
        db_table = "valuestreams_stage_applications"
        verbose_name = "stage application"
        constraints = [
            unique_external_id("stageapplication"),
            models.UniqueConstraint(
                fields=["stage", "application"],
                name="stageapplication_unique_pair",
                violation_error_message="This application already supports this stage.",
            ),
        ]


class Process(SyncedModel):
    """A business process in the CEMM sense; its layer follows from its Moments of Truth and
    its connections (valuestreams.services.recompute_process_layers), never typed in."""

    name = models.CharField(
        max_length=200,
        help_text="What happens, named with a verb: “Settle a claim”.",
    )
    value_stream = protected_reference(
        ValueStream, "processes", help_text="The value stream whose customer this process serves."
    )
    description = models.TextField(blank=True)
    trigger = models.TextField(
        blank=True, help_text="The customer-relevant request that starts the process."
    )
    result = models.TextField(
        blank=True, help_text="The customer-relevant response that ends the process."
    )
    activities = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_activities],
        help_text="What happens in the process, in order.",
    )
    stages = models.ManyToManyField(
        Stage,
        blank=True,
        related_name="processes",
        help_text="The value stream's stages this process carries out.",
    )
    layer = models.PositiveSmallIntegerField(
        choices=ProcessLayer.choices, default=ProcessLayer.DISTANT, editable=False
    )

    ownership_lookups = ("value_stream__owner",)
    parent_lookups = ("value_stream",)

    class Meta:
        verbose_name_plural = "processes"
        ordering = ["layer", "name", "id"]
        indexes = [
            SearchIndex(
                searched=("name", "description", "trigger", "result", "external_id"),
                name="process_search",
            ),
        ]
        constraints = [
            unique_external_id("process"),
            models.CheckConstraint(
                condition=Q(layer__gte=1) & Q(layer__lte=4), name="process_layer_1_to_4"
            ),
        ]


class ProcessConnection(SyncedModel):
    """Two processes hand work to each other; for layering, a connection has no direction."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="connections_out")
    connected_to = models.ForeignKey(
        Process, on_delete=models.CASCADE, related_name="connections_in"
    )
    note = models.CharField(max_length=500, blank=True)

    ownership_lookups = ("process__value_stream__owner", "connected_to__value_stream__owner")
    parent_lookups = ("process",)

    class Meta:
        ordering = ["process", "connected_to"]
        constraints = [
            unique_external_id("processconnection"),
            models.UniqueConstraint(
                Least("process", "connected_to"),
                Greatest("process", "connected_to"),
                name="processconnection_unique_pair",
                violation_error_message="These two processes are already connected.",
            ),
            models.CheckConstraint(
                condition=~Q(process=F("connected_to")),
                name="processconnection_not_to_itself",
                violation_error_message="A process cannot be connected to itself.",
            ),
        ]

    def __str__(self):
        return f"{self.process} ↔ {self.connected_to}"


CONCERNS_NOTHING = (
    "Say what the improvement concerns: a value stream, a service, a quadrant item or an outcome."
)


class Improvement(SyncedModel):
    """A suggestion in the continual-improvement log. It concerns a value stream, a service, a
    quadrant item of a service or a Successful Customer Outcome: at least one of them (an item
    or an outcome names its service too, valuestreams.services.improvement_concern_rule)."""

    # PROTECT: the log is the stream's memory; a stream with improvements is retired instead.
    value_stream = models.ForeignKey(
        ValueStream,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
    )
    # SET_NULL: an improvement outlives its stage, not least when it removed the stage itself.
    stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="improvements"
    )
    # PROTECT: a service named in the log is retired, not deleted.
    service = protected_reference("portfolio.Service", "improvements")
    # SET_NULL: the improvement keeps its service when a draft item or outcome goes.
    item = models.ForeignKey(
        "portfolio.SpecificationItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="improvements",
        verbose_name="quadrant item",
        help_text="The item of the service's specification it improves: a done improvement "
        "takes its measures before and after from the item's figures.",
    )
    outcome = models.ForeignKey(
        "portfolio.Outcome",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="improvements",
        verbose_name="Successful Customer Outcome",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suggested_improvements"
    )
    suggested_on = models.DateField()
    benefit_metric = models.CharField(
        "benefit metric", max_length=200, help_text="What improves, e.g. “lead time of Assess”."
    )
    benefit_from = models.DecimalField("from", **MEASURE)
    benefit_to = models.DecimalField("to", **MEASURE)
    benefit_unit = models.CharField("unit", max_length=50)
    effort = models.CharField(max_length=10, choices=Effort.choices, default=Effort.MEDIUM)
    status = models.CharField(
        max_length=15, choices=ImprovementStatus.choices, default=ImprovementStatus.PROPOSED
    )
    measured_before = models.DecimalField(null=True, blank=True, **MEASURE)
    measured_after = models.DecimalField(null=True, blank=True, **MEASURE)
    completed_on = models.DateField(
        null=True, blank=True, help_text="When it was done: set on the day it is marked done."
    )
    measured_from_series = models.BooleanField(
        default=False,
        editable=False,
        help_text="Its measures before and after are the item's figures around its completion.",
    )

    # The stream's owner decides, and so do the owners of the service it concerns.
    ownership_lookups = ("value_stream__owner", "service__owner", "service__delegates")
    parent_lookups = ("value_stream",)

    class Meta:
        ordering = ["value_stream", "-suggested_on", "-id"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            unique_external_id("improvement"),
            models.CheckConstraint(
                condition=~Q(status=ImprovementStatus.DONE)
                | (Q(measured_before__isnull=False) & Q(measured_after__isnull=False)),
                name="improvement_done_is_measured",
                violation_error_message="A done improvement records its measure before and after.",
            ),
            models.CheckConstraint(
                condition=Q(value_stream__isnull=False)
                | Q(service__isnull=False)
                | Q(item__isnull=False)
                | Q(outcome__isnull=False),
                name="improvement_concerns_something",
                violation_error_message=CONCERNS_NOTHING,
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("valuestreams:improvement_board") + f"#improvement-{self.pk}"

    def clean(self):
        errors = {}
        if self.status == ImprovementStatus.DONE:
            for name in ("measured_before", "measured_after"):
                if getattr(self, name) is None:
                    errors[name] = "A done improvement records the measured result here."
        if (
            self.stage_id
            and self.value_stream_id
            and self.stage.value_stream_id != (self.value_stream_id)
        ):
            errors["stage"] = "Choose a stage of this value stream."
        if errors:
            raise ValidationError(errors)


class VerbList(ChangeLoggedModel):
    """Verbs a stage or process name may start with, in one language. The lists in use make
    the site-wide vocabulary of the verb rule (valuestreams.validators.activity_name_error);
    Portfolio managers extend them in the browser."""

    name = models.CharField(max_length=100, unique=True)
    language = models.CharField(
        max_length=10, help_text="The language's ISO 639-1 code: en, nl, fr, de…"
    )
    verbs = models.TextField(
        validators=[validate_verbs],
        help_text="The verbs, separated by spaces or new lines, as a name starts with them "
        "(imperative or infinitive): “register assess pay”.",
    )
    verb_last = models.BooleanField(
        "verb may come last",
        default=False,
        help_text="Names in this language may end with the verb instead, as Dutch and German "
        "name activities (“Schade melden”, “Antrag prüfen”).",
    )
    in_use = models.BooleanField(
        default=True, help_text="Names are checked against the lists in use, together."
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "verb list"

    @property
    def verb_set(self) -> frozenset[str]:
        return frozenset(self.verbs.lower().split())

    @property
    def verb_count(self) -> int:
        return len(self.verb_set)
