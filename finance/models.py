"""Cost data, the periods it is booked in, and the stored results of the TCO roll-up.

Inputs (cost items, pools and their allocations, exchange rates) are edited by people and
synced from ledgers; results (TcoResult, TcoUnallocated, TcoFlow, and the kept cost shared
out: CustomerStatement with its StatementLines, ValueStreamCost with its StageCosts) are only
ever written by finance.services.recompute_tco, per period and version.
"""

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.models import ChangeLoggedModel
from core.models import EffectiveDatedModel
from core.models import RetirableModel
from core.models import SluggedModel
from core.models import SyncedModel
from core.models import accountable_user
from core.models import acting_user
from core.models import driver_reference
from core.models import effective_dated_constraints
from core.models import exactly_one_of
from core.models import protected_reference
from core.models import unique_external_id
from core.money import FIGURE_DIGITS
from core.money import CurrencyField
from core.money import MoneyField
from core.numbers import MONTH_FORMAT
from core.numbers import month_label
from core.permissions import RestrictedQuerySet
from core.search import SearchIndex
from core.search import search_indexes
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import NodeKind
from finance.choices import PeriodStatus
from finance.choices import PoolType
from finance.choices import ReportFormat
from finance.choices import ReportKind
from finance.choices import ReportOutcome
from finance.choices import ReportPeriodSelector
from finance.choices import ReportTrigger
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.choices import UnallocatedReason

# Unit cost, units and ratios the roll-up computes (see core.money.FIGURE_DIGITS).
FIGURE_FOUR_PLACES = {"max_digits": FIGURE_DIGITS, "decimal_places": 4}
WEIGHT = {"max_digits": 12, "decimal_places": 4, "validators": [MinValueValidator(Decimal(0))]}
LABEL_FORMAT = MONTH_FORMAT


def month_serial(year: int, month: int) -> int:
    """Months since the start of year 0: consecutive months have consecutive serials."""
    return year * 12 + month - 1


def serial_label(serial: int) -> str:
    return f"{serial // 12:04d}-{serial % 12 + 1:02d}"


def parse_label(label: str) -> tuple[int, int]:
    """``"2025-03"`` → ``(2025, 3)``; anything else is refused with the expected form."""
    return month_label(label, what="A period")


class Period(ChangeLoggedModel):
    """A calendar month of the ledger. Closing it freezes its results; a restatement computes
    a new version beside the frozen one."""

    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(1900)])
    month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    serial = models.PositiveIntegerField(unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # SET_NULL: the closing is history; the account may go, the date and status stay.
    closed_by = acting_user()
    current_version = models.PositiveIntegerField(default=1)
    # The "dirty" marker: set when cost data or an edge changed, cleared by the recomputation.
    recompute_requested_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Counts the changes that reached the period; a run clears the marker only if the count
    # did not move while it ran.
    change_serial = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    # What the changes since the last run touched, for the incremental roll-up: the nodes
    # ("service:12") whose cost changed; null when a change reached further (a rate, an edge,
    # a record's lifecycle...) or is unknown, and the next run is a full one.
    changed_nodes = models.JSONField(null=True, blank=True, default=list, editable=False)
    # The run whose figures the stored results of the current version are (the last to write
    # them): an incremental run starts from that run's figures only.
    computed_by = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    changelog_exclude = (
        "created_at",
        "updated_at",
        "recompute_requested_at",
        "change_serial",
        "changed_nodes",
        "computed_by",
    )
    url_key = "label"

    class Meta:
        ordering = ["-serial"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="period_unique_month"),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="period_month_valid"
            ),
            models.CheckConstraint(
                condition=Q(serial=F("year") * 12 + F("month") - 1),
                name="period_serial_matches_month",
            ),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        self.serial = month_serial(self.year, self.month)
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def is_closed(self) -> bool:
        return self.status == PeriodStatus.CLOSED

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month, 1)

    @property
    def last_day(self) -> datetime.date:
        return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def mid_month(self) -> datetime.date:
        """The day that decides whether a contract or subscription counts for the month."""
        return datetime.date(self.year, self.month, 15)

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.year, self.month)

    @property
    def fiscal_month(self) -> int:
        """1 for the first month of the fiscal year, 12 for its last."""
        return (self.month - fiscal_start_month()) % 12 + 1

    @property
    def fiscal_quarter(self) -> int:
        return (self.fiscal_month - 1) // 3 + 1

    def clean(self):
        if self.month and not 1 <= self.month <= 12:
            raise ValidationError({"month": "A month is a number from 1 to 12."})


def fiscal_start_month() -> int:
    return settings.PORTICO_FISCAL_YEAR_START_MONTH


def fiscal_year_of(year: int, month: int) -> int:
    """A fiscal year is named after the calendar year it ends in (January start: the same)."""
    start = fiscal_start_month()
    if start == 1:
        return year
    return year + 1 if month >= start else year


class CostPool(SluggedModel, RetirableModel):
    """Shared cost (a data centre, a service desk) allocated to services by weight."""

    description = models.TextField(blank=True)
    pool_type = models.CharField(max_length=30, choices=PoolType.choices, blank=True)
    # PROTECT: accountability is handed over on purpose, never lost with a deleted account.
    owner = accountable_user("owned_cost_pools")
    unit = protected_reference("people.OrganisationUnit", "cost_pools")

    ownership_lookups = ("owner",)
    url_name = "finance:pool_detail"

    class Meta(SluggedModel.Meta):
        indexes = [
            *search_indexes(
                searched=("name", "description", "slug", "external_id"), name="costpool"
            ),
        ]


class Driver(SluggedModel, RetirableModel):
    """A measure of consumption (sites, VM-hours, tickets, users, TB): a driven edge shares
    its source's cost in proportion to its consumers' quantities of it, month by month."""

    unit = models.CharField(max_length=50, help_text="What one unit is: site, VM-hour, TB.")
    description = models.TextField(blank=True)

    url_name = "finance:driver_edit"

    class Meta(SluggedModel.Meta):
        indexes = [
            SearchIndex(
                searched=("name", "unit", "description", "slug", "external_id"),
                name="driver_search",
            ),
        ]

    def __str__(self):
        return self.name


class PoolAllocation(SyncedModel, EffectiveDatedModel):
    """The pool's cost is shared among its services in proportion to these weights, or to
    their quantities of the driver."""

    pool = models.ForeignKey(CostPool, on_delete=models.CASCADE, related_name="allocations")
    # CASCADE: an edge means nothing without its service (services are retired, not deleted).
    service = models.ForeignKey(
        "portfolio.Service", on_delete=models.CASCADE, related_name="pool_allocations"
    )
    weight = models.DecimalField(default=Decimal(1), **WEIGHT)
    driver = driver_reference("pool_allocations")

    ownership_lookups = ("pool__owner",)
    parent_lookups = ("pool",)

    class Meta:
        ordering = ["pool", "service"]
        constraints = [
            unique_external_id("poolallocation"),
            *effective_dated_constraints(
                "allocation",
                ("pool", "service"),
                "This pool is already allocated to this service for some of these days.",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="allocation_weight_positive"),
        ]

    def __str__(self):
        return f"{self.pool} → {self.service}"

    def get_absolute_url(self):
        return self.pool.get_absolute_url()


TARGET_FIELDS = ("service", "application", "contract", "pool")


def cost_target_constraints(prefix: str, noun: str) -> list[models.CheckConstraint]:
    """The database's side of CostTarget.clean: exactly one target, a spread of at least one
    month, and only capex spread; ``prefix`` names the constraints, ``noun`` the record."""
    return [
        models.CheckConstraint(
            condition=exactly_one_of(TARGET_FIELDS),
            name=f"{prefix}_exactly_one_target",
            violation_error_message=(
                f"{noun} targets exactly one service, application, contract or pool."
            ),
        ),
        models.CheckConstraint(condition=Q(spread_months__gte=1), name=f"{prefix}_spread_positive"),
        models.CheckConstraint(
            condition=Q(expenditure=Expenditure.CAPEX) | Q(spread_months=1),
            name=f"{prefix}_opex_not_spread",
            violation_error_message="Only capex is spread over several months.",
        ),
    ]


class CostTarget(models.Model):
    """An amount's shape as the roll-up reads it, shared by cost items and budget lines: its
    category, opex or capex (capex spread over months), its pool type, and exactly one target
    among TARGET_FIELDS. Each model declares the four references itself (with
    ``protected_reference``), for their related names, and adds ``cost_target_constraints``
    to its Meta."""

    category = models.CharField(max_length=20, choices=CostCategory.choices)
    expenditure = models.CharField(
        max_length=5, choices=Expenditure.choices, default=Expenditure.OPEX
    )
    spread_months = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Capex is spread evenly over this many months, starting with its month.",
    )
    pool_type = models.CharField(
        max_length=30, choices=PoolType.choices, blank=True, verbose_name="cost pool type"
    )

    class Meta:
        abstract = True

    @property
    def target_kind(self) -> str:
        for name in TARGET_FIELDS:
            if getattr(self, f"{name}_id") is not None:
                return name
        return ""

    @property
    def target(self):
        kind = self.target_kind
        return getattr(self, kind) if kind else None

    def clean(self):
        chosen = [name for name in TARGET_FIELDS if getattr(self, f"{name}_id") is not None]
        if len(chosen) != 1:
            message = "Choose exactly one target: a service, an application, a contract or a pool."
            raise ValidationError(dict.fromkeys(chosen or ["service"], message))
        if self.expenditure == Expenditure.OPEX and self.spread_months != 1:
            raise ValidationError({"spread_months": "Only capex is spread over several months."})


class CostItem(CostTarget, SyncedModel):
    """An amount of money booked in a period against exactly one service, application,
    contract or cost pool."""

    description = models.CharField(max_length=200)
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="cost_items")
    # Negative for a credit note or a reversal: it lowers the cost of its target.
    amount = MoneyField(help_text="Negative for a credit note or a reversal.")
    currency = CurrencyField()
    # PROTECT on every target: cost history must not vanish; the target is retired instead.
    service = protected_reference("portfolio.Service", "cost_items")
    application = protected_reference("portfolio.Application", "cost_items")
    contract = protected_reference("portfolio.Contract", "cost_items")
    pool = protected_reference(CostPool, "cost_items")

    url_name = "finance:costitem_edit"

    class Meta:
        ordering = ["-period__serial", "description", "id"]
        constraints = [
            unique_external_id("costitem"),
            *cost_target_constraints("costitem", "A cost item"),
        ]

    def __str__(self):
        return f"{self.description} ({self.period})"


class DriverQuantity(SyncedModel):
    """How much of a driver one consumer (a service or an application) used in a period."""

    # PROTECT: quantities are the history behind driven figures; the driver is retired.
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="quantities")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="driver_quantities")
    # CASCADE: a quantity means nothing without its consumer (which is retired, not deleted).
    service = models.ForeignKey(
        "portfolio.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="driver_quantities",
    )
    application = models.ForeignKey(
        "portfolio.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="driver_quantities",
    )
    quantity = models.DecimalField(
        max_digits=18, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )

    url_name = "finance:driverquantity_edit"

    class Meta:
        ordering = ["driver", "-period__serial", "id"]
        verbose_name_plural = "driver quantities"
        constraints = [
            unique_external_id("driverquantity"),
            models.CheckConstraint(
                condition=Q(service__isnull=True, application__isnull=False)
                | Q(service__isnull=False, application__isnull=True),
                name="driverquantity_one_consumer",
                violation_error_message="A quantity is for exactly one service or application.",
            ),
            models.UniqueConstraint(
                fields=["driver", "period", "service"],
                condition=Q(service__isnull=False),
                name="driverquantity_unique_service",
                violation_error_message="This service already has a quantity of this driver "
                "in this period.",
            ),
            models.UniqueConstraint(
                fields=["driver", "period", "application"],
                condition=Q(application__isnull=False),
                name="driverquantity_unique_application",
                violation_error_message="This application already has a quantity of this "
                "driver in this period.",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="driverquantity_not_negative"
            ),
        ]

    def __str__(self):
        return (
            f"{self.driver} {self.period}: {self.consumer} {Decimal(self.quantity).normalize():f}"
        )

    @property
    def consumer(self):
        return self.service if self.service_id is not None else self.application

    def clean(self):
        if (self.service_id is None) == (self.application_id is None):
            raise ValidationError(
                {"service": "Choose exactly one consumer: a service or an application."}
            )


class ExchangeRate(SyncedModel):
    """How much one unit of ``currency`` is worth in the reporting currency in a period."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="exchange_rates")
    currency = CurrencyField(default=None)
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text="Units of the reporting currency for one unit of this currency.",
    )

    url_name = "finance:rate_edit"

    class Meta:
        ordering = ["-period__serial", "currency"]
        constraints = [
            unique_external_id("exchangerate"),
            models.UniqueConstraint(fields=["period", "currency"], name="rate_unique_currency"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self):
        return f"{self.currency} {self.period}: {self.rate.normalize():f}"

    def clean(self):
        if self.currency and self.currency == settings.PORTICO_CURRENCY:
            raise ValidationError(
                {"currency": "The reporting currency needs no rate: it converts at 1."}
            )


# --- Results: written only by the roll-up ---------------------------------------------------


class TcoRun(models.Model):
    """One computation of a period's results: when, why, how long, and how it ended."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="runs")
    version = models.PositiveIntegerField()
    trigger = models.CharField(max_length=15, choices=RunTrigger.choices)
    outcome = models.CharField(
        max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    error = models.TextField(blank=True)
    note = models.CharField(max_length=500, blank=True)
    requested_by = acting_user()
    input_total = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    kept_total = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    unallocated_total = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    # Cost (and revenue) whose currency had no rate: {"cost": {"USD": "1200.00"}, ...}.
    unconverted = models.JSONField(default=dict, blank=True)
    # The input by what it is recorded against and category, for the flow chart:
    # {"application": {"development": "1200.00"}}.
    inputs_by_kind = models.JSONField(default=dict, blank=True)
    services_count = models.PositiveIntegerField(default=0)
    cost_groups_count = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["period", "-started_at"])]

    def __str__(self):
        return f"{self.period} v{self.version} {self.get_outcome_display().lower()}"

    def get_absolute_url(self):
        return reverse("finance:run_list") + f"?period={self.period.label}"


class TcoResult(models.Model):
    """The figures of one service in one period and version (upserted by the roll-up)."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="results")
    version = models.PositiveIntegerField()
    # PROTECT: frozen figures must keep their service; services are retired, not deleted.
    service = models.ForeignKey(
        "portfolio.Service", on_delete=models.PROTECT, related_name="tco_results"
    )
    run = models.ForeignKey(
        TcoRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )
    direct = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    received_applications = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    received_contracts = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    received_pools = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    received_services = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    passed_on = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    kept = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    unallocated = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_development = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_infrastructure = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_maintenance = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_vendor = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_support = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_opex = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    tco_capex = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    revenue = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    consumed_units = models.DecimalField(**FIGURE_FOUR_PLACES, default=Decimal(0))
    unit_name = models.CharField(max_length=50, blank=True)
    unit_cost = models.DecimalField(**FIGURE_FOUR_PLACES, null=True, blank=True)
    recovery_ratio = models.DecimalField(**FIGURE_FOUR_PLACES, null=True, blank=True)
    margin = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    # The kept cost charged to no customer (no subscription in force in the period).
    not_charged = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    # The kept cost no stage of a current-state value stream carries.
    in_no_value_stream = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    # Every figure by category and opex/capex, in cents: {"tco": {"vendor": {"opex": 12}}}.
    breakdown = models.JSONField(default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "version", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "version", "service"], name="result_unique_service"
            )
        ]

    def __str__(self):
        return f"{self.service} {self.period} v{self.version}"

    @property
    def received(self) -> Decimal:
        return (
            self.received_applications
            + self.received_contracts
            + self.received_pools
            + self.received_services
        )

    @property
    def by_category(self) -> list[tuple[str, str, Decimal]]:
        return [
            (value, label, getattr(self, f"tco_{value}")) for value, label in CostCategory.choices
        ]


class TcoUnallocated(models.Model):
    """Cost that reached no service in a period and version, with its source and reason."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="unallocated")
    version = models.PositiveIntegerField()
    run = models.ForeignKey(
        TcoRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="unallocated"
    )
    source_kind = models.CharField(max_length=15, choices=NodeKind.choices)
    source_id = models.BigIntegerField()
    source_label = models.CharField(max_length=300)
    reason = models.CharField(max_length=20, choices=UnallocatedReason.choices)
    detail = models.CharField(max_length=500, blank=True)
    # In the reporting currency; null when no rate converts it (see the original amount).
    amount = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    original_currency = models.CharField(max_length=3, blank=True)
    original_amount = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    breakdown = models.JSONField(default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "version", "reason", "source_kind", "source_label"]
        indexes = [models.Index(fields=["period", "version"])]

    def __str__(self):
        return f"{self.source_label}: {self.get_reason_display()}"


class TcoFlow(models.Model):
    """Cost that passed along one edge in a period and version: what the flow chart draws."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="flows")
    version = models.PositiveIntegerField()
    source_kind = models.CharField(max_length=15, choices=NodeKind.choices)
    source_id = models.BigIntegerField()
    target_kind = models.CharField(max_length=15, choices=NodeKind.choices)
    target_id = models.BigIntegerField()
    amount = MoneyField(max_digits=FIGURE_DIGITS)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "version", "-amount"]
        indexes = [models.Index(fields=["period", "version"])]

    def __str__(self):
        return f"{self.source_kind} {self.source_id} → {self.target_kind} {self.target_id}"


class CustomerStatement(models.Model):
    """What one customer paid and cost in a period and version: the revenue of its
    subscriptions in force and the share of the services' kept cost they carry (the roll-up
    writes it with the results; finance.showback splits the cost)."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="statements")
    version = models.PositiveIntegerField()
    run = models.ForeignKey(
        TcoRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="statements"
    )
    # PROTECT: frozen figures must keep their customer; customers are retired, not deleted.
    customer = models.ForeignKey(
        "portfolio.Customer", on_delete=models.PROTECT, related_name="statements"
    )
    revenue = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    cost_to_serve = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    margin = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    # revenue / cost_to_serve; null when the cost to serve is zero or negative.
    recovery_ratio = models.DecimalField(**FIGURE_FOUR_PLACES, null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "version", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "version", "customer"], name="statement_unique_customer"
            )
        ]

    def __str__(self):
        return f"{self.customer} {self.period} v{self.version}"


class StatementLine(models.Model):
    """One subscription of a customer statement: its units, revenue and cost to serve."""

    statement = models.ForeignKey(CustomerStatement, on_delete=models.CASCADE, related_name="lines")
    subscription = models.ForeignKey(
        "portfolio.Subscription", on_delete=models.PROTECT, related_name="statement_lines"
    )
    service = models.ForeignKey(
        "portfolio.Service", on_delete=models.PROTECT, related_name="statement_lines"
    )
    units = models.DecimalField(**FIGURE_FOUR_PLACES, default=Decimal(0))
    unit_name = models.CharField(max_length=50, blank=True)
    revenue = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    cost_to_serve = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "service", "subscription"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "subscription"], name="statement_line_unique_subscription"
            )
        ]

    def __str__(self):
        return f"{self.statement}: {self.subscription}"


class ValueStreamCost(models.Model):
    """The kept cost a value stream's stages carry in a period and version. A future state's
    figure is what-if: computed on its own links as if it replaced its current state, never
    added to totals."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="stream_costs")
    version = models.PositiveIntegerField()
    run = models.ForeignKey(
        TcoRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="stream_costs"
    )
    # PROTECT: frozen figures must keep their stream; streams are retired, not deleted.
    value_stream = models.ForeignKey(
        "valuestreams.ValueStream", on_delete=models.PROTECT, related_name="costs"
    )
    cost = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))
    what_if = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["period", "version", "value_stream"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "version", "value_stream"], name="stream_cost_unique_stream"
            )
        ]

    def __str__(self):
        return f"{self.value_stream} {self.period} v{self.version}"


class StageCost(models.Model):
    """The kept cost one stage carries: the sum of its links' shares."""

    stream_cost = models.ForeignKey(
        ValueStreamCost, on_delete=models.CASCADE, related_name="stages"
    )
    # SET_NULL: a stage removed from the map leaves the months it carried cost in as they were
    # (the stream's cost keeps its share); the row no longer names it.
    stage = models.ForeignKey(
        "valuestreams.Stage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="costs",
    )
    cost = MoneyField(max_digits=FIGURE_DIGITS, default=Decimal(0))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["stream_cost", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["stream_cost", "stage"], name="stage_cost_unique_stage")
        ]

    def __str__(self):
        return f"{self.stage}: {self.cost}"


# --- Scheduled reports ------------------------------------------------------------------------

# The five fields of a cron-like schedule: (field, its name in messages, celery's keyword).
SCHEDULE_FIELDS = (
    ("minute", "minute"),
    ("hour", "hour"),
    ("day_of_month", "day of the month"),
    ("month_of_year", "month"),
    ("day_of_week", "day of the week"),
)
# What each schedule field takes, for the message that refuses a value.
SCHEDULE_VALUES = {
    "minute": "0-59",
    "hour": "0-23",
    "day_of_month": "1-31",
    "month_of_year": "1-12",
    "day_of_week": "0-6 (0 is Sunday) or sun-sat",
}


def _schedule_field(default: str, help_text: str) -> models.CharField:
    return models.CharField(max_length=240, default=default, help_text=help_text)


class ReportDefinition(ChangeLoggedModel):
    """A finance report: which period, which services, which files, to whom, and when.

    Its schedule lives in django-celery-beat (a CrontabSchedule and a PeriodicTask kept in step
    by finance.services.save_report_definition), so beat's database scheduler runs it.
    """

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(
        "report",
        max_length=12,
        choices=ReportKind.choices,
        default=ReportKind.SERVICES,
        help_text=(
            "TCO by service: one message to every recipient. Customer statements: each "
            "relationship manager receives the statements of their customers; the recipients "
            "receive those of customers without one."
        ),
    )
    period_selector = models.CharField(
        "period",
        max_length=15,
        choices=ReportPeriodSelector.choices,
        default=ReportPeriodSelector.LAST_MONTH,
        help_text="Quarters and years follow the fiscal year.",
    )
    # The Fund services page's filters (finance.filtersets.FundServicesFilterSet), as the
    # query values that page takes: {"kind": "supporting", "owner": "alice"}. Empty: all.
    scope = models.JSONField(default=dict, blank=True)
    formats = ArrayField(
        models.CharField(max_length=4, choices=ReportFormat.choices), default=list, blank=True
    )
    recipients = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    minute = _schedule_field("0", "0-59, or cron syntax such as */15.")
    hour = _schedule_field("7", "0-23.")
    day_of_month = _schedule_field("3", "1-31, or * for every day.")
    month_of_year = _schedule_field("*", "1-12, or * for every month.")
    day_of_week = _schedule_field("*", "0-6 (Sunday is 0) or mon-fri, or * for every day.")
    enabled = models.BooleanField(
        default=True, help_text="Run on the schedule (a report can be run by hand either way)."
    )
    # SET_NULL: beat's entry is managed by the services; losing it must not lose the report.
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="finance_report",
    )
    created_by = acting_user(editable=False)

    changelog_exclude = ("created_at", "updated_at", "periodic_task")
    url_name = "finance:report_detail"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(formats=[]),
                name="report_has_a_format",
                violation_error_message="Choose at least one format.",
            ),
        ]

    @property
    def cron(self) -> str:
        return " ".join(getattr(self, name) for name, _ in SCHEDULE_FIELDS)

    def clean(self):
        from django.core.validators import validate_email
        from django_celery_beat import validators

        errors: dict[str, list[str]] = {}
        unknown = [value for value in self.formats if value not in ReportFormat.values]
        if unknown:
            errors["formats"] = [
                f"Unknown format: {', '.join(map(repr, unknown))}. "
                f"Choose from {', '.join(ReportFormat.values)}."
            ]
        elif not self.formats:
            errors["formats"] = ["Choose at least one format: xlsx, csv or pdf."]
        bad = []
        for address in self.recipients:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            noun = "Not an e-mail address" if len(bad) == 1 else "Not e-mail addresses"
            errors["recipients"] = [f"{noun}: {', '.join(repr(b) for b in bad)}."]
        elif not self.recipients:
            errors["recipients"] = ["Name at least one recipient."]
        # The validators django-celery-beat puts on CrontabSchedule, then celery's own parser
        # for what only the whole schedule shows.
        checks = {
            "minute": validators.minute_validator,
            "hour": validators.hour_validator,
            "day_of_month": validators.day_of_month_validator,
            "month_of_year": validators.month_of_year_validator,
            "day_of_week": validators.day_of_week_validator,
        }
        for name, label in SCHEDULE_FIELDS:
            value = (getattr(self, name) or "").strip()
            setattr(self, name, value)
            if not value:
                errors[name] = [f"The schedule needs a {label}: a value or *."]
                continue
            try:
                checks[name](value)
            except ValidationError:
                errors[name] = [
                    f"“{value}” is not a valid {label}: use {SCHEDULE_VALUES[name]}, a list "
                    "(1,15), a range (1-5), a step (*/2) or * for every one."
                ]
        if not any(name in errors for name, _ in SCHEDULE_FIELDS):
            from celery.schedules import crontab

            try:
                crontab(**{name: getattr(self, name) for name, _ in SCHEDULE_FIELDS})
            except ValueError as exc:
                # What only the whole schedule shows: a day the months chosen never have.
                reason = str(exc).removeprefix("Invalid crontab: ").rstrip(".")
                errors["day_of_month"] = [f"This schedule would never run: {reason}."]
        if errors:
            raise ValidationError(errors)


class ReportRun(models.Model):
    """One report for one period: rendered, stored and e-mailed. A rerun for the same period
    updates this row and its files in place."""

    # CASCADE: a run (and its files) is part of its report; what was e-mailed stays sent.
    definition = models.ForeignKey(ReportDefinition, on_delete=models.CASCADE, related_name="runs")
    period_key = models.CharField(max_length=10)  # 2025-03, 2025-Q1 or FY2025
    first_month = models.CharField(max_length=7, blank=True)
    last_month = models.CharField(max_length=7, blank=True)
    trigger = models.CharField(max_length=10, choices=ReportTrigger.choices)
    outcome = models.CharField(
        max_length=10, choices=ReportOutcome.choices, default=ReportOutcome.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    note = models.CharField(max_length=500, blank=True)
    requested_by = acting_user()
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    email_count = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "period_key"], name="report_run_unique_period"
            )
        ]

    def __str__(self):
        return f"{self.definition} {self.period_key}"

    def get_absolute_url(self):
        return self.definition.get_absolute_url() + "#runs"

    @property
    def months_label(self) -> str:
        if not self.first_month or self.first_month == self.last_month:
            return self.first_month
        return f"{self.first_month} to {self.last_month}"


class ReportFile(models.Model):
    """A rendered file of a run, kept in the database: web and workers share only it."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(max_length=4, choices=ReportFormat.choices)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    rendered_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["run", "format"]
        constraints = [
            models.UniqueConstraint(fields=["run", "format"], name="report_file_unique_format")
        ]

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("finance:report_download", args=[self.pk])


class QueuedTask(models.Model):
    """A background task asked for by a change, written in the change's transaction and sent to
    the broker right after commit; while the broker is unreachable it waits here, and the
    minute's sweep sends it when the broker answers again (finance.services.outbox)."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.task} {self.args} queued {self.queued_at:%Y-%m-%d %H:%M}"
