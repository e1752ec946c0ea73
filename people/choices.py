from django.db import models


class UnitKind(models.TextChoices):
    """The level of an organisation unit; ``level`` names any other level in words."""

    DIVISION = "division", "Division"
    DEPARTMENT = "department", "Department"
    TEAM = "team", "Team"
    OTHER = "other", "Other level"
