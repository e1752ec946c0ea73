"""Thin Celery wrappers around the notifications services: detection and digests take the
day as an argument (beat leaves it out: today), delivery takes nothing and sends what is due."""

import datetime

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from notifications import detection
from notifications import outbox
from notifications import services

RETRIED = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


def _day(today: str | None) -> datetime.date:
    return datetime.date.fromisoformat(today) if today else timezone.localdate()


@shared_task(**RETRIED)
def detect_events(today: str | None = None) -> int:
    """Beat, every few minutes: record what happened as of ``today``; the number of new
    notifications (a rerun finds the same events and records none)."""
    return len(services.record_events(detection.detect(_day(today))))


@shared_task(**RETRIED)
def send_digests(frequency: str, today: str | None = None) -> int:
    """Beat, daily and weekly: gather the digests of ``frequency``; the number made."""
    return services.build_digests(frequency=frequency, today=_day(today))


# A run lost with its worker is made up by the next minute's: the claims in the database,
# not the broker's redelivery, make sure nothing is lost.
@shared_task(acks_late=False)
def deliver_outbox() -> int:
    """Every minute (beat) and after each change that queues mail: send what is due."""
    return outbox.deliver_due()
