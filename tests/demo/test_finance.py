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
    # Besides the pool of the demo cloud account's untagged spend (tests/demo/test_cloud.py).
    assert set(CostPool.objects.filter(cloud_account=None).values_list("slug", flat=True)) == {
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
        ("Untagged cloud spend: AWS Portico Insurance production", UnallocatedReason.UNTAGGED),
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


def test_demo_data_centre_is_driven_by_the_months_vm_hours(demo):
    from finance import selectors
    from finance.models import DriverQuantity
    from finance.models import PoolAllocation

    allocations = PoolAllocation.objects.filter(pool__slug="data-centre")
    assert {a.driver.slug for a in allocations} == {"vm-hours"}
    current = Period.objects.order_by("serial").last()
    quantities = DriverQuantity.objects.filter(driver__slug="vm-hours", period=current)
    assert quantities.count() == allocations.count() == 4
    assert DriverQuantity.objects.filter(driver__slug="vm-hours").count() == 4 * 12
    hosting = TcoResult.objects.get(
        period=current, version=current.current_version, service__slug="hosting-platform"
    )
    found = selectors.lineage(service=hosting.service, period=current)
    target = ("service", hosting.service_id)
    (edge,) = [e for e in found["edges"] if e.source_label == "Data centre" and e.target == target]
    assert edge.driven.name == "VM-hours"
    assert edge.driven.quantity == quantities.get(service=hosting.service).quantity
    assert edge.driven.total == sum(q.quantity for q in quantities)


def test_demo_cost_to_serve_and_stream_costs_add_up_in_every_period(demo, client):
    from decimal import Decimal

    from django.db.models import Sum

    from finance import services
    from finance.models import CustomerStatement
    from finance.models import StatementLine
    from finance.models import ValueStreamCost

    for period in Period.objects.filter(status=PeriodStatus.OPEN):
        services.recompute_tco(period=period)
    checked = 0
    for period in Period.objects.order_by("serial"):
        for version in range(1, period.current_version + 1):
            mine = {"period": period, "version": version}
            results = TcoResult.objects.filter(**mine).aggregate(
                kept=Sum("kept"), not_charged=Sum("not_charged"), nowhere=Sum("in_no_value_stream")
            )
            served = CustomerStatement.objects.filter(**mine).aggregate(total=Sum("cost_to_serve"))[
                "total"
            ]
            lines = StatementLine.objects.filter(
                statement__period=period, statement__version=version
            ).aggregate(total=Sum("cost_to_serve"))["total"]
            streams = ValueStreamCost.objects.filter(**mine, what_if=False).aggregate(
                total=Sum("cost")
            )["total"]
            # A month before any subscription starts has no statement at all.
            served, lines, streams = (value or Decimal(0) for value in (served, lines, streams))
            assert served == lines
            assert served + results["not_charged"] == results["kept"], period
            assert streams + results["nowhere"] == results["kept"], period
            assert Decimal(0) <= streams <= results["kept"]
            checked += 1
    assert checked == 13  # twelve months, one of them restated

    period = Period.objects.order_by("-serial").first()
    # The demo's future state has its what-if figure in the months computed after it exists.
    assert ValueStreamCost.objects.filter(period=period, what_if=True).exists()
    # Online Claims counts unlike units: no unit cost across them, one per unit name instead.
    claims = TcoResult.objects.get(
        period=period, version=period.current_version, service__slug="online-claims"
    )
    assert claims.unit_name == "" and claims.unit_cost is None
    client.force_login(claims.service.owner)
    body = client.get(claims.service.get_absolute_url()).content.decode()
    assert "per units" not in body
    assert "Cost to serve per unit" in body
