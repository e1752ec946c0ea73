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
