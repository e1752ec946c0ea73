"""What-if before saving, in a real browser: the difference a new dependency would make,
shown before it is saved, is the difference the roll-up computes once it is saved."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from finance import services
from finance.models import Period
from finance.models import TcoResult
from portfolio.choices import ServiceKind
from portfolio.models import ServiceDependency
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def money(text: str) -> Decimal:
    """A figure as the page shows it (1,866.67, +1,866.67, -933.33) as a Decimal."""
    return Decimal(text.strip().replace(",", "").replace("+", ""))


def tco_of(period: Period) -> dict[str, Decimal]:
    period.refresh_from_db()
    return dict(
        TcoResult.objects.filter(period=period, version=period.current_version).values_list(
            "service__slug", "tco"
        )
    )


def test_the_previewed_effect_of_a_new_dependency_is_the_effect_after_saving(
    page, live_server, login
):
    user = UserFactory(username="browser-manager", role="Portfolio manager")
    march = PeriodFactory(year=2025, month=3)
    hosting = ServiceFactory(name="Hosting", slug="hosting", kind=ServiceKind.SUPPORTING)
    claims = ServiceFactory(name="Claims", slug="claims")
    ServiceFactory(name="Portal", slug="portal")
    ServiceDependencyFactory(consumer=claims, provider=hosting, weight=Decimal(1))
    CostItemFactory(period=march, service=hosting, amount=Decimal("1000.00"))
    CostItemFactory(period=march, service=claims, amount=Decimal("250.00"), category="support")
    contract = ContractFactory(annual_value=Decimal("10000.00"))  # 833.33 or 833.34 a month
    ContractCoverageFactory(contract=contract, service=hosting)
    pool = CostPoolFactory(name="Data centre", slug="data-centre")
    PoolAllocationFactory(pool=pool, service=hosting)
    CostItemFactory(
        period=march, pool=pool, service=None, amount=Decimal("100.01"), category="infrastructure"
    )
    services.recompute_tco(period=march)
    before = tco_of(march)

    login(user.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/services/portal/")
    dependencies = page.locator("#dependencies")
    dependencies.get_by_label(re.compile(r"^Provider")).fill("hosting")
    dependencies.get_by_label(re.compile(r"^Weight")).fill("2")
    dependencies.get_by_role("button", name="Preview the effect").click()
    effect = dependencies.locator("[data-whatif]")
    expect(effect).to_contain_text("The effect on 2025-03")
    rows = effect.locator("[data-whatif-service]")
    expect(rows).to_have_count(2)
    shown = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        shown[row.get_attribute("data-whatif-service")] = {
            "before": money(row.locator("[data-before]").inner_text()),
            "after": money(row.locator("[data-after]").inner_text()),
            "delta": money(row.locator("[data-delta]").inner_text()),
        }
    assert set(shown) == {"claims", "portal"}
    # Nothing is saved by the preview.
    assert not ServiceDependency.objects.filter(consumer__slug="portal").exists()

    # The form still holds what was typed: save it.
    dependencies.get_by_role("button", name="Add dependency").click()
    expect(dependencies.get_by_role("link", name="Hosting", exact=True)).to_be_visible()
    assert ServiceDependency.objects.get(consumer__slug="portal").weight == 2

    services.recompute_dirty_periods()
    after = tco_of(march)
    for slug, figures in shown.items():
        assert figures["before"] == before.get(slug, Decimal(0))
        assert figures["after"] == after[slug]
        assert figures["delta"] == after[slug] - before.get(slug, Decimal(0))
    # And no other service moved.
    assert {slug for slug in after if after[slug] != before.get(slug, Decimal(0))} == set(shown)
    # The service page's TCO panel shows the same figure.
    page.goto(f"{live_server.url}/services/portal/")
    expect(page.locator("body")).to_contain_text(f"{after['portal']:,.2f}")
