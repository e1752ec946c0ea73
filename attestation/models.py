from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import TimestampedModel
from core.models import acting_user
from core.permissions import RestrictedQuerySet


class Attestation(TimestampedModel):
    """The latest confirmation, by its owner or a delegate, that a record is correct.

    One row per record, replaced by each confirmation; the confirmations themselves are
    not portfolio data, so they keep no change log. Whether it still holds is read from the
    change log (attestation.selectors): a change by anyone else since breaks it.
    """

    # PROTECT: a content type named by attestations must not vanish with them.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    attested_at = models.DateTimeField()
    attested_by = acting_user()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="attestation_one_per_record"
            )
        ]

    def __str__(self):
        return f"Attestation of {self.content_type.model} {self.object_id}"


class QualitySnapshot(TimestampedModel):
    """The portfolio's data-quality score on one day (a derived figure, recomputed by the
    daily task rather than edited, so it keeps no change log)."""

    taken_on = models.DateField(unique=True)
    # The mean of every considered record's score, 0–100.
    score = models.DecimalField(max_digits=5, decimal_places=2)
    records = models.PositiveIntegerField()
    # Per kind (service, application, ...): {"records": n, "score": mean}.
    by_kind = models.JSONField(default=dict)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_on"]

    def __str__(self):
        return f"Data quality on {self.taken_on:%Y-%m-%d}"
