"""A driven pool allocation set in a real browser, and the lineage that explains its share."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from finance import services
from finance.models import PoolAllocation
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import DriverFactory
from tests.factories.finance import DriverQuantityFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_driver_set_on_a_pool_allocation_shows_in_the_lineage(page, live_server, login):
    user = UserFactory(username="browser-finance", role="Finance")
    march = PeriodFactory(year=2025, month=3)
    sites = DriverFactory(name="Sites", slug="sites", unit="site")
    pool = CostPoolFactory(name="Data centre", slug="data-centre")
    claims = ServiceFactory(name="Claims", slug="claims")
    billing = ServiceFactory(name="Billing", slug="billing")
    PoolAllocationFactory(pool=pool, service=claims, driver=sites)
    DriverQuantityFactory(driver=sites, period=march, service=claims, quantity=1)
    DriverQuantityFactory(driver=sites, period=march, service=billing, quantity=3)
    CostItemFactory(period=march, pool=pool, service=None, amount=Decimal("800.00"))

    login(user.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/costs/pools/data-centre/")
    allocations = page.locator("#allocations")
    allocations.get_by_role("combobox", name=re.compile(r"^Service")).fill("billing")
    allocations.get_by_role("combobox", name=re.compile(r"^Driver")).select_option(label="Sites")
    allocations.get_by_role("button", name="Allocate to this service").click()
    expect(allocations.get_by_role("link", name="Billing", exact=True)).to_be_visible()
    expect(allocations).to_contain_text("by Sites")
    assert PoolAllocation.objects.get(service=billing).driver == sites

    services.recompute_tco(period=march)
    page.goto(f"{live_server.url}/costs/services/billing/lineage/?period=2025-03")
    edges = page.get_by_role("table").nth(1)
    row = edges.get_by_role("row").filter(has_text="Data centre")
    expect(row).to_contain_text("Driver Sites: 3 of 4 site")
    expect(row).to_contain_text("75.00 %")
    expect(row).to_contain_text("600.00")

    # Weights cannot be mixed in: the form says why, naming the driver.
    page.goto(f"{live_server.url}/costs/pools/data-centre/")
    ServiceFactory(name="Portal", slug="portal")
    allocations.get_by_role("combobox", name=re.compile(r"^Service")).fill("portal")
    allocations.get_by_role("button", name="Allocate to this service").click()
    expect(allocations).to_contain_text("is driven by Sites")
    assert not PoolAllocation.objects.filter(service__slug="portal").exists()
