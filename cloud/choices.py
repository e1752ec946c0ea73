from django.db import models


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class ImportOutcome(models.TextChoices):
    IMPORTED = "imported", "Imported"
    REPLACED = "replaced", "Replaced the lines imported before"
    UNCHANGED = "unchanged", "Unchanged: nothing written"
