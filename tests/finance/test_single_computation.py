"""One computation of a period at a time, and one beat scheduling, whatever runs beside them:
real concurrent database sessions for the period lock, real beat processes for the beat
lock."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule
from django_celery_beat.models import PeriodicTask

from finance import selectors
from finance import services
from finance.choices import RunOutcome
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoRun
from finance.services.rollup import ROLLUP_LOCK
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory
from tests.finance.processes import Beat
from tests.finance.processes import PrivateRedis

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT_SECONDS = 60


@pytest.fixture
def march():
    period = PeriodFactory(year=2025, month=3)
    CostItemFactory(period=period, service=ServiceFactory(name="Claims"), amount=Decimal("70.00"))
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=timezone.now())
    return period


@pytest.fixture
def held_in_computation(monkeypatch):
    """The first computation to read its inputs stops there until ``release`` is set; the
    events say when it got there."""
    reading, release = threading.Event(), threading.Event()
    read = selectors.load_inputs

    def read_and_hold(**kwargs):
        if not reading.is_set():
            reading.set()
            assert release.wait(WAIT_SECONDS)
        return read(**kwargs)

    monkeypatch.setattr(selectors, "load_inputs", read_and_hold)
    yield reading, release
    release.set()


def in_own_session(function, **kwargs):
    """Call ``function`` on a thread's own database session, closed at the end."""

    def call():
        try:
            return function(**kwargs)
        finally:
            connection.close()

    return call


def waiting_for_the_period_lock(period: Period) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = %s AND objid = %s AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
            [ROLLUP_LOCK, period.pk],
        )
        return cursor.fetchone()[0] > 0


def wait_until(condition, what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_second_computation_of_a_period_waits_for_the_first(march, held_in_computation):
    reading, release = held_in_computation
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(in_own_session(services.recompute_tco, period=march))
        assert reading.wait(WAIT_SECONDS)
        second = pool.submit(in_own_session(services.recompute_tco, period=march))
        wait_until(lambda: waiting_for_the_period_lock(march), "the second to wait")
        # The second has not started a run: it waits for the lock before anything else.
        assert TcoRun.objects.filter(period=march).count() == 1
        release.set()
        runs = [first.result(WAIT_SECONDS), second.result(WAIT_SECONDS)]
    for run in runs:
        run.refresh_from_db()
    assert [run.outcome for run in runs] == [RunOutcome.SUCCEEDED, RunOutcome.SUCCEEDED]
    assert runs[1].started_at >= runs[0].finished_at
    assert TcoResult.objects.get(period=march).kept == Decimal("70.00")


def test_dirty_period_is_computed_once_when_two_workers_take_it(march, held_in_computation):
    reading, release = held_in_computation
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(in_own_session(services.recompute_dirty_periods))
        assert reading.wait(WAIT_SECONDS)
        # A second worker (and the sweep) find the period taken and leave it to the first.
        second = pool.submit(in_own_session(services.recompute_dirty_periods))
        assert second.result(WAIT_SECONDS) == []
        assert services.sweep()["recomputed"] == 0
        release.set()
        [run] = first.result(WAIT_SECONDS)
    assert TcoRun.objects.get() == run
    result = TcoResult.objects.get(period=march)
    assert (result.run_id, result.kept) == (run.pk, Decimal("70.00"))
    assert Period.objects.get(pk=march.pk).recompute_requested_at is None


def test_only_one_beat_schedules_and_a_standby_takes_over(tmp_path):
    broker = PrivateRedis(tmp_path)
    broker.start()
    PeriodicTask.objects.update(enabled=False)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(
        name="beat-probe", task="finance.tasks.sweep", interval=every_second, queue="beat-probe"
    )
    environment = {"CELERY_BROKER_URL": broker.url, "REDIS_URL": broker.url}
    beats = [Beat(tmp_path / f"beat-{number}.log", **environment) for number in (1, 2)]
    try:
        wait_until(
            lambda: any("standing by" in beat.log.read_text() for beat in beats),
            "one beat to stand by",
        )
        [standby] = [beat for beat in beats if "standing by" in beat.log.read_text()]
        [active] = [beat for beat in beats if beat is not standby]
        assert "took the beat lock" in active.log.read_text()
        # While both run, the standby sends nothing and the active one keeps sending.
        sent_before = active.sent("beat-probe")
        wait_until(lambda: active.sent("beat-probe") >= sent_before + 3, "three more sends")
        assert standby.sent("beat-probe") == 0
        # What reached the broker is what the one active beat sent.
        queued = redis.Redis.from_url(broker.url).llen("beat-probe")
        assert abs(queued - active.sent("beat-probe")) <= 1

        active.kill()
        wait_until(lambda: standby.sent("beat-probe") >= 3, "the standby to take over")
        assert "took the beat lock" in standby.log.read_text()
    finally:
        for beat in beats:
            beat.stop()
        broker.stop()
