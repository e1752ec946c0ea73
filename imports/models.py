"""An import run (a file uploaded in the browser, its column mapping, its preview and its
commit) and the column mappings people save to use again."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.permissions import RestrictedQuerySet
from imports.choices import WORKING
from imports.choices import RunMode
from imports.choices import RunState


class ImportRun(models.Model):
    """One uploaded file on its way into the portfolio. The file is kept in the database
    with the run (as finance keeps its report files), so web and workers share it and an
    audit can open exactly what was imported."""

    # Kept for the audit trail: an account is deactivated, never deleted, while it has runs.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    source = models.CharField(max_length=100)
    mode = models.CharField(max_length=10, choices=RunMode.choices, default=RunMode.UPSERT)
    allow_mass_retire = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.UPLOADED)
    # One entry per sheet: {"sheet", "resource", "headers", "mapping": {column: target},
    # "examples": first rows as text}; a CSV file is one sheet.
    sheets = models.JSONField(default=list)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_step = models.CharField(max_length=200, blank=True)
    # {"sheets": [{sheet, resource, rows, counts, retirements, problem}], "errors": [...]}
    preview = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    previewed_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    # The one who uploaded the file previews and commits it (core.permissions).
    ownership_lookups = ("user",)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "import run"

    def __str__(self):
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self):
        return reverse("imports:run_detail", args=[self.pk])

    @property
    def is_working(self) -> bool:
        return self.state in WORKING

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def resources(self) -> list[str]:
        return [sheet["resource"] for sheet in self.sheets if sheet.get("resource")]


class ColumnMapping(models.Model):
    """A person's named mapping of a file's columns to a resource's fields, offered again
    for the next file with the same columns."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="column_mappings"
    )
    name = models.CharField(max_length=100)
    resource = models.CharField(max_length=100)
    columns = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    ownership_lookups = ("user",)

    class Meta:
        ordering = ["name", "resource"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name", "resource"], name="column_mapping_unique_name"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.resource})"
