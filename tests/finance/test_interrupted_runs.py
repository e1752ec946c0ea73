"""A roll-up never loses a recomputation: the dirty marker goes only with the results, a
change that arrives during a run keeps the period dirty, and the minute's sweep reaps runs
whose process died and recomputes what they left. (A real worker killed mid-run:
test_worker.py.)"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from finance import selectors
from finance import services
from finance import tasks
from finance.choices import PeriodStatus
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoRun
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def march():
    return PeriodFactory(year=2025, month=3)


@pytest.fixture
def service(march):
    service = ServiceFactory()
    CostItemFactory(period=march, service=service, amount=Decimal("100.00"))
    return service


def dirty(period: Period, *, minutes_ago: int = 0) -> None:
    Period.objects.filter(pk=period.pk).update(
        recompute_requested_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )


def marker(period: Period):
    return Period.objects.get(pk=period.pk).recompute_requested_at


def kept(period: Period, service) -> Decimal:
    return TcoResult.objects.get(period=period, service=service).kept


def dead_run(period: Period, *, minutes_ago: int = 5) -> TcoRun:
    """A run as a killed worker leaves it: started, never finished."""
    return TcoRun.objects.create(
        period=period,
        version=period.current_version,
        trigger=RunTrigger.CHANGE,
        started_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


def test_marker_is_cleared_with_the_results(march, service):
    dirty(march)
    run = services.recompute_tco(period=march)
    assert run.outcome == RunOutcome.SUCCEEDED
    assert marker(march) is None and kept(march, service) == Decimal("100.00")


def test_change_during_a_run_keeps_the_period_dirty(march, service, monkeypatch):
    dirty(march)
    read = selectors.load_inputs

    def read_then_change(**kwargs):
        loaded = read(**kwargs)
        # A change commits after the run has read its inputs (as from another process).
        CostItemFactory(period=march, service=service, amount=Decimal("5.00"))
        pending = services.PendingRecompute()
        pending.add(period_id=march.pk)
        services.mark_dirty(pending)
        return loaded

    monkeypatch.setattr(selectors, "load_inputs", read_then_change)
    run = services.recompute_tco(period=march)
    assert run.outcome == RunOutcome.SUCCEEDED and kept(march, service) == Decimal("100.00")
    assert marker(march) is not None  # the 5.00 is not in these results yet

    monkeypatch.setattr(selectors, "load_inputs", read)
    assert len(services.recompute_dirty_periods()) == 1
    assert marker(march) is None and kept(march, service) == Decimal("105.00")


def test_failed_run_keeps_the_marker(march, service, monkeypatch):
    dirty(march)

    def broken(**kwargs):
        raise RuntimeError("ledger unreadable")

    monkeypatch.setattr(selectors, "load_inputs", broken)
    with pytest.raises(RuntimeError):
        services.recompute_dirty_periods()
    assert TcoRun.objects.get().outcome == RunOutcome.FAILED
    assert marker(march) is not None


def test_sweep_reaps_a_run_whose_process_died_and_recomputes_its_period(march, service):
    lost = dead_run(march)
    assert services.sweep() == {"sent": 0, "reaped": 1, "recomputed": 1}
    lost.refresh_from_db()
    assert (lost.outcome, lost.error) == (RunOutcome.FAILED, services.INTERRUPTED)
    assert lost.finished_at is not None
    assert not TcoRun.objects.filter(outcome=RunOutcome.RUNNING).exists()
    assert TcoRun.objects.filter(period=march, outcome=RunOutcome.SUCCEEDED).count() == 1
    assert marker(march) is None and kept(march, service) == Decimal("100.00")


def test_sweep_leaves_a_live_run_and_its_period_alone(march, service):
    alive = dead_run(march)
    dirty(march, minutes_ago=5)
    # Its process holds the period's lock: it is computing, not dead.
    with services.period_lock(march.pk):
        assert services.sweep() == {"sent": 0, "reaped": 0, "recomputed": 0}
    alive.refresh_from_db()
    assert alive.outcome == RunOutcome.RUNNING
    assert marker(march) is not None


def test_sweep_leaves_a_fresh_marker_to_its_coalesced_task(march, service):
    dirty(march)
    assert services.sweep() == {"sent": 0, "reaped": 0, "recomputed": 0}
    dirty(march, minutes_ago=1)
    assert services.sweep() == {"sent": 0, "reaped": 0, "recomputed": 1}
    assert marker(march) is None


def test_closing_reaps_a_dead_run_of_the_period(march, service):
    lost = dead_run(march)
    services.close_period(period=march)
    lost.refresh_from_db()
    assert lost.outcome == RunOutcome.FAILED
    march.refresh_from_db()
    assert march.status == PeriodStatus.CLOSED and march.recompute_requested_at is None


def test_sweep_task_runs_the_sweep(march, service, celery_eager):
    dead_run(march)
    assert tasks.sweep.delay().get() == {"sent": 0, "reaped": 1, "recomputed": 1}
