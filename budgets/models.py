"""Budgets: a version per fiscal year, its lines (shaped like cost items, with their origin),
and the budgeted TCO per service and month the roll-up computes from them.

Lines are written by budgets.services (the build, people's planned and manual lines, the API
and its bulk sync, all through the same rules); results only by budgets.services.roll_up.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from budgets.choices import CHANGE_NEEDS
from budgets.choices import BudgetOrigin
from budgets.choices import BudgetStatus
from budgets.choices import ScenarioChangeKind
from core.models import ChangeLoggedModel
from core.models import SyncedModel
from core.models import acting_user
from core.models import protected_reference
from core.models import unique_external_id
from core.money import FIGURE_DIGITS
from core.money import CurrencyField
from core.money import MoneyField
from core.permissions import RestrictedQuerySet
from finance.choices import NodeKind
from finance.choices import UnallocatedReason
from finance.models import CostTarget
from finance.models import cost_target_constraints
from finance.models import fiscal_start_month
from finance.models import month_serial
from finance.models import serial_label


def default_run_rate_months() -> int:
    """PORTICO_BUDGET_RUN_RATE_MONTHS: how many closed months a new version's run rate
    averages (a callable so the setting is read when the version is made)."""
    return settings.PORTICO_BUDGET_RUN_RATE_MONTHS


def fiscal_year_serials(fiscal_year: int) -> list[int]:
    """The twelve month serials (finance.models.month_serial) of ``fiscal_year``, first to
    last: a fiscal year is named after the calendar year it ends in."""
    start = fiscal_start_month()
    first = month_serial(fiscal_year - (1 if start > 1 else 0), start)
    return list(range(first, first + 12))


class BudgetVersion(SyncedModel):
    """One budget of a fiscal year. A draft is built and edited; approving it freezes its
    lines and its results (no line write, no rebuild, no roll-up); a new draft starts from
    an approved version."""

    fiscal_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1900), MaxValueValidator(9999)],
        help_text="Named after the calendar year it ends in.",
    )
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=BudgetStatus.choices, default=BudgetStatus.DRAFT, editable=False
    )
    # SET_NULL: a draft stays when the version it started from is deleted.
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = acting_user(editable=False)
    run_rate_months = models.PositiveSmallIntegerField(
        default=default_run_rate_months,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text="The run rate averages this many closed months before the year starts.",
    )
    built_at = models.DateTimeField(null=True, blank=True, editable=False)
    rolled_up_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Totals of the last roll-up, in the reporting currency: input = kept + unallocated.
    input_total = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True, editable=False)
    kept_total = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True, editable=False)
    unallocated_total = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True, editable=False)
    created_by = acting_user(editable=False)

    changelog_exclude = ("created_at", "updated_at", "rolled_up_at")

    class Meta:
        ordering = ["-fiscal_year", "name"]
        constraints = [
            unique_external_id("budgetversion"),
            models.UniqueConstraint(
                fields=["fiscal_year", "name"],
                name="budget_version_unique_name",
                violation_error_message="This fiscal year already has a budget of this name.",
            ),
        ]

    def __str__(self):
        return f"FY{self.fiscal_year} {self.name}"

    @property
    def is_approved(self) -> bool:
        return self.status == BudgetStatus.APPROVED

    @property
    def serials(self) -> list[int]:
        return fiscal_year_serials(self.fiscal_year)


class BudgetLine(CostTarget, SyncedModel):
    """An amount budgeted in one month of the version's year against exactly one service,
    application, contract or cost pool: a cost item that has not happened yet, with where it
    comes from. The month is a serial, not a period: budget months lie in the future."""

    # CASCADE: lines are part of their version.
    version = models.ForeignKey(BudgetVersion, on_delete=models.CASCADE, related_name="lines")
    serial = models.PositiveIntegerField(
        help_text="The month, as year × 12 + month − 1 (the API takes YYYY-MM)."
    )
    amount = MoneyField(help_text="Negative for an expected credit.")
    currency = CurrencyField()
    service = protected_reference("portfolio.Service", "budget_lines")
    application = protected_reference("portfolio.Application", "budget_lines")
    contract = protected_reference("portfolio.Contract", "budget_lines")
    pool = protected_reference("finance.CostPool", "budget_lines")
    note = models.CharField(max_length=500, blank=True)
    origin = models.CharField(
        max_length=10, choices=BudgetOrigin.choices, default=BudgetOrigin.PLANNED
    )
    # The contract a contract line was built from (kept when the line is edited by hand).
    origin_contract = protected_reference("portfolio.Contract", "budget_origin_lines")

    url_name = "budgets:line_edit"

    class Meta:
        ordering = ["version", "serial", "origin", "id"]
        indexes = [models.Index(fields=["version", "serial"])]
        constraints = [
            unique_external_id("budgetline"),
            *cost_target_constraints("budgetline", "A budget line"),
            models.CheckConstraint(
                condition=Q(origin_contract__isnull=True)
                | Q(origin=BudgetOrigin.CONTRACT)
                | Q(origin=BudgetOrigin.MANUAL),
                name="budgetline_origin_contract",
                violation_error_message="Only a contract line names the contract it came from.",
            ),
        ]

    def __str__(self):
        return f"{self.target} {self.month} {self.amount} {self.currency}"

    @property
    def month(self) -> str:
        return serial_label(self.serial) if self.serial is not None else ""


class BudgetResult(models.Model):
    """The budgeted figures of one service in one month of a version, as TcoResult holds the
    actual ones: the same buckets, roads and breakdown (written only by the roll-up)."""

    version = models.ForeignKey(BudgetVersion, on_delete=models.CASCADE, related_name="results")
    serial = models.PositiveIntegerField()
    # PROTECT: frozen figures must keep their service; services are retired, not deleted.
    service = models.ForeignKey(
        "portfolio.Service", on_delete=models.PROTECT, related_name="budget_results"
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
    # Every figure by category and opex/capex, in cents: {"tco": {"vendor": {"opex": 12}}}.
    breakdown = models.JSONField(default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "serial", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "serial", "service"], name="budget_result_unique_service"
            )
        ]

    def __str__(self):
        return f"{self.service} {serial_label(self.serial)} {self.version}"

    @property
    def month(self) -> str:
        return serial_label(self.serial)

    @property
    def received(self) -> Decimal:
        return (
            self.received_applications
            + self.received_contracts
            + self.received_pools
            + self.received_services
        )


class BudgetUnallocated(models.Model):
    """Budgeted cost that reaches no service in a month, with its source and reason, as
    TcoUnallocated: the version's input equals kept plus unallocated to the cent."""

    version = models.ForeignKey(BudgetVersion, on_delete=models.CASCADE, related_name="unallocated")
    serial = models.PositiveIntegerField()
    source_kind = models.CharField(max_length=15, choices=NodeKind.choices)
    source_id = models.BigIntegerField()
    source_label = models.CharField(max_length=300)
    reason = models.CharField(max_length=20, choices=UnallocatedReason.choices)
    # In the reporting currency; null when no rate converts it (see the original amount).
    amount = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    original_currency = models.CharField(max_length=3, blank=True)
    original_amount = MoneyField(max_digits=FIGURE_DIGITS, null=True, blank=True)
    breakdown = models.JSONField(default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "serial", "reason", "source_kind", "source_label"]
        indexes = [models.Index(fields=["version", "serial"])]

    def __str__(self):
        return f"{self.source_label} {serial_label(self.serial)}: {self.get_reason_display()}"


class Scenario(ChangeLoggedModel):
    """A named what-if on a budget version: its changes (ScenarioChange) applied in memory to
    the base version's lines and the graph they roll up through, never written to either;
    the scenario page shows the difference per service and bucket, and a scenario can be
    turned into a new draft version (docs/whatif.md)."""

    name = models.CharField(max_length=200)
    # CASCADE: a scenario is a what-if on its base and means nothing without it.
    base = models.ForeignKey(BudgetVersion, on_delete=models.CASCADE, related_name="scenarios")
    note = models.CharField(max_length=500, blank=True)
    created_by = acting_user(editable=False)

    # Whoever may change budget versions may add scenarios on them (an approved one too: a
    # scenario never writes its base).
    parent_lookups = ("base",)

    class Meta:
        ordering = ["base", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["base", "name"],
                name="scenario_unique_name",
                violation_error_message="This budget version already has a scenario of this name.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.base})"


class ScenarioChange(ChangeLoggedModel):
    """One change of a scenario: ``kind`` says which targets it names and what ``value``
    means (a contract's new annual value, a dependency's weight; none for a retirement)."""

    # CASCADE: changes are parts of their scenario.
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=20, choices=ScenarioChangeKind.choices)
    contract = protected_reference("portfolio.Contract", "scenario_changes")
    dependency = protected_reference("portfolio.ServiceDependency", "scenario_changes")
    service = protected_reference("portfolio.Service", "scenario_changes")
    provider = protected_reference("portfolio.Service", "scenario_provider_changes")
    value = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="A contract's new annual value, or a dependency's weight.",
    )

    parent_lookups = ("scenario",)

    class Meta:
        ordering = ["scenario", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} in {self.scenario.name}"

    def get_absolute_url(self) -> str:
        return self.scenario.get_absolute_url()

    def clean(self):
        """Each kind names its targets and its value, and nothing else."""
        needs = CHANGE_NEEDS.get(str(self.kind))
        if needs is None:
            return
        targets, valued = needs
        errors: dict[str, str] = {}
        for name in ("contract", "dependency", "service", "provider"):
            given = getattr(self, f"{name}_id") is not None
            if name in targets and not given:
                errors[name] = f"A {self.get_kind_display().lower()} names its {name}."
            elif name not in targets and given:
                errors[name] = f"A {self.get_kind_display().lower()} names no {name}."
        if valued and self.value is None:
            errors["value"] = "Give the new value."
        elif not valued and self.value is not None:
            errors["value"] = "A retirement takes no value."
        if (
            self.kind == ScenarioChangeKind.NEW_DEPENDENCY
            and self.service_id is not None
            and self.service_id == self.provider_id
        ):
            errors["provider"] = "A service cannot depend on itself."
        if errors:
            raise ValidationError(errors)
