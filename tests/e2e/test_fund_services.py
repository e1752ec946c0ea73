"""Fund services and the lineage drill-down in a real browser."""

import itertools
import re
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


# --- The flow chart at 40 and more nodes ----------------------------------------------------

LABEL_CLASHES = """() => {
    const labels = [...document.querySelectorAll("#flow .sankey-label")];
    const boxes = labels.map((label) => label.getBoundingClientRect());
    const overlap = (a, b) => a.left < b.right && b.left < a.right
        && a.top < b.bottom && b.top < a.bottom;
    const clashes = [];
    boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b, j) => {
        const other = labels[i + 1 + j];
        if (overlap(a, b)) clashes.push(labels[i].textContent + " / " + other.textContent);
    }));
    return clashes;
}"""


@pytest.fixture
def many_services():
    """Four levels of eleven services, each passing its cost to the next level's: with the
    categories, the roads and what stays unallocated, more than forty nodes."""
    from finance.choices import CostCategory

    march = PeriodFactory(year=2025, month=3)
    levels = [
        [
            ServiceFactory(
                name=f"Level {depth + 1} service {index + 1:02d}",
                kind=ServiceKind.SUPPORTING if depth < 3 else ServiceKind.CUSTOMER_FACING,
            )
            for index in range(11)
        ]
        for depth in range(4)
    ]
    for upper, lower in itertools.pairwise(levels):
        for provider, consumer in zip(upper, lower, strict=True):
            ServiceDependencyFactory(provider=provider, consumer=consumer)
    categories = CostCategory.values
    for index, service in enumerate(levels[0]):
        CostItemFactory(
            period=march,
            service=service,
            category=categories[index % len(categories)],
            amount=Decimal(1000 + 97 * index),
        )
    for index, service in enumerate(levels[3]):
        CostItemFactory(period=march, service=service, amount=Decimal(400 + 13 * index))
    services.recompute_tco(period=march)
    return levels


@pytest.mark.parametrize("width", [1440, 390])
def test_the_flow_chart_is_readable_at_forty_nodes_and_filters_the_table(
    page, live_server, login, many_services, width
):
    user = UserFactory(username="browser-finance", role="Finance")
    page.set_viewport_size({"width": width, "height": 900})
    login(user.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/costs/?period=2025-03")
    chart = page.locator("#flow")
    expect(chart.get_by_role("img", name="How cost flows to services in 2025-03")).to_be_visible()
    nodes = chart.locator(".sankey-node")
    assert nodes.count() >= 40
    assert page.evaluate(LABEL_CLASHES) == []
    # Every node shows its amount under its name.
    amounts = chart.locator(".sankey-amount").all_text_contents()
    assert len(amounts) == nodes.count()
    assert all(re.fullmatch(r"-?[\d,]+\.\d\d", amount) for amount in amounts)
    # The table fits its box on a wide screen; on a phone it scrolls inside it, not the page.
    table_box = page.locator("#services .scroll-x")
    fits = table_box.evaluate("(box) => box.scrollWidth <= box.clientWidth")
    assert fits if width == 1440 else True
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    chosen = many_services[3][4]
    node = chart.locator(f'.sankey-node[data-node="service:{chosen.pk}"] a')
    node.scroll_into_view_if_needed()
    node.click()
    expect(page.locator("#chosen-node")).to_contain_text(f"node {chosen.name}")
    table = page.locator("#services table tbody")
    expect(table.get_by_role("link")).to_have_text([chosen.name])
    expect(chart.locator(".sankey-node.chosen")).to_have_count(1)

    page.get_by_role("link", name="Show every service").click()
    expect(table.get_by_role("link", name="Level 4 service 01")).to_be_visible()
    expect(page.locator("#chosen-node")).to_have_count(0)


def test_a_flow_chart_node_filters_the_table_without_javascript(
    browser, live_server, many_services
):
    user = UserFactory(username="browser-finance", role="Finance")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/costs/?period=2025-03")
        page.locator('#flow .sankey-node[data-node="road:service"] a').click()
        expect(page.locator("#chosen-node")).to_contain_text("node Recorded on services")
        # The services cost was recorded on: the first level and the last.
        links = page.locator("#services table tbody").get_by_role("link")
        expect(links).to_have_count(22)
    finally:
        context.close()
