"""Thin Celery wrappers around finance.services: they take ids, exit quietly when the rows
are gone, and attribute what they change to the task channel."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from core.choices import Channel
from core.context import change_context
from finance import services
from finance.choices import ReportTrigger
from finance.choices import RunTrigger
from finance.models import Period
from finance.models import ReportDefinition

# A roll-up is acknowledged only when it is done, and handed back to the broker if its
# worker dies: it is never lost with the worker (the broker's visibility timeout, see
# CELERY_VISIBILITY_TIMEOUT, says when an unacknowledged one is delivered again).
ROLLUP = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**ROLLUP)
def recompute_dirty_periods() -> int:
    """Recompute every open period whose data changed since its last run (coalesced)."""
    with change_context(channel=Channel.TASK):
        return len(services.recompute_changed_periods())


@shared_task(**ROLLUP)
def recompute_open_periods() -> int:
    """The nightly full recomputation (scheduled by beat; see finance/migrations)."""
    with change_context(channel=Channel.TASK):
        return len(services.recompute_open_periods(trigger=RunTrigger.NIGHTLY))


@shared_task(**ROLLUP)
def recompute_period(period_id: int, trigger: str = RunTrigger.MANUAL) -> int | None:
    """Recompute one open period; the id of the run, or None when there is nothing to do."""
    period = Period.objects.filter(pk=period_id).first()
    if period is None or period.is_closed:
        return None
    with change_context(channel=Channel.TASK):
        return services.recompute_tco(period=period, trigger=trigger).pk


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def run_report(
    self,
    definition_id: int,
    resend: bool = False,
    period: str | None = None,
    trigger: str = ReportTrigger.SCHEDULE,
    user_id: int | None = None,
) -> int | None:
    """Render, store and e-mail a finance report (beat calls it with the report's id); the
    run's id, or None when the report is gone or its schedule is switched off. A failed
    delivery is retried with backoff: the next attempt sends what was not sent."""
    definition = ReportDefinition.objects.filter(pk=definition_id).first()
    if definition is None or (trigger == ReportTrigger.SCHEDULE and not definition.enabled):
        return None
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with change_context(user=user, channel=Channel.TASK):
        run = services.run_report(
            definition, resend=resend, period=period, trigger=trigger, user=user
        )
    if run.delivery_failed and self.request.retries < self.max_retries:
        # The retry sends this run's period, even if another one closes meanwhile.
        raise self.retry(
            kwargs={**(self.request.kwargs or {}), "period": run.period_key},
            countdown=min(60 * 2**self.request.retries, 3600),
        )
    return run.pk


# A sweep missed is made up by the next one a minute later: not worth redelivering.
@shared_task(acks_late=False)
def sweep() -> dict[str, int]:
    """Every minute (beat): reap roll-ups whose worker died, recompute the periods still
    dirty after the coalescing delay (their task was lost, or the broker was down)."""
    with change_context(channel=Channel.TASK):
        return services.sweep()
