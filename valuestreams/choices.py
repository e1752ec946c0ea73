from decimal import Decimal

from django.db import models

# A day in a value stream map is a working day: classic value-stream mapping counts process
# and lead time in working time, so nights and weekends do not deflate the activity ratio.
WORKING_DAY_MINUTES = Decimal(480)


class Experience(models.TextChoices):
    CUSTOMER = "customer", "Customer experience"
    USER = "user", "User experience"
    EMPLOYEE = "employee", "Employee experience"


class StreamState(models.TextChoices):
    CURRENT = "current", "Current state"
    FUTURE = "future", "Future state"


class TimeUnit(models.TextChoices):
    MINUTES = "minutes", "minutes"
    HOURS = "hours", "hours"
    DAYS = "days", "working days (8 h)"

    @property
    def minutes(self) -> Decimal:
        """How many minutes one of this unit is."""
        return {
            TimeUnit.MINUTES: Decimal(1),
            TimeUnit.HOURS: Decimal(60),
            TimeUnit.DAYS: WORKING_DAY_MINUTES,
        }[self]


class ValueClass(models.TextChoices):
    VALUE_ADDING = "value_adding", "Value-adding"
    NECESSARY = "necessary", "Necessary, not value-adding"
    WASTE = "waste", "Waste"


class Effort(models.TextChoices):
    """The effort an improvement takes; each size counts as ``points`` in the priority."""

    SMALL = "small", "Small (days)"
    MEDIUM = "medium", "Medium (weeks)"
    LARGE = "large", "Large (months)"
    VERY_LARGE = "very_large", "Very large (a programme)"

    @property
    def points(self) -> int:
        return {
            Effort.SMALL: 1,
            Effort.MEDIUM: 2,
            Effort.LARGE: 3,
            Effort.VERY_LARGE: 5,
        }[self]


class ImprovementStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    REJECTED = "rejected", "Rejected"


class ProcessLayer(models.IntegerChoices):
    JOURNEY = 1, "Layer 1: the whole customer journey"
    MOMENTS_OF_TRUTH = 2, "Layer 2: some Moments of Truth"
    SUPPORTS_CUSTOMER_CONTACT = 3, "Layer 3: supports a process with Moments of Truth"
    DISTANT = 4, "Layer 4: no direct link to the customer's processes"
