"""The main pages in Chromium under the Content-Security-Policy: a service, a value stream
map, Fund services and the API docs, used the way people use them (htmx forms, pickers, the
period menu, a confirmation, the PNG download). A test fails on any violation the browser
reports, and on any script error."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from finance import services
from finance.models import Period
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# How Chromium words a refusal in the console ("… violates the following Content Security
# Policy directive …", "Refused to evaluate a string as JavaScript because … Content Security
# Policy …"); securitypolicyviolation events are logged in the same words below.
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy")


@pytest.fixture
def violations(page):
    """What the browser reports against the policy, and script errors, as they happen."""
    seen: list[str] = []
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    page.on(
        "console",
        lambda message: (
            seen.append(f"{message.type}: {message.text}")
            if any(words in message.text for words in POLICY_WORDS)
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


@pytest.fixture
def world():
    """A manager's portfolio: a specified service with cost in two months, a mapped value
    stream that it underpins."""
    manager = UserFactory(username="csp-manager", role="Portfolio manager")
    claims = ServiceFactory(name="Claims handling", slug="claims-handling", owner=manager)
    SpecificationItemFactory(service=claims, title="Claims registered by phone and online")
    ServiceFactory(name="Payments platform", slug="payments-platform")
    stream = ValueStreamFactory(name="Settle a claim", slug="settle-a-claim", owner=manager)
    report = StageFactory(
        value_stream=stream, position=0, name="Report the claim", moment_of_truth=True
    )
    StageFactory(value_stream=stream, position=1, name="Pay the claim", complete_accurate=90)
    StageServiceFactory(stage=report, service=claims)
    for month, amount in ((2, "1200.00"), (3, "1250.50")):
        period = PeriodFactory(year=2025, month=month)
        CostItemFactory(period=period, service=claims, amount=Decimal(amount))
        services.recompute_tco(period=period)
    return {"manager": manager, "claims": claims, "stream": stream}


def open_as_manager(page, live_server, login, world, path):
    login(world["manager"].username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")


def test_the_check_sees_a_violation(page, live_server, login, world, violations):
    """The detector itself: an inline style added to a page is refused and reported."""
    open_as_manager(page, live_server, login, world, "/")
    assert violations == []
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        '\'<p id="injected" style="color: red">x</p>\')'
    )
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=\"//a.invalid/x\">')")
    # The paragraph itself (the dashboard may hold others with an x in them).
    expect(page.locator("#injected")).to_have_count(1)
    page.wait_for_timeout(300)
    assert any("style-src" in report for report in violations), violations
    assert any("img-src" in report for report in violations), violations


def test_a_service_page_and_its_forms(page, live_server, login, world, violations):
    claims = world["claims"]
    open_as_manager(page, live_server, login, world, claims.get_absolute_url())
    expect(page.get_by_role("heading", name="Claims handling", level=1)).to_be_visible()

    # An htmx form in place, a bad post (422) with its errors beside the fields.
    page.get_by_role("button", name="Add facility functioning item").click()
    form = page.locator("#quadrant-facility_functioning form")
    form.get_by_role("button", name="Add item").click()
    expect(form.locator(".field-error").first).to_be_visible()

    # The TCO panel's period menu sends its form when a period is chosen.
    page.get_by_label("Period").select_option("2025-02")
    expect(page).to_have_url(f"{live_server.url}{claims.get_absolute_url()}?tco_period=2025-02#tco")
    expect(page.get_by_text("Fully-loaded TCO, 2025-02")).to_be_visible()
    assert violations == []


def test_a_value_stream_map_its_stages_and_downloads(page, live_server, login, world, violations):
    stream = world["stream"]
    open_as_manager(page, live_server, login, world, stream.get_absolute_url())
    expect(page.locator("#map svg text", has_text="1. Report the claim")).to_have_count(1)

    page.get_by_role("button", name="Add a stage").click()
    form = page.get_by_role("form", name="Add a stage")
    box = form.get_by_label("Add a service that underpins it")
    box.press_sequentially("payments", delay=20)
    # The suggestions are asked for with the typed term (portico.js, no eval).
    options = form.locator(".picker-options [role=option]")
    expect(options).to_have_count(1)
    expect(options).to_have_attribute("data-pick-key", "payments-platform")
    options.click()
    expect(box).to_have_value("Payments platform")
    form.locator("#id_new-name").fill("Assess the damage")
    form.locator("#id_new-process_time").fill("1")
    form.locator("#id_new-lead_time").fill("2")
    form.get_by_role("button", name="Add stage").click()
    expect(page.locator("#map svg text", has_text="3. Assess the damage")).to_have_count(1)

    with page.expect_download() as png:
        page.get_by_role("button", name="Download PNG").click()
    assert png.value.suggested_filename == "settle-a-claim-map.png"

    # Zoomed by portico.js (the map's width set through the CSSOM, never a style attribute).
    tools = page.get_by_role("toolbar", name=re.compile("Zoom the map"))
    tools.get_by_role("button", name="Zoom in").click()
    expect(page.locator("#map [data-map-viewport]")).to_have_class(re.compile("zoomed"))
    tools.get_by_role("button", name="Fit").click()
    tools.get_by_role("button", name="Full screen").click()
    page.wait_for_function("document.fullscreenElement !== null")
    assert violations == []


def test_fund_services_the_period_menu_and_closing_a_period(
    page, live_server, login, world, violations
):
    open_as_manager(page, live_server, login, world, "/costs/")
    expect(page.get_by_role("heading", name="Fund services · 2025-03")).to_be_visible()
    expect(page.locator(".tco-bar span").first).to_be_visible()

    page.get_by_role("combobox", name="Period").select_option("2025-02")
    expect(page.get_by_role("heading", name="Fund services · 2025-02")).to_be_visible()
    page.get_by_role("link", name="Kept").click()  # sorted in place by htmx
    expect(page).to_have_url(re.compile(r"/costs/\?period=2025-02.*&sort=kept$"))
    page.locator('#flow .sankey-node[data-node="road:service"] a').click()  # a plain link
    expect(page.locator("#chosen-node")).to_contain_text("Recorded on services")

    # Closing asks first (portico.js): dismissed, nothing happens; accepted, it closes.
    page.goto(f"{live_server.url}/costs/periods/2025-02/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Close the period").click()
    expect(page.get_by_role("button", name="Close the period")).to_be_visible()
    assert not Period.objects.get(year=2025, month=2).is_closed
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close the period").click()
    expect(page.get_by_role("button", name="Close the period")).to_have_count(0)
    assert Period.objects.get(year=2025, month=2).is_closed
    assert violations == []


def test_the_api_docs(page, live_server, login, world, violations):
    open_as_manager(page, live_server, login, world, "/api/v1/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-get").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    expect(page.locator(".live-responses-table .response .response-col_status").first).to_have_text(
        "200"
    )
    assert violations == []


def test_other_main_pages(page, live_server, login, world, violations):
    open_as_manager(page, live_server, login, world, "/")
    for path in ("/services/", "/customers/", "/value-streams/", "/maturity/", "/profile/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("searchbox").fill("claims")  # the list filters in place
    expect(
        page.locator("#object-table").get_by_role("link", name="Claims handling")
    ).to_be_visible()
    assert violations == []
