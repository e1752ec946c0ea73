"""General-ledger files and the mapping rules that book their lines as cost items.

A ledger line keeps what the file said (account, cost centre, vendor, description, amount,
currency, posting date) and what Portico made of it: the rule that took it (none: unmapped)
and the cost item it is part of. The import (ledger.services) books each period's mapped
lines per rule and currency, and the unmapped rest on the unmapped pool, so the roll-up needs
nothing of its own and the file reconciles to the cent.
"""

from django.db import models
from django.urls import reverse

from core.models import ImportedFile
from core.models import SyncedModel
from core.models import booked_cost_item
from core.models import exactly_one_of
from core.models import protected_reference
from core.models import rule_taking_lines
from core.models import unique_external_id
from core.permissions import RestrictedQuerySet
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PoolType
from finance.models import CostPool
from finance.models import Period
from ledger.choices import MatchKind

# Ledger amounts may carry more places than cents (allocated or converted postings).
AMOUNT_DIGITS, AMOUNT_PLACES = 30, 12
TARGET_FIELDS = ("service", "application", "contract", "pool")
# The line's fields a rule may match on, each with its kind of match.
CRITERIA = ("account", "cost_centre", "vendor")


def _match_field(label: str) -> models.CharField:
    return models.CharField(
        max_length=10,
        choices=MatchKind.choices,
        default=MatchKind.EXACT,
        verbose_name=f"{label} match",
    )


class LedgerRule(SyncedModel):
    """Ledger lines that meet every criterion given go to the rule's target, as its category,
    expenditure and pool type; the first rule by priority that matches takes a line."""

    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")
    account = models.CharField(
        max_length=200, blank=True, help_text="General-ledger account; any account when empty."
    )
    account_match = _match_field("Account")
    cost_centre = models.CharField(
        max_length=200, blank=True, help_text="Cost centre; any cost centre when empty."
    )
    cost_centre_match = _match_field("Cost centre")
    vendor = models.CharField(max_length=300, blank=True, help_text="Vendor; any when empty.")
    vendor_match = _match_field("Vendor")
    service = protected_reference("portfolio.Service", "ledger_rules")
    application = protected_reference("portfolio.Application", "ledger_rules")
    contract = protected_reference("portfolio.Contract", "ledger_rules")
    pool = protected_reference(CostPool, "ledger_rules")
    category = models.CharField(
        max_length=20, choices=CostCategory.choices, default=CostCategory.INFRASTRUCTURE
    )
    expenditure = models.CharField(
        max_length=5, choices=Expenditure.choices, default=Expenditure.OPEX
    )
    pool_type = models.CharField(
        max_length=30, choices=PoolType.choices, blank=True, verbose_name="cost pool type"
    )

    url_name = "ledger:ledgerrule_edit"

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            unique_external_id("ledgerrule"),
            models.CheckConstraint(
                condition=exactly_one_of(TARGET_FIELDS),
                name="ledgerrule_exactly_one_target",
                violation_error_message=(
                    "A ledger rule maps lines to exactly one service, application, contract or "
                    "pool."
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


class LedgerImport(ImportedFile):
    """A period's ledger lines as last imported: importing the period again replaces them;
    the same lines under the same rules write nothing."""

    # PROTECT: the period holds the cost items the lines were booked as.
    period = models.OneToOneField(Period, on_delete=models.PROTECT, related_name="ledger_import")
    unmapped_count = models.PositiveIntegerField(default=0)
    # totals: per currency, as exact decimal strings: {"EUR": {"total": "…", "mapped": "…",
    # "unmapped": "…"}}; total = mapped + unmapped.
    # The largest unmapped (account, cost centre, vendor) combinations, largest first:
    # [{"account", "cost_centre", "vendor", "currency", "amount", "lines"}].
    top_unmapped = models.JSONField(default=list)

    class Meta:
        ordering = ["-period__serial"]

    def __str__(self):
        return f"Ledger {self.period}"

    def get_absolute_url(self):
        return reverse("ledger:ledgerimport_detail", args=[self.pk])


class LedgerLine(models.Model):
    """One line of a ledger file, with what the import made of it. Written only by the
    import (COPY); read-only everywhere else."""

    ledger_import = models.ForeignKey(LedgerImport, on_delete=models.CASCADE, related_name="lines")
    row_number = models.PositiveIntegerField(help_text="The line's row in the file (header: 1).")
    account = models.CharField(max_length=200)
    cost_centre = models.CharField(max_length=200, blank=True)
    vendor = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    currency = models.CharField(max_length=3)
    posting_date = models.DateField(null=True, blank=True)
    rule = rule_taking_lines(LedgerRule)
    unmapped = models.BooleanField(default=False)
    cost_item = booked_cost_item("ledger_lines")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["ledger_import", "row_number", "id"]
        indexes = [models.Index(fields=["ledger_import", "unmapped"])]

    def __str__(self):
        return f"{self.account} {self.cost_centre} {self.vendor}".strip()
