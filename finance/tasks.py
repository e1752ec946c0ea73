"""Thin Celery wrappers around finance.services: they take ids, exit quietly when the rows
are gone, and attribute what they change to the task channel."""

from celery import shared_task
from django.db import OperationalError

from core.choices import Channel
from core.context import change_context
from finance import services
from finance.choices import RunTrigger
from finance.models import Period


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def recompute_dirty_periods() -> int:
    """Recompute every open period whose data changed since its last run (coalesced)."""
    with change_context(channel=Channel.TASK):
        return len(services.recompute_dirty_periods(trigger=RunTrigger.CHANGE))


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def recompute_open_periods() -> int:
    """The nightly full recomputation (scheduled by beat; see finance/migrations)."""
    with change_context(channel=Channel.TASK):
        return len(services.recompute_open_periods(trigger=RunTrigger.NIGHTLY))


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def recompute_period(period_id: int, trigger: str = RunTrigger.MANUAL) -> int | None:
    """Recompute one open period; the id of the run, or None when there is nothing to do."""
    period = Period.objects.filter(pk=period_id).first()
    if period is None or period.is_closed:
        return None
    with change_context(channel=Channel.TASK):
        return services.recompute_tco(period=period, trigger=trigger).pk
