from django.db import models


class Standing(models.TextChoices):
    """How a functioning item or an outcome stands against its target (performance.selectors)."""

    MET = "met", "Met"
    MISSED = "missed", "Missed"
    STALE = "stale", "Stale"
    NOT_MEASURED = "not_measured", "Not measured"
    # Outcomes only: measured or not, it relies on an item that is missed or stale.
    AT_RISK = "at_risk", "At risk"


class SeriesGrain(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    FISCAL_YEAR = "fiscal_year", "Fiscal year"
