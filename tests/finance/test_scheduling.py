"""Changes schedule a recomputation of the open periods they affect, after commit and
coalesced; the tasks run the roll-up; beat has the nightly run."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from kombu.utils.imports import symbol_by_name

from finance import services
from finance import tasks
from finance.choices import Expenditure
from finance.choices import PeriodStatus
from finance.choices import RunTrigger
from finance.models import CostItem
from finance.models import Period
from finance.models import TcoRun
from tests.factories.finance import CostItemFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import StageServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def months():
    return {m: PeriodFactory(year=2025, month=m) for m in range(1, 7)}


@pytest.fixture
def service(settle):
    """A service whose own creation (a change to the graph) has been dealt with."""
    service = ServiceFactory()
    settle()
    return service


def dirty_labels() -> list[str]:
    return [
        p.label
        for p in Period.objects.filter(recompute_requested_at__isnull=False).order_by("serial")
    ]


def test_schedule_thousand_edits_in_one_transaction_enqueue_one_task(
    months, service, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for number in range(1000):
            CostItem.objects.create(
                description=f"Line {number}",
                period=months[2],
                amount=Decimal(number),
                category="support",
                service=service,
            )
    assert len(callbacks) == 1
    # Known node by node (cost on one service): a short wait, for an incremental run.
    assert enqueued == [{"countdown": services.QUICK_COALESCE_SECONDS}]
    assert dirty_labels() == ["2025-02"]
    assert Period.objects.get(pk=months[2].pk).changed_nodes == [f"service:{service.pk}"]


def test_schedule_nothing_more_while_a_run_is_waiting(
    months, service, enqueued, django_capture_on_commit_callbacks
):
    for number in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            CostItemFactory(period=months[1], service=service, amount=Decimal(number))
    assert len(enqueued) == 1


def test_schedule_stale_marker_enqueues_again(
    months, service, enqueued, django_capture_on_commit_callbacks
):
    Period.objects.filter(pk=months[1].pk).update(
        recompute_requested_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        CostItemFactory(period=months[1], service=service)
    assert len(enqueued) == 1


def test_schedule_capex_marks_the_months_it_is_spread_over(
    months, service, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        CostItemFactory(
            period=months[2], service=service, expenditure=Expenditure.CAPEX, spread_months=3
        )
    assert dirty_labels() == ["2025-02", "2025-03", "2025-04"]


def test_schedule_moving_an_item_marks_both_periods(
    months, service, enqueued, settle, django_capture_on_commit_callbacks
):
    item = CostItemFactory(period=months[1], service=service)
    item = CostItem.objects.get(pk=item.pk)
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        item.period = months[5]
        item.save()
    assert dirty_labels() == ["2025-01", "2025-05"]


def test_schedule_rate_marks_its_period_and_later_ones(
    months, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ExchangeRateFactory(period=months[4])
    assert dirty_labels() == ["2025-04", "2025-05", "2025-06"]


@pytest.mark.parametrize(
    "make_edge",
    [
        lambda: ServiceDependencyFactory(),
        lambda: PoolAllocationFactory(),
        lambda: StageServiceFactory(),
    ],
    ids=["dependency", "pool allocation", "stage service"],
)
def test_schedule_edge_marks_every_open_period(
    months, enqueued, django_capture_on_commit_callbacks, make_edge
):
    Period.objects.filter(pk=months[1].pk).update(status=PeriodStatus.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        make_edge()
    assert dirty_labels() == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert len(enqueued) == 1


def test_schedule_edit_in_a_closed_period_marks_nothing(
    months, service, enqueued, django_capture_on_commit_callbacks
):
    Period.objects.filter(pk=months[3].pk).update(status=PeriodStatus.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        CostItemFactory(period=months[3], service=service)
    assert dirty_labels() == []
    assert enqueued == []


def test_schedule_irrelevant_service_edit_marks_nothing(
    months, service, enqueued, django_capture_on_commit_callbacks
):
    service.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        service.summary = "Better words"
        service.save()
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True):
        service.lifecycle = "retired"
        service.save()
    assert len(enqueued) == 1


def test_schedule_rolled_back_edit_schedules_nothing(
    months, enqueued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        CostItemFactory(period=months[1])
        raise RuntimeError("changed my mind")
    assert callbacks == []
    assert dirty_labels() == []
    assert enqueued == []


def test_schedule_broker_down_does_not_break_the_edit(
    months, service, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def refuse(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.recompute_dirty_periods, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        item = CostItemFactory(period=months[1], service=service)
    assert CostItem.objects.filter(pk=item.pk).exists()
    assert dirty_labels() == ["2025-01"]  # the marker waits for the nightly run
    assert "Could not schedule the TCO recomputation" in caplog.text


def test_dirty_task_recomputes_each_dirty_period_once(months, celery_eager):
    CostItemFactory(period=months[2])
    Period.objects.filter(pk__in=[months[2].pk, months[3].pk]).update(
        recompute_requested_at=timezone.now()
    )
    assert tasks.recompute_dirty_periods.delay().get() == 2
    assert dirty_labels() == []
    runs = TcoRun.objects.order_by("period__serial")
    assert [(r.period.label, r.trigger, r.outcome) for r in runs] == [
        ("2025-02", RunTrigger.CHANGE, "succeeded"),
        ("2025-03", RunTrigger.CHANGE, "succeeded"),
    ]


def test_nightly_task_recomputes_every_open_period(months, celery_eager):
    Period.objects.filter(pk=months[1].pk).update(status=PeriodStatus.CLOSED)
    assert tasks.recompute_open_periods.delay().get() == 5
    assert set(TcoRun.objects.values_list("trigger", flat=True)) == {RunTrigger.NIGHTLY}


def test_period_task_exits_quietly_when_the_period_is_gone(celery_eager):
    assert tasks.recompute_period.delay(987654).get() is None


def test_nightly_schedule_is_a_beat_database_entry(settings):
    task = PeriodicTask.objects.get(task="finance.tasks.recompute_open_periods")
    assert task.enabled and task.crontab.hour == "2"
    # Beat reads its entries from the database: django-celery-beat's DatabaseScheduler,
    # taken only by the beat that holds the beat lock (portico.beat).
    assert settings.CELERY_BEAT_SCHEDULER == "portico.beat:SingleBeatScheduler"
    assert issubclass(symbol_by_name(settings.CELERY_BEAT_SCHEDULER), DatabaseScheduler)


def test_services_send_the_tasks_by_their_registered_names():
    # finance.services names the tasks instead of importing finance.tasks (which imports it).
    assert tasks.recompute_dirty_periods.name == services.RECOMPUTE_TASK
    assert tasks.run_report.name == services.REPORT_TASK
