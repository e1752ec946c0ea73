from django.db import models


class CostCategory(models.TextChoices):
    """The five TCO buckets."""

    DEVELOPMENT = "development", "Development"
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    MAINTENANCE = "maintenance", "Maintenance"
    VENDOR = "vendor", "Vendor"
    SUPPORT = "support", "Support"


class Expenditure(models.TextChoices):
    OPEX = "opex", "Opex"
    CAPEX = "capex", "Capex"


class PoolType(models.TextChoices):
    LABOUR = "labour", "Labour"
    HARDWARE = "hardware", "Hardware"
    SOFTWARE = "software", "Software"
    OUTSIDE_SERVICES = "outside_services", "Outside services"
    FACILITIES_AND_POWER = "facilities_and_power", "Facilities and power"
    TELECOM = "telecom", "Telecom"
    INTERNAL_SERVICES = "internal_services", "Internal services"
    OTHER = "other", "Other"


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class RunOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    CHANGE = "change", "Data changed"
    NIGHTLY = "nightly", "Nightly"
    MANUAL = "manual", "Requested in the browser"
    COMMAND = "command", "Command line"
    RESTATEMENT = "restatement", "Restatement"
    DEMO = "demo", "Demo load"


class NodeKind(models.TextChoices):
    """What a cost can be recorded against, and what it flows through."""

    SERVICE = "service", "Service"
    APPLICATION = "application", "Application"
    CONTRACT = "contract", "Contract"
    POOL = "pool", "Cost pool"


class UnallocatedReason(models.TextChoices):
    NO_RATE = "no_rate", "No exchange rate"
    NO_TARGET = "no_target", "Allocated to nothing"
    RETIRED_TARGETS = "retired_targets", "Only retired targets"
    ZERO_WEIGHT = "zero_weight", "Every weight is zero"
    CLOSED_CYCLE = "closed_cycle", "Dependency cycle with no consumer outside it"
    NO_QUANTITIES = "no_quantities", "No driver quantities"
    UNTAGGED = "untagged", "Untagged cloud spend"
    UNMAPPED = "unmapped", "Unmapped ledger lines"


class ReportPeriodSelector(models.TextChoices):
    """Which period a scheduled report covers; quarters and years follow the fiscal year."""

    LAST_MONTH = "last_month", "Last closed month"
    LAST_QUARTER = "last_quarter", "Last closed quarter"
    LAST_YEAR = "last_year", "Last closed fiscal year"


class ReportKind(models.TextChoices):
    """What a scheduled report holds and to whom it goes."""

    SERVICES = "services", "TCO by service"
    STATEMENTS = "statements", "Customer statements"
    REVIEW_PACKS = "review_packs", "Service review packs"


class ReportFormat(models.TextChoices):
    XLSX = "xlsx", "XLSX workbook"
    CSV = "csv", "CSV table"
    PDF = "pdf", "PDF summary"


class ReportOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class ReportTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Requested in the browser"
    COMMAND = "command", "Command line"
