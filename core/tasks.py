"""Thin Celery wrappers around core's services."""

from celery import shared_task
from django.db import OperationalError

from core.api import sessions


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def expire_sync_sessions() -> int:
    """Expire the API sync sessions left uncommitted past their time and delete the items
    sent to them; every quarter of an hour by beat (see core/migrations). Idempotent."""
    return sessions.expire_sessions()
