"""Fund services and the lineage drill-down in a real browser."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from finance import services
from portfolio.choices import ServiceKind
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_fund_services_filter_and_lineage(page, live_server, login):
    user = UserFactory(username="browser-finance", role="Finance")
    march = PeriodFactory(year=2025, month=3)
    quotes = ServiceFactory(name="Quotes", slug="quotes", kind=ServiceKind.CUSTOMER_FACING)
    platform = ServiceFactory(name="Platform", slug="platform", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=platform, consumer=quotes)
    CostItemFactory(period=march, service=platform, amount=Decimal("400.00"))
    services.recompute_tco(period=march)

    login(user.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/costs/")
    expect(page.get_by_role("heading", name="Fund services · 2025-03")).to_be_visible()
    expect(page.get_by_role("img", name="How cost flows to services in 2025-03")).to_be_visible()
    services_table = page.locator("#services")
    expect(services_table.get_by_role("link", name="Quotes")).to_be_visible()

    page.get_by_label("Service kind").select_option("supporting")
    expect(services_table.get_by_role("link", name="Quotes")).to_have_count(0)
    expect(services_table.get_by_role("link", name="Platform")).to_be_visible()

    page.goto(f"{live_server.url}/services/quotes/")
    expect(page.get_by_text("Fully-loaded TCO, 2025-03")).to_be_visible()
    page.get_by_role("link", name="Where does this come from?").click()
    lineage = page.locator("#tco-lineage")
    expect(lineage).to_contain_text("Traced now from today's data: 400.00")
    expect(lineage.locator("table").first).to_contain_text("Platform")
