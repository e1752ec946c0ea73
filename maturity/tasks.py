"""Thin Celery wrappers around maturity.services, attributing their writes to the task channel."""

from celery import shared_task
from django.db import OperationalError

from core.choices import Channel
from core.context import change_context
from maturity import services


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def record_balance_snapshot() -> int:
    """Keep today's customer–process–cost scores; daily by beat (see maturity/migrations).
    Idempotent: a second run the same day updates that day's snapshot."""
    with change_context(channel=Channel.TASK):
        return services.record_balance_snapshot().pk
