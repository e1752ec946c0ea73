"""The demo's cost side: a year of periods rolled up, with what could not be allocated and
why; a second load adds nothing."""

import pytest

from core.models import ObjectChange
from finance.choices import PeriodStatus
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import CostPool
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from tests.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_costs_load_once_and_are_rolled_up(demo):
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
    finance_line = next(line for line in output.splitlines() if line.startswith("Demo finance"))
    assert "nothing new" in finance_line
    assert (CostItem.objects.count(), TcoRun.objects.count(), ObjectChange.objects.count()) == (
        counts
    )
