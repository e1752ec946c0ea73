from django.db import models


class BudgetStatus(models.TextChoices):
    """A draft is built and edited; an approved version is locked for the year."""

    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


class BudgetOrigin(models.TextChoices):
    """Where a budget line comes from: the build writes contract and run-rate lines again on
    every build; planned and manual lines are people's and survive a rebuild."""

    CONTRACT = "contract", "Contract"
    RUN_RATE = "run_rate", "Run rate"
    PLANNED = "planned", "Planned"
    MANUAL = "manual", "Manual"


BUILT_ORIGINS = (BudgetOrigin.CONTRACT.value, BudgetOrigin.RUN_RATE.value)
