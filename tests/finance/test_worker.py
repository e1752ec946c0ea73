"""A recomputation runs through a real Celery worker: an edit is committed, the coalesced
task goes through the broker, a worker process (on a queue of its own, pointed at the test
database: the ``worker`` fixture in conftest.py) runs the roll-up, and the run is recorded."""

import time
import uuid
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from finance import services
from finance import tasks
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoRun
from finance.services import recompute
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.finance.processes import Worker

RUN_SECONDS = 90


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_coalesced_recomputation(worker, monkeypatch):
    queue, log = worker
    # Send the coalesced task to this test's queue at once instead of after the countdown.
    monkeypatch.setattr(
        recompute,
        "enqueue_recompute",
        lambda countdown=None: tasks.recompute_dirty_periods.apply_async(queue=queue),
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


def finished_runs(period, count: int, log) -> list[TcoRun]:
    """The period's first ``count`` finished runs, oldest first, once the worker made them."""
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        runs = list(
            TcoRun.objects.filter(period=period)
            .exclude(outcome=RunOutcome.RUNNING)
            .order_by("started_at", "pk")
        )
        if len(runs) >= count:
            return runs
        time.sleep(0.1)
    raise AssertionError(f"the worker did not finish {count} run(s):\n{log.read_text()}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_shows_a_cost_edit_through_an_incremental_run(worker, monkeypatch):
    """The worker's first run of the period is a full one; the next edit of cost, enqueued
    with the short wait, is computed incrementally from the figures the worker kept, and is
    visible in the service's TCO once the task has run. The figures are a full roll-up's."""
    queue, log = worker
    countdowns = []

    def enqueue(countdown=services.COALESCE_SECONDS):
        countdowns.append(countdown)
        tasks.recompute_dirty_periods.apply_async(queue=queue, countdown=countdown)

    monkeypatch.setattr(recompute, "enqueue_recompute", enqueue)
    consumer, provider = ServiceFactory(), ServiceFactory()
    ServiceDependencyFactory(provider=provider, consumer=consumer)
    period = PeriodFactory(year=2025, month=4)
    from django.db import transaction

    with transaction.atomic():
        CostItemFactory(period=period, service=provider, amount=Decimal("100.00"))
    (first,) = finished_runs(period, 1, log)
    assert (first.outcome, first.note) == (RunOutcome.SUCCEEDED, "")

    with transaction.atomic():
        item = CostItemFactory(period=period, service=provider, amount=Decimal("23.45"))
    assert countdowns[-1] == services.QUICK_COALESCE_SECONDS
    second = finished_runs(period, 2, log)[1]
    assert second.outcome == RunOutcome.SUCCEEDED, second.error
    assert second.note.startswith("Incremental: 2 of ")
    assert TcoResult.objects.get(period=period, service=consumer).kept == Decimal("123.45")
    assert TcoResult.objects.get(period=period, service=provider).passed_on == Decimal("123.45")
    assert item.pk and Period.objects.get(pk=period.pk).recompute_requested_at is None

    figures = sorted(
        TcoResult.objects.filter(period=period).values_list(
            "service_id", "tco", "kept", "breakdown"
        )
    )
    services.recompute_tco(period=period)  # the reference: a full roll-up, here
    assert (
        sorted(
            TcoResult.objects.filter(period=period).values_list(
                "service_id", "tco", "kept", "breakdown"
            )
        )
        == figures
    )


@contextmanager
def results_table_held():
    """Hold the results table against writes (as a long report read might) on a connection of
    the test's own: a roll-up then stops at the first write of its results, at a known point
    after it has read and computed everything."""
    database = settings.DATABASES["default"]
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"],
        user=database["USER"],
        dbname=database["NAME"],
    ) as holder:
        holder.execute(f"LOCK TABLE {TcoResult._meta.db_table} IN SHARE MODE")
        yield holder
        holder.rollback()


def blocked_by(holder) -> int:
    """How many database sessions wait for a lock ``holder`` has."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [holder.info.backend_pid],
        )
        return cursor.fetchone()[0]


def wait_for(condition, what: str, *workers: Worker, seconds: float = RUN_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    logs = "\n".join(worker.log.read_text() for worker in workers)
    pytest.fail(f"Timed out waiting for {what}:\n{logs}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_rollup_loses_nothing(start_worker):
    queue = f"finance-test-{uuid.uuid4().hex[:12]}"
    period = PeriodFactory(year=2025, month=3)
    claims = ServiceFactory(name="Claims")
    hosting = ServiceFactory(name="Hosting")
    ServiceDependencyFactory(provider=hosting, consumer=claims, weight=1)
    pool = CostPoolFactory()
    PoolAllocationFactory(pool=pool, service=hosting)
    CostItemFactory(period=period, service=claims, amount=Decimal("100.00"))
    CostItemFactory(period=period, pool=pool, amount=Decimal("200.00"))
    CostItemFactory(period=period, service=hosting, amount=Decimal("50.00"), currency="USD")
    ExchangeRateFactory(period=period, currency="USD", rate=Decimal("0.9"))
    # As a committed edit leaves it: dirty, its task on the way.
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=timezone.now())

    first = start_worker(queue)
    with results_table_held() as holder:
        tasks.recompute_dirty_periods.apply_async(queue=queue)
        wait_for(
            lambda: (
                TcoRun.objects.filter(period=period, outcome=RunOutcome.RUNNING).exists()
                and blocked_by(holder) > 0
            ),
            "the roll-up to stop at the writing of its results",
            first,
        )
        first.kill()
    interrupted = TcoRun.objects.get(period=period)
    assert interrupted.outcome == RunOutcome.RUNNING  # nobody is left to say otherwise
    # The period is still marked: the marker goes only with the results.
    assert Period.objects.get(pk=period.pk).recompute_requested_at is not None
    assert not TcoResult.objects.filter(period=period).exists()

    # The task was never acknowledged: a second worker gets it again once the visibility
    # timeout (short here) has passed, and its run finds the first one's process gone.
    second = start_worker(queue, CELERY_VISIBILITY_TIMEOUT="3")
    wait_for(
        lambda: TcoRun.objects.filter(period=period, outcome=RunOutcome.SUCCEEDED).exists(),
        "the redelivered roll-up",
        first,
        second,
    )
    interrupted.refresh_from_db()
    assert interrupted.outcome == RunOutcome.FAILED
    assert interrupted.error == services.INTERRUPTED
    assert not TcoRun.objects.filter(outcome=RunOutcome.RUNNING).exists()
    assert TcoRun.objects.filter(period=period, outcome=RunOutcome.SUCCEEDED).count() == 1
    # Claims keeps its own 100.00, hosting's pool share 200.00 and 50 USD at 0.9.
    assert TcoResult.objects.get(period=period, service=claims).kept == Decimal("345.00")
    assert TcoResult.objects.get(period=period, service=hosting).kept == Decimal("0.00")
    assert Period.objects.get(pk=period.pk).recompute_requested_at is None
