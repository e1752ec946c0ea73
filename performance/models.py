"""Measurements: the series of figures of a functioning item or an outcome over time, and the
history of the targets they are judged against (docs/performance.md)."""

from django.db import models
from django.db.models import F
from django.db.models import Q
from django.urls import reverse

from core.models import SyncedModel
from core.models import acting_user
from core.models import unique_external_id
from portfolio.choices import Comparator
from portfolio.models import Outcome
from portfolio.models import SpecificationItem

EXACTLY_ONE = "A measurement is of one functioning item or of one outcome: give exactly one."
ENDS_BEFORE_STARTS = "The end cannot be before the start."


class Measurement(SyncedModel):
    """One figure for one functioning item or one outcome, over a window of days (both ends
    inclusive). ``met`` is judged against the target in force on ``end`` (TargetChange) and
    stored, null when there is no target to judge it by."""

    # CASCADE: a figure means nothing without what it measures (items and outcomes are
    # removed only while they are drafts; a live service's item is kept).
    # Not indexed alone: the indexes below lead with them.
    item = models.ForeignKey(
        SpecificationItem,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="measurements",
        db_index=False,
    )
    outcome = models.ForeignKey(
        Outcome,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="measurements",
        db_index=False,
    )
    start = models.DateField()
    end = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=4)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = acting_user()
    met = models.BooleanField(null=True, blank=True, editable=False)

    ownership_lookups = (
        "item__service__owner",
        "item__service__delegates",
        "outcome__subscription__service__owner",
        "outcome__subscription__service__delegates",
        "outcome__subscription__customer__relationship_manager",
    )
    parent_lookups = ("item", "outcome")

    class Meta:
        ordering = ["end", "start", "id"]
        # A subject's latest figure (by end, then start, then id) is the first entry of its
        # index read backwards: refreshing a batch's standing reads one row per subject.
        indexes = [
            models.Index(fields=["item", "end", "start", "id"], name="measurement_item_latest"),
            models.Index(
                fields=["outcome", "end", "start", "id"], name="measurement_outcome_latest"
            ),
        ]
        constraints = [
            unique_external_id("measurement"),
            models.CheckConstraint(
                condition=Q(item__isnull=False, outcome__isnull=True)
                | Q(item__isnull=True, outcome__isnull=False),
                name="measurement_of_item_or_outcome",
                violation_error_message=EXACTLY_ONE,
            ),
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="measurement_ends_after_start",
                violation_error_message=ENDS_BEFORE_STARTS,
            ),
            models.UniqueConstraint(
                fields=["item", "start", "end"],
                condition=Q(item__isnull=False),
                name="measurement_unique_item_window",
                violation_error_message="This item already has a figure for these days.",
            ),
            models.UniqueConstraint(
                fields=["outcome", "start", "end"],
                condition=Q(outcome__isnull=False),
                name="measurement_unique_outcome_window",
                violation_error_message="This outcome already has a figure for these days.",
            ),
        ]

    def __str__(self):
        return f"{self.value.normalize():f} from {self.start} to {self.end}"

    def get_absolute_url(self) -> str:
        """The page of its item's or its outcome's figures."""
        if self.item_id:
            return reverse("performance:item_series", args=[self.item_id])
        return reverse("performance:outcome_series", args=[self.outcome_id])

    @property
    def subject(self) -> SpecificationItem | Outcome:
        return self.item if self.item_id else self.outcome


class TargetChange(models.Model):
    """The target and comparator of an item or outcome from ``valid_from`` on, kept so a
    figure is judged against the target in force on its end day. Written by the item's and
    the outcome's save paths (performance.services.record_target_changes)."""

    item = models.ForeignKey(
        SpecificationItem,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="target_changes",
    )
    outcome = models.ForeignKey(
        Outcome, null=True, blank=True, on_delete=models.CASCADE, related_name="target_changes"
    )
    valid_from = models.DateField()
    target = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    comparator = models.CharField(max_length=10, choices=Comparator.choices, blank=True)

    class Meta:
        ordering = ["valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(item__isnull=False, outcome__isnull=True)
                | Q(item__isnull=True, outcome__isnull=False),
                name="targetchange_of_item_or_outcome",
            ),
            models.UniqueConstraint(
                fields=["item", "valid_from"],
                condition=Q(item__isnull=False),
                name="targetchange_unique_item_day",
            ),
            models.UniqueConstraint(
                fields=["outcome", "valid_from"],
                condition=Q(outcome__isnull=False),
                name="targetchange_unique_outcome_day",
            ),
        ]

    def __str__(self):
        return f"{self.get_comparator_display()} {self.target} from {self.valid_from}"
