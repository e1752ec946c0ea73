from django.db import models


class MatchKind(models.TextChoices):
    """How a rule's criterion compares with a line's value (case never matters)."""

    EXACT = "exact", "Exactly"
    PREFIX = "prefix", "Starts with"
    REGEX = "regex", "Regular expression (whole value)"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ImportOutcome(models.TextChoices):
    IMPORTED = "imported", "Imported"
    REPLACED = "replaced", "Replaced the lines imported before"
    UNCHANGED = "unchanged", "Unchanged: nothing written"
