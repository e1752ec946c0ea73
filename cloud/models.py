"""Cloud bills in the FinOps FOCUS format, and the tag rules that map their lines to
services, applications and cost pools.

A FOCUS line keeps the FOCUS 1.0 columns Portico uses, under the specification's names
(``FOCUS_COLUMNS``); the import (cloud.services) books each billing period's allocated and
untagged effective cost as finance cost items, so the roll-up needs nothing of its own.
"""

from django.db import models
from django.urls import reverse

from core.models import ImportedFile
from core.models import SluggedModel
from core.models import SyncedModel
from core.models import booked_cost_item
from core.models import exactly_one_of
from core.models import protected_reference
from core.models import rule_taking_lines
from core.models import unique_external_id
from core.permissions import RestrictedQuerySet
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.models import CostPool
from finance.models import Period

# FOCUS 1.0 column -> FocusLine field. Columns the import reads; any other column of a file is
# ignored. Names as the FinOps Foundation publishes them (focus.finops.org).
FOCUS_COLUMNS = {
    "BillingAccountId": "billing_account_id",
    "BillingAccountName": "billing_account_name",
    "SubAccountId": "sub_account_id",
    "SubAccountName": "sub_account_name",
    "ProviderName": "provider_name",
    "PublisherName": "publisher_name",
    "InvoiceIssuerName": "invoice_issuer_name",
    "ChargePeriodStart": "charge_period_start",
    "ChargePeriodEnd": "charge_period_end",
    "BillingPeriodStart": "billing_period_start",
    "BillingPeriodEnd": "billing_period_end",
    "ChargeCategory": "charge_category",
    "ChargeDescription": "charge_description",
    "ServiceCategory": "service_category",
    "ServiceName": "service_name",
    "ResourceId": "resource_id",
    "ResourceName": "resource_name",
    "RegionId": "region_id",
    "Tags": "tags",
    "BilledCost": "billed_cost",
    "EffectiveCost": "effective_cost",
    "ListCost": "list_cost",
    "BillingCurrency": "billing_currency",
}
# Columns a file must have: without them a line cannot be booked or told apart.
REQUIRED_COLUMNS = (
    "BillingAccountId",
    "ProviderName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
)
# FOCUS amounts carry more places than cents (unit prices of fractions of a cent).
COST_DIGITS, COST_PLACES = 30, 12
TARGET_FIELDS = ("service", "application", "pool")


class CloudAccount(SluggedModel):
    """A provider's billing account (FOCUS BillingAccountId), made by its first import."""

    provider_name = models.CharField(max_length=200, verbose_name="ProviderName")
    billing_account_id = models.CharField(max_length=300, verbose_name="BillingAccountId")
    # Where the account's untagged cost is booked: a pool allocated to nothing, so the roll-up
    # reports it as unallocated (reason "untagged"). PROTECT: its cost items are history.
    untagged_pool = models.OneToOneField(
        CostPool, on_delete=models.PROTECT, related_name="cloud_account", editable=False
    )

    url_name = "cloud:account_detail"

    class Meta(SluggedModel.Meta):
        constraints = [
            unique_external_id("cloudaccount"),
            models.UniqueConstraint(
                fields=["provider_name", "billing_account_id"], name="cloudaccount_unique_id"
            ),
        ]

    def __str__(self):
        return f"{self.provider_name} {self.name}"


class BillingImport(ImportedFile):
    """One account's lines of one billing period, as last imported: re-importing the period
    replaces them; the same lines and rules again write nothing."""

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="imports")
    # PROTECT: the period holds the cost items the lines were booked as.
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="cloud_imports")
    billing_period_start = models.DateTimeField(verbose_name="BillingPeriodStart")
    billing_period_end = models.DateTimeField(verbose_name="BillingPeriodEnd")
    untagged_count = models.PositiveIntegerField(default=0)
    # totals: per BillingCurrency, as exact decimal strings: {"USD": {"effective": "…",
    # "billed": "…", "allocated": "…", "untagged": "…"}}.
    # The largest untagged resources: [{"resource_id", "resource_name", "service_name",
    # "currency", "effective_cost"}], largest first.
    top_untagged = models.JSONField(default=list)

    class Meta:
        ordering = ["-period__serial", "account__name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="billingimport_unique")
        ]

    def __str__(self):
        return f"{self.account} {self.period}"

    def get_absolute_url(self):
        return reverse("cloud:billingimport_detail", args=[self.pk])


class TagRule(SyncedModel):
    """Lines that match every criterion given go to the rule's target, as its category and
    expenditure; the first rule by priority that matches takes a line."""

    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")
    account = models.ForeignKey(
        CloudAccount,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        help_text="Only lines of this billing account.",
    )
    tag_key = models.CharField(
        max_length=200,
        blank=True,
        help_text="Lines with this tag (case, spaces and key synonyms do not matter).",
    )
    tag_value = models.CharField(
        max_length=300, blank=True, help_text="… with this value (any value when empty)."
    )
    resource_name_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Lines whose ResourceName (else ResourceId) matches: * and ? as wildcards.",
    )
    provider_service_name = models.CharField(
        max_length=200, blank=True, help_text="Lines of this provider service (FOCUS ServiceName)."
    )
    service = protected_reference("portfolio.Service", "tag_rules")
    application = protected_reference("portfolio.Application", "tag_rules")
    pool = protected_reference(CostPool, "tag_rules")
    category = models.CharField(
        max_length=20, choices=CostCategory.choices, default=CostCategory.INFRASTRUCTURE
    )
    expenditure = models.CharField(
        max_length=5, choices=Expenditure.choices, default=Expenditure.OPEX
    )

    url_name = "cloud:tagrule_edit"

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            unique_external_id("tagrule"),
            models.CheckConstraint(
                condition=exactly_one_of(TARGET_FIELDS),
                name="tagrule_exactly_one_target",
                violation_error_message=(
                    "A tag rule maps lines to exactly one service, application or pool."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def target(self):
        for name in TARGET_FIELDS:
            if getattr(self, f"{name}_id") is not None:
                return getattr(self, name)
        return None


class TagKeySynonym(SyncedModel):
    """A tag key read as another (``env`` as ``environment``), both normalised."""

    synonym = models.CharField(max_length=200, unique=True)
    key = models.CharField(max_length=200)

    url_name = "cloud:tagkeysynonym_edit"

    class Meta:
        ordering = ["key", "synonym"]
        constraints = [unique_external_id("tagkeysynonym")]

    def __str__(self):
        return f"{self.synonym} → {self.key}"


class FocusLine(models.Model):
    """One line of a FOCUS cloud bill, with what Portico made of it. Written only by the
    import (COPY); read-only everywhere else."""

    billing_import = models.ForeignKey(
        BillingImport, on_delete=models.CASCADE, related_name="lines"
    )
    billing_account_id = models.CharField(max_length=300, verbose_name="BillingAccountId")
    billing_account_name = models.CharField(
        max_length=300, blank=True, verbose_name="BillingAccountName"
    )
    sub_account_id = models.CharField(max_length=300, blank=True, verbose_name="SubAccountId")
    sub_account_name = models.CharField(max_length=300, blank=True, verbose_name="SubAccountName")
    provider_name = models.CharField(max_length=200, verbose_name="ProviderName")
    publisher_name = models.CharField(max_length=200, blank=True, verbose_name="PublisherName")
    invoice_issuer_name = models.CharField(
        max_length=200, blank=True, verbose_name="InvoiceIssuerName"
    )
    charge_period_start = models.DateTimeField(verbose_name="ChargePeriodStart")
    charge_period_end = models.DateTimeField(verbose_name="ChargePeriodEnd")
    billing_period_start = models.DateTimeField(verbose_name="BillingPeriodStart")
    billing_period_end = models.DateTimeField(verbose_name="BillingPeriodEnd")
    charge_category = models.CharField(max_length=50, blank=True, verbose_name="ChargeCategory")
    charge_description = models.TextField(blank=True, verbose_name="ChargeDescription")
    service_category = models.CharField(max_length=100, blank=True, verbose_name="ServiceCategory")
    service_name = models.CharField(max_length=200, blank=True, verbose_name="ServiceName")
    resource_id = models.TextField(blank=True, verbose_name="ResourceId")
    resource_name = models.TextField(blank=True, verbose_name="ResourceName")
    region_id = models.CharField(max_length=100, blank=True, verbose_name="RegionId")
    tags = models.JSONField(default=dict, blank=True, verbose_name="Tags")
    billed_cost = models.DecimalField(
        max_digits=COST_DIGITS, decimal_places=COST_PLACES, verbose_name="BilledCost"
    )
    effective_cost = models.DecimalField(
        max_digits=COST_DIGITS, decimal_places=COST_PLACES, verbose_name="EffectiveCost"
    )
    list_cost = models.DecimalField(
        max_digits=COST_DIGITS,
        decimal_places=COST_PLACES,
        null=True,
        blank=True,
        verbose_name="ListCost",
    )
    billing_currency = models.CharField(max_length=3, verbose_name="BillingCurrency")
    rule = rule_taking_lines(TagRule)
    untagged = models.BooleanField(default=False)
    cost_item = booked_cost_item("focus_lines")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["billing_import", "id"]
        indexes = [models.Index(fields=["billing_import", "untagged"])]

    def __str__(self):
        return f"{self.provider_name} {self.service_name} {self.resource_id}"
