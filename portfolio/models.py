import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case
from django.db.models import F
from django.db.models import Q
from django.db.models import Value
from django.db.models import When
from django.utils.functional import cached_property

from core.models import EffectiveDatedModel
from core.models import RetirableModel
from core.models import SluggedModel
from core.models import SyncedModel
from core.models import accountable_user
from core.models import driver_reference
from core.models import effective_dated_constraints
from core.models import ends_after_start
from core.models import no_overlap
from core.models import protected_reference
from core.models import unique_external_id
from core.money import CurrencyField
from core.money import MoneyField
from core.ordering import natural_name_index
from core.search import search_indexes
from core.translations import translations_field
from customfields.fields import CustomFieldsField
from customfields.fields import custom_fields_index
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import Aspect
from portfolio.choices import Comparator
from portfolio.choices import Criticality
from portfolio.choices import CustomerKind
from portfolio.choices import Dimension
from portfolio.choices import MeasurementWindow
from portfolio.choices import OutcomeAgreement
from portfolio.choices import OutcomeOverride
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.choices import TimeDisposition

# The first day a functioning item needs attention (performance.selectors): at once when its
# latest figure missed or it has none, else when its next figure is due; it is missed, stale
# or not measured when this day is before today less the grace period. Indexed, so the
# attention list is one range scan however many items there are.
ATTENTION_FROM = Case(
    When(Q(measured_met=False) | Q(measured_met__isnull=True), then=Value(datetime.date.min)),
    default=F("measurement_due"),
    output_field=models.DateField(),
)

WEIGHT = {"max_digits": 12, "decimal_places": 4, "validators": [MinValueValidator(Decimal(0))]}


class Service(SluggedModel):
    """A supported facility: a facility the provider makes available, and its support."""

    summary = models.TextField(blank=True)
    translations = translations_field("name", "summary")
    kind = models.CharField(max_length=20, choices=ServiceKind.choices)
    lifecycle = models.CharField(
        max_length=10, choices=ServiceLifecycle.choices, default=ServiceLifecycle.PIPELINE
    )
    pipeline_on = models.DateField(null=True, blank=True)
    live_on = models.DateField(null=True, blank=True)
    retired_on = models.DateField(null=True, blank=True)
    # PROTECT: accountability is handed over on purpose, never lost with a deleted account.
    owner = accountable_user("owned_services")
    unit = protected_reference("people.OrganisationUnit", "services")
    delegates = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="delegated_services"
    )
    criticality = models.CharField(
        max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM
    )

    custom_fields = CustomFieldsField()

    ownership_lookups = ("owner", "delegates")

    class Meta(SluggedModel.Meta):
        indexes = [
            models.Index(fields=["name"], name="service_name"),
            natural_name_index("service"),
            *search_indexes(searched=("name", "summary", "slug", "external_id"), name="service"),
            custom_fields_index("service"),
        ]
        constraints = [
            unique_external_id("service"),
            models.CheckConstraint(
                condition=~Q(lifecycle=ServiceLifecycle.LIVE) | Q(owner__isnull=False),
                name="service_live_needs_owner",
                violation_error_message="A service needs an accountable owner before it goes live.",
            ),
        ]

    @property
    def is_retired(self) -> bool:
        return self.lifecycle == ServiceLifecycle.RETIRED

    def clean(self):
        if self.lifecycle == ServiceLifecycle.LIVE and self.owner_id is None:
            raise ValidationError(
                {"owner": "A service needs an accountable owner before it goes live."}
            )


class SpecificationItem(SyncedModel):
    """One statement of a supported facility's specification, in one of its four quadrants."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="items")
    aspect = models.CharField(max_length=10, choices=Aspect.choices)
    dimension = models.CharField(max_length=15, choices=Dimension.choices)
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Functioning items are measurable: metric, comparator, target, unit and window.
    metric = models.CharField(max_length=200, blank=True)
    comparator = models.CharField(max_length=10, choices=Comparator.choices, blank=True)
    target = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    window = models.CharField(max_length=10, choices=MeasurementWindow.choices, blank=True)
    # Kept by performance.services from the item's measurements, so the status of thousands
    # of items is an indexed read: the latest figure's end, whether it met its target, and
    # the day one window after it ends (stale once that day and the grace period are past).
    measured_until = models.DateField(null=True, blank=True, editable=False)
    measured_met = models.BooleanField(null=True, blank=True, editable=False)
    measurement_due = models.DateField(null=True, blank=True, editable=False)

    ownership_lookups = ("service__owner", "service__delegates")
    parent_lookups = ("service",)
    MEASURE_FIELDS = ("metric", "comparator", "target", "unit", "window")
    # What the service's owner states in an item, in the browser and through the API alike.
    STATEMENT_FIELDS = ("title", "description", *MEASURE_FIELDS)
    STANDING_FIELDS = ("measured_until", "measured_met", "measurement_due")
    changelog_exclude = ("created_at", "updated_at", *STANDING_FIELDS)

    class Meta:
        ordering = ["service", "aspect", "dimension", "position", "id"]
        indexes = [
            models.Index(fields=["service", "aspect", "dimension", "position"]),
            models.Index(
                ATTENTION_FROM,
                F("id"),
                name="item_attention_from",
                condition=Q(dimension=Dimension.FUNCTIONING),
            ),
        ]
        constraints = [
            unique_external_id("specificationitem"),
            models.CheckConstraint(
                condition=Q(dimension=Dimension.FUNCTIONALITY)
                | (
                    ~Q(metric="")
                    & ~Q(comparator="")
                    & Q(target__isnull=False)
                    & ~Q(unit="")
                    & ~Q(window="")
                ),
                name="specificationitem_functioning_is_measurable",
                violation_error_message=(
                    "A functioning item needs a metric, comparator, target, unit and window."
                ),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def quadrant(self) -> str:
        return f"{self.aspect}_{self.dimension}"

    @property
    def is_functioning(self) -> bool:
        return self.dimension == Dimension.FUNCTIONING

    def clean(self):
        errors = {}
        if self.is_functioning:
            for name in self.MEASURE_FIELDS:
                if getattr(self, name) in (None, ""):
                    errors[name] = "A functioning item is measurable: this field is required."
        if errors:
            raise ValidationError(errors)


class ServiceDependency(SyncedModel, EffectiveDatedModel):
    """The consumer service depends on (is underpinned by) the provider service, from
    ``valid_from`` to ``valid_to`` (EffectiveDatedModel)."""

    consumer = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="provider_links")
    provider = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="consumer_links")
    # The share of the provider's cost this consumer carries, relative to its other consumers.
    weight = models.DecimalField(default=Decimal(1), **WEIGHT)
    driver = driver_reference("service_dependencies")
    note = models.CharField(max_length=500, blank=True)

    ownership_lookups = ("consumer__owner", "consumer__delegates")
    parent_lookups = ("consumer",)

    class Meta:
        verbose_name_plural = "service dependencies"
        ordering = ["consumer", "provider"]
        constraints = [
            unique_external_id("servicedependency"),
            *effective_dated_constraints(
                "dependency",
                ("consumer", "provider"),
                "This dependency is already recorded for some of these days.",
            ),
            models.CheckConstraint(
                condition=~Q(consumer=models.F("provider")),
                name="dependency_not_on_itself",
                violation_error_message="A service cannot depend on itself.",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="dependency_weight_positive"),
        ]

    def __str__(self):
        return f"{self.consumer} → {self.provider}"

    def clean(self):
        super().clean()
        if self.consumer_id and self.consumer_id == self.provider_id:
            raise ValidationError({"provider": "A service cannot depend on itself."})


class Customer(SluggedModel, RetirableModel):
    kind = models.CharField(max_length=10, choices=CustomerKind.choices)
    segment = models.CharField(max_length=100, blank=True)
    translations = translations_field("name")
    relationship_manager = accountable_user("managed_customers")
    unit = protected_reference("people.OrganisationUnit", "customers")
    custom_fields = CustomFieldsField()

    ownership_lookups = ("relationship_manager",)

    class Meta(SluggedModel.Meta):
        indexes = [
            models.Index(fields=["name"], name="customer_name"),
            natural_name_index("customer"),
            *search_indexes(searched=("name", "slug", "segment", "external_id"), name="customer"),
            custom_fields_index("customer"),
        ]


class Subscription(SyncedModel, RetirableModel):
    """The customer consumes the service: how much, at what price."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="subscriptions")
    units = models.DecimalField(
        max_digits=18, decimal_places=4, default=Decimal(1), validators=[MinValueValidator(0)]
    )
    unit_name = models.CharField(max_length=50, default="user")
    price_per_unit = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    annual_charge = MoneyField(null=True, blank=True, validators=[MinValueValidator(0)])
    currency = CurrencyField()
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    ownership_lookups = ("customer__relationship_manager", "service__owner", "service__delegates")
    parent_lookups = ("customer",)
    # The terms agreed: how much, at what price, when. Written in the browser and through the
    # API alike; a change to any of them moves revenue and cost in the roll-up.
    TERMS = (
        "units",
        "unit_name",
        "price_per_unit",
        "annual_charge",
        "currency",
        "start_date",
        "end_date",
    )

    class Meta:
        ordering = ["customer", "service"]
        constraints = [
            unique_external_id("subscription"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="subscription_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.customer} · {self.service}"

    @property
    def annual_revenue(self) -> Decimal:
        """The annual charge when agreed as one sum; otherwise units × price per unit × 12
        (prices per unit are monthly)."""
        if self.annual_charge is not None:
            return self.annual_charge
        if self.price_per_unit is not None:
            return self.units * self.price_per_unit * 12
        return Decimal(0)

    def clean(self):
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})
        if self.annual_charge is None and self.price_per_unit is None:
            raise ValidationError({"price_per_unit": "Give a price per unit or an annual charge."})


class Outcome(SyncedModel):
    """A Successful Customer Outcome: what the customer really wants, with its measure."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="outcomes"
    )
    statement = models.TextField(help_text="The outcome in the customer's own words.")
    metric = models.CharField(max_length=200, blank=True)
    comparator = models.CharField(max_length=10, choices=Comparator.choices, blank=True)
    target = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    window = models.CharField(max_length=10, choices=MeasurementWindow.choices, blank=True)
    # The functioning item the outcome relies on: without figures of its own, the outcome
    # follows it, and a missed or stale item puts it at risk (performance.selectors).
    specification_item = models.ForeignKey(
        SpecificationItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outcomes",
    )
    agreement = models.CharField(
        max_length=15, choices=OutcomeAgreement.choices, default=OutcomeAgreement.PROPOSED
    )
    status_override = models.CharField(max_length=10, choices=OutcomeOverride.choices, blank=True)
    override_reason = models.CharField(max_length=500, blank=True)
    measured_until = models.DateField(null=True, blank=True, editable=False)
    measured_met = models.BooleanField(null=True, blank=True, editable=False)
    measurement_due = models.DateField(null=True, blank=True, editable=False)

    STANDING_FIELDS = ("measured_until", "measured_met", "measurement_due")
    changelog_exclude = ("created_at", "updated_at", *STANDING_FIELDS)

    ownership_lookups = (
        "subscription__customer__relationship_manager",
        "subscription__service__owner",
        "subscription__service__delegates",
    )
    parent_lookups = ("subscription",)

    class Meta:
        ordering = ["subscription", "id"]
        constraints = [unique_external_id("outcome")]

    def __str__(self):
        return self.statement[:80]

    @property
    def is_measurable(self) -> bool:
        """An SCO without a measure is not yet an SCO."""
        return bool(self.metric) and self.target is not None and bool(self.unit)

    def clean(self):
        if self.status_override and not self.override_reason.strip():
            raise ValidationError(
                {"override_reason": "Say why the status is set by hand instead of by figures."}
            )
        if (
            self.specification_item_id
            and self.subscription_id
            and self.specification_item.service_id != self.subscription.service_id
        ):
            raise ValidationError(
                {"specification_item": "Choose an item of the subscribed service."}
            )


class Supplier(SluggedModel, RetirableModel):
    website = models.URLField(blank=True)
    owner = accountable_user("managed_suppliers")
    unit = protected_reference("people.OrganisationUnit", "suppliers")
    custom_fields = CustomFieldsField()

    ownership_lookups = ("owner",)

    class Meta(SluggedModel.Meta):
        indexes = [
            models.Index(fields=["name"], name="supplier_name"),
            natural_name_index("supplier"),
            *search_indexes(searched=("name", "slug", "website", "external_id"), name="supplier"),
            custom_fields_index("supplier"),
        ]


class Contract(SyncedModel, RetirableModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    notice_period_days = models.PositiveIntegerField(default=90)
    renewal_date = models.DateField(null=True, blank=True)
    auto_renewal = models.BooleanField(default=False)
    annual_value = MoneyField(validators=[MinValueValidator(0)])
    currency = CurrencyField()
    # Budgets (budgets.services.build_budget): an auto-renewing contract renews at this rise
    # of its annual value, compounded term by term, until notice is given.
    escalation_percent = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text="The rise of the annual value at each renewal, in percent.",
    )
    notice_given_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day notice was given: the contract ends with the term whose notice "
        "deadline is on or after it.",
    )
    owner = accountable_user("managed_contracts")
    custom_fields = CustomFieldsField()

    ownership_lookups = ("owner", "supplier__owner")

    class Meta:
        ordering = ["supplier", "reference"]
        indexes = [
            *search_indexes(searched=("reference", "title", "external_id"), name="contract"),
            custom_fields_index("contract"),
        ]
        constraints = [
            unique_external_id("contract"),
            models.UniqueConstraint(fields=["supplier", "reference"], name="contract_unique_ref"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(escalation_percent__gte=0),
                name="contract_escalation_not_negative",
                violation_error_message="The escalation cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @cached_property
    def notice_deadline(self):
        """The last day to give notice before the contract renews or ends."""
        from datetime import timedelta

        decisive = self.renewal_date or self.end_date
        if decisive is None:
            return None
        return decisive - timedelta(days=self.notice_period_days)

    def clean(self):
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})


class Application(SluggedModel, RetirableModel):
    description = models.TextField(blank=True)
    translations = translations_field("name", "description")
    owner = accountable_user("owned_applications")
    unit = protected_reference("people.OrganisationUnit", "applications")
    lifecycle = models.CharField(
        max_length=10, choices=ApplicationLifecycle.choices, default=ApplicationLifecycle.ACTIVE
    )
    disposition = models.CharField(max_length=10, choices=TimeDisposition.choices, blank=True)
    criticality = models.CharField(
        max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    vendor = protected_reference(Supplier, "applications")
    custom_fields = CustomFieldsField()

    ownership_lookups = ("owner",)

    class Meta(SluggedModel.Meta):
        indexes = [
            models.Index(fields=["name"], name="application_name"),
            natural_name_index("application"),
            *search_indexes(
                searched=("name", "slug", "description", "external_id"), name="application"
            ),
            custom_fields_index("application"),
        ]


class ContractCoverage(SyncedModel, EffectiveDatedModel):
    """A contract underpins a service or an application; its value is shared by weight."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="coverages")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="coverages"
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="coverages"
    )
    weight = models.DecimalField(default=Decimal(1), **WEIGHT)

    ownership_lookups = ("contract__owner", "contract__supplier__owner")
    parent_lookups = ("contract",)

    class Meta:
        ordering = ["contract", "id"]
        constraints = [
            unique_external_id("contractcoverage"),
            models.CheckConstraint(
                condition=(Q(service__isnull=False) & Q(application__isnull=True))
                | (Q(service__isnull=True) & Q(application__isnull=False)),
                name="coverage_exactly_one_target",
                violation_error_message="A coverage names either a service or an application.",
            ),
            ends_after_start("coverage"),
            no_overlap(
                "coverage_service",
                ("contract", "service"),
                "This contract already covers this service for some of these days.",
                condition=Q(service__isnull=False),
            ),
            no_overlap(
                "coverage_application",
                ("contract", "application"),
                "This contract already covers this application for some of these days.",
                condition=Q(application__isnull=False),
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="coverage_weight_positive"),
        ]

    def __str__(self):
        return f"{self.contract} → {self.service or self.application}"

    @property
    def target(self):
        return self.service or self.application

    def clean(self):
        super().clean()
        if (self.service_id is None) == (self.application_id is None):
            raise ValidationError("Choose either a service or an application, not both.")


class ApplicationSupport(SyncedModel, EffectiveDatedModel):
    """The application supports the service; its cost is shared among services by weight."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="supports")
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="application_supports"
    )
    weight = models.DecimalField(default=Decimal(1), **WEIGHT)
    driver = driver_reference("application_supports")

    ownership_lookups = ("application__owner", "service__owner", "service__delegates")
    parent_lookups = ("application",)

    class Meta:
        ordering = ["application", "service"]
        constraints = [
            unique_external_id("applicationsupport"),
            *effective_dated_constraints(
                "support",
                ("application", "service"),
                "This application already supports this service for some of these days.",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="support_weight_positive"),
        ]

    def __str__(self):
        return f"{self.application} → {self.service}"
