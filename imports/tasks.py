"""Thin Celery wrappers around imports.services: they take a run's id, exit quietly when the
run is gone or no longer waits for them, and attribute what they write to the run's user."""

from celery import shared_task
from django.db import OperationalError

from core.choices import Channel
from core.context import change_context
from imports import services
from imports.choices import RunState
from imports.models import ImportRun


def _waiting(run_id: int, state: str) -> ImportRun | None:
    return ImportRun.objects.select_related("user").filter(pk=run_id, state=state).first()


# Not retried: a run that fails says so on its page, and its user starts it again; a
# second delivery of the same message finds the run no longer waiting and does nothing.
@shared_task
def preview_run(run_id: int) -> str | None:
    """Rehearse the import of a run and keep its preview."""
    run = _waiting(run_id, RunState.PREVIEWING)
    if run is None:
        return None
    try:
        with change_context(user=run.user, channel=Channel.IMPORT, source=run.source):
            return services.preview(run=run).state
    except Exception as exc:
        services.fail_unexpectedly(run=run, exc=exc)
        return RunState.FAILED


@shared_task
def commit_run(run_id: int) -> str | None:
    """Write a previewed run, all of it or nothing."""
    run = _waiting(run_id, RunState.COMMITTING)
    if run is None:
        return None
    try:
        with change_context(user=run.user, channel=Channel.IMPORT, source=run.source):
            return services.commit(run=run).state
    except Exception as exc:
        services.fail_unexpectedly(run=run, exc=exc)
        return RunState.FAILED


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5
)
def fail_stale_runs() -> int:
    """Fail the runs whose worker died mid-way (no progress for PORTICO_IMPORT_STALE_MINUTES);
    every five minutes by beat (see imports/migrations). Idempotent: a failed run is no longer
    working."""
    with change_context(user=None, channel=Channel.TASK):
        return services.fail_stale_runs()
