"""The demo's cost side loads once and changes nothing the second time; the generator makes
cost data the roll-up reconciles to the cent, and clears it again."""

import io

import pytest
from django.db import transaction

from core.choices import Channel
from core.context import change_context
from core.models import ObjectChange
from finance import services
from finance.choices import PeriodStatus, UnallocatedReason
from finance.models import CostItem, CostPool, Period, TcoResult, TcoRun, TcoUnallocated
from portfolio.generate import GENERATED, generate_portfolio
from portfolio.models import Service

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    from core import demo as core_demo
    from finance import demo as finance_demo
    from portfolio import demo as portfolio_demo

    out = io.StringIO()
    with transaction.atomic(), change_context(channel=Channel.COMMAND, source="demo"):
        for module in (core_demo, portfolio_demo, finance_demo):
            module.load(stdout=out)
    return out.getvalue()


def test_demo_costs_load_once_and_are_rolled_up():
    load_demo()
    periods = list(Period.objects.order_by("serial"))
    assert len(periods) == 12
    assert [p.status for p in periods] == [PeriodStatus.CLOSED] * 9 + [PeriodStatus.OPEN] * 3
    assert [p.label for p in periods if p.current_version == 2] == [periods[5].label]
    assert set(CostPool.objects.values_list("slug", flat=True)) == {
        "data-centre", "service-desk", "innovation-lab",
    }  # fmt: skip
    current = periods[-1]
    reasons = set(
        TcoUnallocated.objects.filter(period=current).values_list("source_label", "reason")
    )
    assert reasons == {
        ("Innovation lab", UnallocatedReason.NO_TARGET),
        ("PrintStream Output Manager", UnallocatedReason.RETIRED_TARGETS),
        ("Network Services", UnallocatedReason.NO_RATE),
    }
    run = TcoRun.objects.filter(period=current).latest("started_at")
    assert run.input_total == run.kept_total + run.unallocated_total
    assert TcoResult.objects.filter(period=current, kept__gt=0).count() >= 15
    customer_facing = TcoResult.objects.get(period=current, service__slug="online-claims")
    assert customer_facing.revenue > 0 and customer_facing.kept > 0

    counts = (CostItem.objects.count(), TcoRun.objects.count(), ObjectChange.objects.count())
    output = load_demo()
    assert "Demo finance" in output and "nothing new" in output
    assert (CostItem.objects.count(), TcoRun.objects.count(), ObjectChange.objects.count()) == (
        counts
    )


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
