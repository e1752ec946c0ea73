"""A recomputation runs through a real Celery worker: an edit is committed, the coalesced
task goes through the broker, a worker process (on a queue of its own, pointed at the test
database: the ``worker`` fixture in conftest.py) runs the roll-up, and the run is recorded."""

import time
from decimal import Decimal

import pytest

from finance import services, tasks
from finance.choices import RunOutcome, RunTrigger
from finance.models import Period, TcoResult, TcoRun
from tests.factories.finance import CostItemFactory, PeriodFactory
from tests.factories.portfolio import ServiceFactory

RUN_SECONDS = 90


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_coalesced_recomputation(worker, monkeypatch):
    queue, log = worker
    # Send the coalesced task to this test's queue at once instead of after the countdown.
    monkeypatch.setattr(
        services,
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
