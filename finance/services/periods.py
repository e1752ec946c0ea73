"""Closing a period (its figures frozen) and restating a closed one."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from finance.choices import PeriodStatus
from finance.choices import RunTrigger
from finance.models import Period
from finance.models import TcoRun
from finance.services.rollup import _compute
from finance.services.rollup import _reap_held
from finance.services.rollup import _recorded
from finance.services.rollup import _start_run
from finance.services.rollup import period_lock


def close_period(*, period: Period, user=None, trigger: str = RunTrigger.MANUAL) -> TcoRun:
    """Compute the period once more from today's data, then freeze those results."""
    with period_lock(period.pk):
        _reap_held(period.pk)
        run = _start_run(period, trigger=trigger, user=user, note="Closing the period")
        _close(period, run, user)
    period.refresh_from_db()
    return run


def _close(period: Period, run: TcoRun, user) -> None:
    with _recorded(run), transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.is_closed:
            raise ValidationError(f"{locked} is already closed.")
        _compute(locked, locked.current_version, run)
        locked.status = PeriodStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = user if getattr(user, "is_authenticated", False) else None
        locked.recompute_requested_at = None
        locked.save()


def restate_period(*, period: Period, user=None, reason: str) -> TcoRun:
    """Compute a closed period again as a new version beside the frozen one."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the period is restated."})
    with period_lock(period.pk):
        _reap_held(period.pk)
        run = _start_run(period, trigger=RunTrigger.RESTATEMENT, user=user, note=reason[:500])
        _restate(period, run)
    period.refresh_from_db()
    return run


def _restate(period: Period, run: TcoRun) -> None:
    with _recorded(run), transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if not locked.is_closed:
            raise ValidationError(
                f"{locked} is open: its figures follow the data; only a closed period is restated."
            )
        locked.current_version += 1
        locked.save()
        run.version = locked.current_version
        run.save(update_fields=["version"])
        _compute(locked, locked.current_version, run)
