"""The demo's cloud bill: tagged spend on demo services, untagged spend shown as such; a
second load writes nothing."""

from decimal import Decimal

import pytest

from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from core.models import ObjectChange
from core.money import to_cents
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import Period
from finance.models import TcoRun
from finance.models import TcoUnallocated
from tests.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_cloud_bill_has_tagged_and_untagged_spend(demo):
    account = CloudAccount.objects.get()
    current = Period.objects.order_by("serial").last()
    billing_import = BillingImport.objects.get(account=account, period=current)
    lines = FocusLine.objects.filter(billing_import=billing_import)
    assert lines.count() == billing_import.line_count >= 200
    assert 0 < lines.filter(untagged=True).count() < lines.count() / 2
    effective = sum((line.effective_cost for line in lines), Decimal(0))
    booked = CostItem.objects.filter(source="focus", period=current)
    assert sum((item.amount for item in booked), Decimal(0)) == to_cents(effective)
    assert set(booked.exclude(service=None).values_list("service__slug", flat=True)) == {
        "online-claims", "policy-self-service", "quote-and-buy", "data-warehouse",
    }  # fmt: skip
    untagged = TcoUnallocated.objects.get(
        period=current, version=current.current_version, reason=UnallocatedReason.UNTAGGED
    )
    assert untagged.amount > 0 and "210987654321" in untagged.detail
    # The bill is in USD, which the demo's rates convert: none of it is left unconverted.
    run = TcoRun.objects.filter(period=current).latest("started_at")
    assert "USD" not in run.unconverted.get("cost", {})

    counts = (FocusLine.objects.count(), CostItem.objects.count(), ObjectChange.objects.count())
    output = load_demo()
    cloud_line = next(line for line in output.splitlines() if line.startswith("Demo cloud"))
    assert "unchanged" in cloud_line
    assert (FocusLine.objects.count(), CostItem.objects.count(),
            ObjectChange.objects.count()) == counts  # fmt: skip
