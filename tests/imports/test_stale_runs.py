"""An import run whose worker died is failed by the beat job once it has made no progress
for PORTICO_IMPORT_STALE_MINUTES; a run that moved since, or that is done, is left alone (a
worker's progress moves ``updated_at``: imports.services.Progress)."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from imports import services
from imports import tasks
from imports.choices import RunState
from imports.models import ImportRun
from notifications.choices import EventKind
from notifications.models import Notification
from portfolio.models import Service
from tests.imports.files import services_and_items

pytestmark = pytest.mark.django_db


def started(user, **options) -> ImportRun:
    """A run queued for its preview (state previewing) that no worker has taken."""
    content = services_and_items(2, owner="pm")
    run = services.start_run(user=user, filename="portfolio.xlsx", content=content, source="s")
    choices = [{"resource": s["resource"], "mapping": s["mapping"]} for s in run.sheets]
    services.map_and_preview(run=run, choices=choices, mode="upsert", **options)
    run.refresh_from_db()
    assert run.state == RunState.PREVIEWING
    return run


def idle_for(run: ImportRun, minutes: int) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )


def test_a_run_without_progress_for_the_set_time_is_failed_with_a_clear_message(
    portfolio_manager, client, settings
):
    settings.PORTICO_IMPORT_STALE_MINUTES = 30
    stuck = started(portfolio_manager)
    moving = started(portfolio_manager)
    idle_for(stuck, 31)
    idle_for(moving, 29)

    assert tasks.fail_stale_runs() == 1

    stuck.refresh_from_db()
    moving.refresh_from_db()
    assert stuck.state == RunState.FAILED
    assert stuck.error == (
        "The import made no progress for 30 minutes: the worker running it stopped (or none "
        "took it). Nothing was written; start it again."
    )
    assert moving.state == RunState.PREVIEWING
    told = Notification.objects.get(recipient=portfolio_manager, kind=EventKind.IMPORT)
    assert told.subject == "Import failed: portfolio.xlsx" and "no progress" in told.body
    assert tasks.fail_stale_runs() == 0  # idempotent: a failed run is no longer working
    client.force_login(portfolio_manager)
    history = client.get(reverse("imports:run_list")).content.decode()
    assert "Failed" in history and "made no progress for 30 minutes" in history
    # The user starts it again, and a worker finishes it.
    choices = [{"resource": s["resource"], "mapping": s["mapping"]} for s in stuck.sheets]
    services.map_and_preview(run=stuck, choices=choices, mode="upsert")
    assert tasks.preview_run(stuck.pk) == RunState.PREVIEWED


def test_a_commit_whose_worker_died_is_failed_and_wrote_nothing(portfolio_manager):
    run = started(portfolio_manager)
    assert tasks.preview_run(run.pk) == RunState.PREVIEWED
    run.refresh_from_db()
    services.request_commit(run=run)
    idle_for(run, 61)

    assert tasks.fail_stale_runs() == 1

    run.refresh_from_db()
    assert run.state == RunState.FAILED and "no progress for 60 minutes" in run.error
    assert not Service.objects.exists()


def test_a_finished_run_is_left_alone_however_old(portfolio_manager):
    run = started(portfolio_manager)
    assert tasks.preview_run(run.pk) == RunState.PREVIEWED
    idle_for(run, 600)

    assert tasks.fail_stale_runs() == 0

    run.refresh_from_db()
    assert run.state == RunState.PREVIEWED


def test_beat_runs_the_cleanup_every_five_minutes():
    task = PeriodicTask.objects.get(task="imports.tasks.fail_stale_runs")
    assert task.enabled and task.interval.every == 5 and task.interval.period == "minutes"
    assert json.loads(task.args or "[]") == []
