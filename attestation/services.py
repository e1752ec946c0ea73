"""Writes of attestation: an owner or delegate confirms a record as correct."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from attestation import quality
from attestation.models import Attestation
from attestation.models import QualitySnapshot
from attestation.selectors import in_use
from attestation.selectors import is_attested_kind
from core.permissions import is_owner


@transaction.atomic
def attest(*, record: Model, user) -> Attestation:
    """Confirm ``record`` as correct now, in the name of ``user``: only one of its owners or
    delegates may (a portfolio manager who may change it may not vouch for it). The
    confirmation replaces the previous one and clears a *check needed*."""
    model = type(record)
    if not is_attested_kind(model):
        raise ValidationError(f"A {model._meta.verbose_name} is not attested.")
    if not is_owner(user, record):
        raise PermissionDenied(
            f"Only the owner of this {model._meta.verbose_name} or a delegate may confirm it."
        )
    if not model._base_manager.filter(in_use(model), pk=record.pk).exists():
        raise ValidationError(f"This {model._meta.verbose_name} is retired.")
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    attestation, _ = Attestation.objects.update_or_create(
        content_type=content_type,
        object_id=record.pk,
        defaults={"attested_at": timezone.now(), "attested_by": user},
    )
    return attestation


def record_quality_snapshot(*, today: datetime.date | None = None) -> QualitySnapshot:
    """Keep the portfolio's data-quality score for ``today`` (default: the site's today);
    a second run the same day updates that day's snapshot."""
    today = today or timezone.localdate()
    portfolio = quality.portfolio_score(today)
    snapshot, _ = QualitySnapshot.objects.update_or_create(
        taken_on=today,
        defaults={
            "score": portfolio.score,
            "records": portfolio.records,
            "by_kind": {
                kind: {"records": part.records, "score": str(part.score)}
                for kind, part in portfolio.by_kind.items()
            },
        },
    )
    return snapshot
