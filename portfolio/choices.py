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


class MeasurementStatus(models.TextChoices):
    MET = "met", "Met"
    MISSED = "missed", "Missed"
    NOT_MEASURED = "not_measured", "Not measured"


class CustomerKind(models.TextChoices):
    EXTERNAL = "external", "External customer"
    INTERNAL = "internal", "Internal business unit"


class OutcomeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed"
    ACHIEVED = "achieved", "Achieved"
    AT_RISK = "at_risk", "At risk"
    NOT_ACHIEVED = "not_achieved", "Not achieved"


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
