"""The demo's cost side needs the demo portfolio (the whole demo is tested in tests/demo/, on
one load); the generator makes cost data the roll-up reconciles to the cent, and clears it
again."""

import io

import pytest

from finance import services
from finance.models import CostItem
from finance.models import Period
from portfolio.generate import GENERATED
from portfolio.generate import generate_portfolio
from portfolio.models import Service

pytestmark = pytest.mark.django_db


def test_demo_finance_skips_without_the_portfolio():
    from finance import demo as finance_demo

    out = io.StringIO()
    finance_demo.load(stdout=out)
    assert "skipped" in out.getvalue()
    assert not CostItem.objects.exists()


def test_generator_makes_costs_that_reconcile_and_clears_them():
    counts = generate_portfolio(
        services=60,
        items_per_service=1,
        dependencies=200,
        seed=3,
        clear=True,
        applications=30,
        contracts=8,
        cost_pools=3,
        cost_items=2_000,
        cost_period="2030-01",
    )
    assert counts["cost items"] == 2_000 and counts["applications"] == 30
    period = Period.objects.get(year=2030, month=1)
    run = services.recompute_tco(period=period)
    assert run.input_total == run.kept_total + run.unallocated_total
    assert run.services_count >= 50
    assert CostItem.objects.filter(source=GENERATED, expenditure="capex").exists()

    generate_portfolio(services=10, items_per_service=1, dependencies=10, seed=4, clear=True)
    assert not CostItem.objects.exists()
    assert not Period.objects.exists()
    assert Service.objects.filter(source=GENERATED).count() == 10


def test_generator_makes_customers_and_value_streams_the_roll_up_shares_over_and_clears_them():
    from django.db.models import Sum

    from finance.models import CustomerStatement
    from finance.models import StatementLine
    from finance.models import TcoResult
    from finance.models import ValueStreamCost
    from portfolio.models import Customer
    from portfolio.models import Subscription
    from valuestreams.models import StageService
    from valuestreams.models import ValueStream

    counts = generate_portfolio(
        services=40,
        items_per_service=1,
        dependencies=80,
        seed=5,
        clear=True,
        cost_items=500,
        cost_period="2030-01",
        customers=20,
        value_streams=11,
    )
    assert counts["customers"] == 20 and counts["subscriptions"] >= 20
    assert counts["value streams"] == 13  # two of them future states
    period = Period.objects.get(year=2030, month=1)
    services.recompute_tco(period=period)
    kept = TcoResult.objects.filter(period=period).aggregate(
        kept=Sum("kept"), not_charged=Sum("not_charged"), nowhere=Sum("in_no_value_stream")
    )
    served = CustomerStatement.objects.aggregate(total=Sum("cost_to_serve"))["total"]
    streams = ValueStreamCost.objects.filter(what_if=False).aggregate(total=Sum("cost"))["total"]
    assert served + kept["not_charged"] == kept["kept"] == streams + kept["nowhere"]
    assert ValueStreamCost.objects.filter(what_if=True).count() == 2

    generate_portfolio(services=10, items_per_service=1, dependencies=10, seed=6, clear=True)
    for model in (
        CustomerStatement, StatementLine, ValueStreamCost, Subscription, Customer,
        StageService, ValueStream,
    ):  # fmt: skip
        assert not model.objects.exists(), model
