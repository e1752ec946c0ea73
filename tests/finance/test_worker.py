"""A recomputation runs through a real Celery worker: an edit is committed, the coalesced
task goes through the broker, a worker process (on a queue of its own, pointed at the test
database) runs the roll-up, and the run is recorded."""

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from finance import tasks
from finance.choices import RunOutcome, RunTrigger
from finance.models import Period, TcoResult, TcoRun
from finance.services import recompute
from tests.factories.finance import CostItemFactory, PeriodFactory
from tests.factories.portfolio import ServiceFactory

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90
RUN_SECONDS = 90


@pytest.fixture
def worker(tmp_path):
    """A Celery worker on a queue no other test or engineer uses; yields the queue name."""
    queue = f"finance-test-{uuid.uuid4().hex[:12]}"
    database = settings.DATABASES["default"]
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "portico.settings",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portico",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start:\n{log.read_text()}")
            time.sleep(0.25)
        yield queue, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_coalesced_recomputation(worker, monkeypatch):
    queue, log = worker
    # Send the coalesced task to this test's queue at once instead of after the countdown.
    monkeypatch.setattr(
        recompute,
        "enqueue_recompute",
        lambda: tasks.recompute_dirty_periods.apply_async(queue=queue),
    )
    service = ServiceFactory()  # no period yet: nothing to recompute
    period = PeriodFactory(year=2025, month=3)
    # Committed for real (transactional test): the on-commit hook marks the period dirty and
    # enqueues one task for both items.
    from django.db import transaction

    with transaction.atomic():
        CostItemFactory(period=period, service=service, amount=Decimal("120.00"))
        CostItemFactory(period=period, service=service, amount=Decimal("30.00"))

    deadline = time.monotonic() + RUN_SECONDS
    run = None
    while time.monotonic() < deadline:
        run = TcoRun.objects.filter(period=period).exclude(outcome=RunOutcome.RUNNING).first()
        if run is not None:
            break
        time.sleep(0.25)
    assert run is not None, f"no run was recorded by the worker:\n{log.read_text()}"
    assert (run.outcome, run.trigger, run.error) == (RunOutcome.SUCCEEDED, RunTrigger.CHANGE, "")
    assert TcoRun.objects.filter(period=period).count() == 1
    assert TcoResult.objects.get(period=period, service=service).kept == Decimal("150.00")
    assert Period.objects.get(pk=period.pk).recompute_requested_at is None
