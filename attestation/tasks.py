"""Thin Celery wrappers around attestation.services."""

from celery import shared_task
from django.db import OperationalError

from attestation import services


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def record_quality_snapshot() -> int:
    """Keep today's data-quality score; daily by beat (see attestation/migrations).
    Idempotent: a second run the same day updates that day's snapshot."""
    return services.record_quality_snapshot().pk
