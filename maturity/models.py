from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models import Q
from django.urls import reverse

from core.models import RetirableModel
from core.models import SyncedModel
from core.models import TimestampedModel
from core.models import accountable_user
from core.models import protected_reference
from core.models import unique_external_id
from core.permissions import RestrictedQuerySet
from maturity.choices import BalanceElement
from maturity.choices import MaturityLevel
from maturity.choices import PartyKind
from portfolio.models import Customer

LEVEL_RANGE = Q(level__gte=1) & Q(level__lte=5)
SCORE = {"validators": [MinValueValidator(0), MaxValueValidator(100)]}


class Party(SyncedModel, RetirableModel):
    """Who is assessed: the provider (the whole organisation, or one of its units) or a customer.

    A customer's party names the provider unit serving it; none means the whole organisation.
    """

    kind = models.CharField(max_length=10, choices=PartyKind.choices)
    # PROTECT: a customer with maturity history is retired, never deleted.
    customer = models.OneToOneField(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maturity_party",
    )
    # PROTECT: a unit with maturity history is retired, never deleted.
    unit = models.OneToOneField(
        "people.OrganisationUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maturity_party",
        help_text="The organisation unit assessed; empty for the organisation as a whole.",
    )
    # PROTECT: a unit still serving customers hands them over before it goes.
    served_by = protected_reference(
        "self",
        "customers_served",
        limit_choices_to={"kind": PartyKind.PROVIDER},
        help_text="The provider unit serving this customer; empty for the whole organisation.",
    )

    ownership_lookups = ("customer__relationship_manager",)
    parent_lookups = ("customer",)

    class Meta:
        verbose_name_plural = "parties"
        ordering = ["kind", "unit__name", "customer__name"]
        constraints = [
            unique_external_id("party"),
            models.CheckConstraint(
                condition=(
                    Q(kind=PartyKind.CUSTOMER, customer__isnull=False, unit__isnull=True)
                    | Q(kind=PartyKind.PROVIDER, customer__isnull=True, served_by__isnull=True)
                ),
                name="party_kind_fields",
                violation_error_message=(
                    "A customer party names its customer; a provider party names at most a unit."
                ),
            ),
            # One provider as a whole; a unit is assessed by one party (``unit`` is one-to-one).
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind=PartyKind.PROVIDER, unit__isnull=True),
                name="party_unique_organisation",
                violation_error_message="The provider as a whole has a party already.",
            ),
        ]

    def __str__(self):
        if self.kind == PartyKind.CUSTOMER:
            return str(self.customer)
        if self.unit_id is not None:
            return self.unit.name
        return "The provider (whole organisation)"

    @property
    def is_provider(self) -> bool:
        return self.kind == PartyKind.PROVIDER

    @property
    def is_organisation(self) -> bool:
        return self.kind == PartyKind.PROVIDER and self.unit_id is None

    def get_absolute_url(self):
        if self.kind == PartyKind.CUSTOMER:
            return reverse("maturity:customer", args=[self.customer.slug])
        if self.unit_id is not None:
            return reverse("maturity:unit", args=[self.pk])
        return reverse("maturity:provider")

    def clean(self):
        if self.kind == PartyKind.CUSTOMER:
            if self.customer_id is None:
                raise ValidationError({"customer": "Choose the customer assessed."})
            if self.unit_id is not None:
                raise ValidationError({"unit": "Only the provider has units."})
            if self.served_by_id and self.served_by.kind != PartyKind.PROVIDER:
                raise ValidationError({"served_by": "Choose a unit of the provider."})
        else:
            if self.customer_id is not None:
                raise ValidationError({"customer": "The provider is not a customer."})
            if self.served_by_id is not None:
                raise ValidationError({"served_by": "Only a customer is served by a unit."})


class Assessment(SyncedModel):
    """One dated rating of a party on the Value Maturity Model, kept so the trend shows."""

    # PROTECT: assessments are history; a party that has them is retired, not deleted.
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField()
    answers = models.JSONField(default=dict, help_text="Statement code → points (0, 1 or 2).")
    computed_level = models.PositiveSmallIntegerField(choices=MaturityLevel.choices)
    override_level = models.PositiveSmallIntegerField(
        choices=MaturityLevel.choices, null=True, blank=True
    )
    override_reason = models.TextField(blank=True)
    # The level in force (the override, else the computed level), kept for queries.
    level = models.PositiveSmallIntegerField(choices=MaturityLevel.choices)
    # PROTECT: who rated a party stays part of the record.
    assessor = accountable_user("maturity_assessments")
    note = models.TextField(blank=True)

    ownership_lookups = ("party__customer__relationship_manager",)
    parent_lookups = ("party",)

    class Meta:
        ordering = ["party", "-assessed_on", "-id"]
        indexes = [models.Index(fields=["party", "-assessed_on", "-id"])]
        constraints = [
            unique_external_id("assessment"),
            models.CheckConstraint(condition=LEVEL_RANGE, name="assessment_level_range"),
            models.CheckConstraint(
                condition=Q(computed_level__gte=1, computed_level__lte=5),
                name="assessment_computed_level_range",
            ),
            models.CheckConstraint(
                condition=Q(override_level__isnull=True)
                | Q(override_level__gte=1, override_level__lte=5),
                name="assessment_override_level_range",
            ),
            models.CheckConstraint(
                condition=Q(override_level__isnull=True) | ~Q(override_reason=""),
                name="assessment_override_has_reason",
                violation_error_message="Give the reason for overriding the level.",
            ),
            models.CheckConstraint(
                condition=Q(override_level__isnull=True, level=F("computed_level"))
                | Q(override_level__isnull=False, level=F("override_level")),
                name="assessment_level_in_force",
            ),
        ]

    def __str__(self):
        return f"{self.party} · {self.assessed_on:%Y-%m-%d} · level {self.level}"

    def get_absolute_url(self):
        return self.party.get_absolute_url() + f"#assessment-{self.pk}"

    @property
    def is_overridden(self) -> bool:
        return self.override_level is not None

    def clean(self):
        if self.override_level is not None and not self.override_reason.strip():
            raise ValidationError({"override_reason": "Give the reason for overriding the level."})


class BalanceScores(models.Model):
    """The three balance scores, each from 0 to 100, one field per BalanceElement."""

    customer_focus = models.PositiveSmallIntegerField(**SCORE)
    process_orientation = models.PositiveSmallIntegerField(**SCORE)
    cost_optimisation = models.PositiveSmallIntegerField(**SCORE)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(customer_focus__lte=100)
                & Q(process_orientation__lte=100)
                & Q(cost_optimisation__lte=100),
                name="%(class)s_scores_to_100",
            ),
        ]

    @property
    def scores(self) -> dict[str, int]:
        return {element: getattr(self, element) for element in BalanceElement.values}


class BalanceSelfAssessment(SyncedModel, BalanceScores):
    """What the organisation believes of its balance, shown beside what the portfolio shows."""

    assessed_on = models.DateField()
    note = models.TextField(blank=True)
    # PROTECT: who gave the self-assessment stays part of the record.
    assessor = accountable_user("balance_self_assessments")

    class Meta:
        ordering = ["-assessed_on", "-id"]
        constraints = [unique_external_id("balanceselfassessment"), *BalanceScores.Meta.constraints]

    def __str__(self):
        return f"Self-assessment of {self.assessed_on:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("maturity:balance") + "#self-assessment"


class BalanceSnapshot(TimestampedModel, BalanceScores):
    """The three balance scores as read from the portfolio on one day.

    A derived figure, recomputed rather than edited, so it keeps no change log.
    """

    taken_on = models.DateField(unique=True)
    # Per element: {"considered": n, "meeting": m} and whether its evidence could be read.
    evidence = models.JSONField(default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta(BalanceScores.Meta):
        ordering = ["-taken_on"]

    def __str__(self):
        return f"Balance on {self.taken_on:%Y-%m-%d}"
