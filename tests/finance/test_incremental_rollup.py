"""The incremental roll-up against the database: an edit of cost made through the services
records the node it touched, and the run after it recomputes only what that node reaches,
writes only the rows that changed, and leaves the same figures as a full roll-up."""

import datetime
from decimal import Decimal

import pytest

from finance import services
from finance.choices import CostCategory
from finance.choices import RunTrigger
from finance.models import CostItem
from finance.models import CustomerStatement
from finance.models import Period
from finance.models import StatementLine
from finance.models import TcoFlow
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from finance.services import recompute
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(settle):
    """Claims depends on hosting and identity, which support each other (a cycle); claims'
    application brings it cost of its own. Archive stands apart with cost of its own. A pool
    is split three ways (a third each: the cents are shared by largest remainder)."""
    march = PeriodFactory(year=2025, month=3)
    claims, hosting, identity, archive = (
        ServiceFactory(name=name) for name in ("Claims", "Hosting", "Identity", "Archive")
    )
    ServiceDependencyFactory(provider=hosting, consumer=claims, weight=3)
    ServiceDependencyFactory(provider=hosting, consumer=identity, weight=1)
    ServiceDependencyFactory(provider=identity, consumer=claims, weight=1)
    ServiceDependencyFactory(provider=identity, consumer=hosting, weight=1)
    app = ApplicationFactory(name="Claims app")
    ApplicationSupportFactory(application=app, service=claims)
    contract = ContractFactory(
        annual_value=Decimal("12000.00"), start_date=datetime.date(2024, 1, 1)
    )
    ContractCoverageFactory(contract=contract, service=hosting)
    pool = CostPoolFactory(name="Shared")
    for service in (hosting, identity, archive):
        PoolAllocationFactory(pool=pool, service=service, weight=1)
    item = CostItemFactory(period=march, application=app, amount=Decimal("1200.00"))
    CostItemFactory(period=march, pool=pool, amount=Decimal("100.00"))
    CostItemFactory(period=march, service=archive, amount=Decimal("77.77"))
    CostItemFactory(period=march, service=identity, amount=Decimal("300.00"), currency="USD")
    ExchangeRateFactory(period=march, currency="USD", rate=Decimal("0.9"))
    SubscriptionFactory(service=claims, units=10, price_per_unit=Decimal("12.50"))
    SubscriptionFactory(service=archive, units=1, price_per_unit=Decimal("5"))
    settle()
    # The nightly full roll-up: the figures the next run starts from.
    (first,) = services.recompute_open_periods()
    return {
        "march": march,
        "item": item,
        "app": app,
        "pool": pool,
        "claims": claims,
        "hosting": hosting,
        "identity": identity,
        "archive": archive,
        "first": first,
    }


def stored(period) -> dict:
    """Every figure stored for the period, without ids and runs."""

    def rows(model, *exclude):
        names = [
            f.attname for f in model._meta.concrete_fields if f.name not in ("id", "run", *exclude)
        ]
        return sorted(model.objects.filter(period=period).values_list(*names))

    lines = StatementLine.objects.filter(statement__period=period)
    return {
        "results": rows(TcoResult),
        "unallocated": rows(TcoUnallocated),
        "flows": rows(TcoFlow),
        "statements": rows(CustomerStatement),
        "lines": sorted(
            lines.values_list(
                "statement__customer_id", "subscription_id", "units", "revenue", "cost_to_serve"
            )
        ),
    }


def totals(run) -> tuple:
    """What a run records of the period as a whole."""
    run.refresh_from_db()
    return (
        run.input_total, run.kept_total, run.unallocated_total, run.unconverted,
        run.inputs_by_kind, run.services_count, run.cost_groups_count,
    )  # fmt: skip


def edit(django_capture_on_commit_callbacks, change) -> None:
    """Make a change through the services, as a committed request would."""
    with django_capture_on_commit_callbacks(execute=True):
        change()


def run_after_changes(period) -> TcoRun:
    (run,) = services.recompute_dirty_periods(trigger=RunTrigger.CHANGE)
    assert Period.objects.get(pk=period.pk).recompute_requested_at is None
    return run


def rewritten_by(run) -> set[str]:
    return set(TcoResult.objects.filter(run=run).values_list("service__name", flat=True))


def test_a_cost_edit_recomputes_what_it_reaches_and_equals_a_full_roll_up(
    portfolio, enqueued, django_capture_on_commit_callbacks
):
    march, item, claims = portfolio["march"], portfolio["item"], portfolio["claims"]
    kept_before = TcoResult.objects.get(period=march, service=claims).kept
    item.amount = Decimal("1500.37")
    edit(django_capture_on_commit_callbacks, lambda: services.save_cost_item(item=item))
    period = Period.objects.get(pk=march.pk)
    assert period.changed_nodes == [f"application:{portfolio['app'].pk}"]
    assert enqueued == [{"countdown": services.QUICK_COALESCE_SECONDS}]

    run = run_after_changes(march)
    assert run.note.startswith("Incremental: 2 of ")
    # Only claims is downstream of its application: the cycle and archive keep their rows.
    assert rewritten_by(run) == {"Claims"}
    kept = TcoResult.objects.get(period=march, service=claims).kept
    assert kept == kept_before + Decimal("300.37")
    assert Period.objects.get(pk=march.pk).changed_nodes == []
    incremental = stored(march)

    (full,) = services.recompute_open_periods()  # the reference
    assert not full.note
    assert stored(march) == incremental
    assert totals(run) == totals(full)


def test_an_edit_inside_a_cycle_recomputes_the_cycle_and_downstream(
    portfolio, django_capture_on_commit_callbacks
):
    march, pool = portfolio["march"], portfolio["pool"]
    edit(
        django_capture_on_commit_callbacks,
        lambda: services.save_cost_item(
            item=CostItem(
                description="Credit",
                period=march,
                service=portfolio["identity"],
                amount=Decimal("-33.34"),
                currency="EUR",
                category=CostCategory.SUPPORT,
            )
        ),
    )
    run = run_after_changes(march)
    assert run.note.startswith("Incremental")
    assert rewritten_by(run) == {"Claims", "Hosting", "Identity"}
    incremental = stored(march)
    services.recompute_open_periods()
    assert stored(march) == incremental

    # Moved from the pool to archive: both are reached, archive's row is rewritten too.
    moved = CostItem.objects.get(period=march, pool=pool)
    moved.pool, moved.service = None, portfolio["archive"]
    edit(django_capture_on_commit_callbacks, lambda: services.save_cost_item(item=moved))
    assert sorted(Period.objects.get(pk=march.pk).changed_nodes) == sorted(
        [f"pool:{pool.pk}", f"service:{portfolio['archive'].pk}"]
    )
    run = run_after_changes(march)
    assert run.note.startswith("Incremental")
    assert "Archive" in rewritten_by(run)
    incremental = stored(march)
    services.recompute_open_periods()
    assert stored(march) == incremental

    # Removed: the item's node is read again and has no cost left.
    edit(django_capture_on_commit_callbacks, lambda: services.remove_cost_item(item=moved))
    run = run_after_changes(march)
    assert run.note.startswith("Incremental")
    incremental = stored(march)
    services.recompute_open_periods()
    assert stored(march) == incremental


def test_a_global_change_or_a_process_without_the_figures_computes_in_full(
    portfolio, django_capture_on_commit_callbacks
):
    march = portfolio["march"]
    rate = march.exchange_rates.get(currency="USD")
    rate.rate = Decimal("0.95")
    edit(django_capture_on_commit_callbacks, lambda: services.save_rate(rate=rate))
    assert Period.objects.get(pk=march.pk).changed_nodes is None
    run = run_after_changes(march)
    assert not run.note
    assert rewritten_by(run) == {"Claims", "Hosting", "Identity", "Archive"}

    item = portfolio["item"]
    item.amount = Decimal("10.00")
    edit(django_capture_on_commit_callbacks, lambda: services.save_cost_item(item=item))
    services.forget_snapshots()
    run = run_after_changes(march)
    assert not run.note  # this process no longer holds the last run's figures
    assert TcoResult.objects.get(period=march, service=portfolio["claims"]).run == run

    # A run asked for in the browser is a full one, and the next run after an edit too: the
    # web process that computed it does not keep its figures, and those kept are not the
    # stored ones any more.
    services.recompute_tco(period=march)
    item.amount = Decimal("20.00")
    edit(django_capture_on_commit_callbacks, lambda: services.save_cost_item(item=item))
    run = run_after_changes(march)
    assert not run.note
    item.amount = Decimal("30.00")
    edit(django_capture_on_commit_callbacks, lambda: services.save_cost_item(item=item))
    assert run_after_changes(march).note.startswith("Incremental")


def test_changed_nodes_gather_once_each_and_too_many_make_a_full_run(
    settle, monkeypatch, django_capture_on_commit_callbacks
):
    march = PeriodFactory(year=2025, month=3)
    first, second, third = ServiceFactory(), ServiceFactory(), ServiceFactory()
    settle()
    for service in (first, first, second):  # three transactions, two nodes
        edit(
            django_capture_on_commit_callbacks,
            lambda service=service: CostItemFactory(period=march, service=service),
        )
    assert sorted(Period.objects.get(pk=march.pk).changed_nodes) == sorted(
        [f"service:{first.pk}", f"service:{second.pk}"]
    )
    monkeypatch.setattr(recompute, "MAX_CHANGED_NODES", 2)
    edit(django_capture_on_commit_callbacks, lambda: CostItemFactory(period=march, service=third))
    assert Period.objects.get(pk=march.pk).changed_nodes is None
    # Null stays null until a run: a full one.
    edit(django_capture_on_commit_callbacks, lambda: CostItemFactory(period=march, service=first))
    assert Period.objects.get(pk=march.pk).changed_nodes is None
    assert not run_after_changes(march).note
    assert Period.objects.get(pk=march.pk).changed_nodes == []


def test_the_whole_period_is_rounded_again_so_an_unreached_row_may_move_by_a_cent(
    settle, django_capture_on_commit_callbacks
):
    """1.00 shared by three services is 0.34, 0.33, 0.33 (the lost cent to the first).
    0.004 booked on a fourth service, which the pool does not reach, has a larger
    remainder: the cent goes to it, and the first service's row is rewritten at 0.33."""
    march = PeriodFactory(year=2025, month=3)
    ExchangeRateFactory(period=march, currency="USD", rate=Decimal("0.4"))
    first, second, third, apart = (ServiceFactory() for _ in range(4))
    pool = CostPoolFactory()
    for service in (first, second, third):
        PoolAllocationFactory(pool=pool, service=service, weight=1)
    CostItemFactory(period=march, pool=pool, amount=Decimal("1.00"))
    settle()
    services.recompute_open_periods()
    assert TcoResult.objects.get(period=march, service=first).kept == Decimal("0.34")

    edit(
        django_capture_on_commit_callbacks,
        lambda: CostItemFactory(
            period=march, service=apart, amount=Decimal("0.01"), currency="USD"
        ),
    )
    run = run_after_changes(march)
    assert run.note.startswith("Incremental: 1 of ")
    assert TcoResult.objects.get(period=march, service=apart).kept == Decimal("0.01")
    assert TcoResult.objects.get(period=march, service=first).kept == Decimal("0.33")
    assert rewritten_by(run) == {apart.name, first.name}
    incremental = stored(march)
    services.recompute_open_periods()
    assert stored(march) == incremental
