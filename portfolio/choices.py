from django.db import models


class ServiceKind(models.TextChoices):
    CUSTOMER_FACING = "customer_facing", "Customer-facing"
    SUPPORTING = "supporting", "Supporting"
    INTERNAL = "internal", "Internal"


class ServiceLifecycle(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class Criticality(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Aspect(models.TextChoices):
    FACILITY = "facility", "Facility"
    SUPPORT = "support", "Support"


class Dimension(models.TextChoices):
    FUNCTIONALITY = "functionality", "Functionality"
    FUNCTIONING = "functioning", "Functioning"


class Comparator(models.TextChoices):
    AT_LEAST = "at_least", "at least"
    AT_MOST = "at_most", "at most"


class MeasurementWindow(models.TextChoices):
    HOUR = "hour", "per hour"
    DAY = "day", "per day"
    WEEK = "week", "per week"
    MONTH = "month", "per month"
    QUARTER = "quarter", "per quarter"
    YEAR = "year", "per year"


# The days one window spans, for staleness (performance.selectors): a figure is due again one
# window after the last one ended. Months and longer are counted at their longest.
WINDOW_DAYS = {
    MeasurementWindow.HOUR: 1,
    MeasurementWindow.DAY: 1,
    MeasurementWindow.WEEK: 7,
    MeasurementWindow.MONTH: 31,
    MeasurementWindow.QUARTER: 92,
    MeasurementWindow.YEAR: 366,
}
# An outcome measured directly without a window of its own is due monthly.
DEFAULT_WINDOW = MeasurementWindow.MONTH


class CustomerKind(models.TextChoices):
    EXTERNAL = "external", "External customer"
    INTERNAL = "internal", "Internal business unit"


class OutcomeAgreement(models.TextChoices):
    """Whether the customer agreed the outcome; how it stands is derived from figures
    (performance.selectors), never typed."""

    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed"


class OutcomeOverride(models.TextChoices):
    """What a person may set an outcome's status to by hand, always with a reason."""

    MET = "met", "Met"
    MISSED = "missed", "Missed"
    AT_RISK = "at_risk", "At risk"


class ApplicationLifecycle(models.TextChoices):
    PLAN = "plan", "Plan"
    ACTIVE = "active", "Active"
    PHASE_OUT = "phase_out", "Phase out"
    RETIRED = "retired", "Retired"


class TimeDisposition(models.TextChoices):
    TOLERATE = "tolerate", "Tolerate"
    INVEST = "invest", "Invest"
    MIGRATE = "migrate", "Migrate"
    ELIMINATE = "eliminate", "Eliminate"
