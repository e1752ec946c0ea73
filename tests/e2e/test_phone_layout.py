"""Phone-sized (390 px) and wide (1440 px) screens in Chromium: the pages people open on a
phone stay within the screen's width, the navigation folds behind a menu toggle that opens
without JavaScript, a list's filters fold, and the compact action menus of specification
items and stages work (the editor opens at the item, a removal asks first)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from finance import services
from portfolio.models import SpecificationItem
from tests.e2e.conftest import signed_in_context
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

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}


@pytest.fixture
def world():
    """A manager's portfolio with long names, as real ones have: a specified service with
    cost, a mapped value stream that it underpins."""
    manager = UserFactory(username="phone-manager", role="Portfolio manager")
    claims = ServiceFactory(
        name="Claims handling for private and business customers",
        slug="claims-handling-for-private-and-business-customers",
        owner=manager,
    )
    SpecificationItemFactory(service=claims, title="Claims registered by phone and online")
    SpecificationItemFactory(service=claims, title="Claims acknowledged within one working day")
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


def open_browser(browser, live_server, world, viewport, *, javascript=True):
    return signed_in_context(
        browser, live_server, world["manager"].username, viewport, javascript=javascript
    )


@pytest.fixture
def phone(browser, live_server, world):
    context, page = open_browser(browser, live_server, world, PHONE)
    yield page
    context.close()


@pytest.fixture
def wide(browser, live_server, world):
    context, page = open_browser(browser, live_server, world, WIDE)
    yield page
    context.close()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_daily_pages_fit_a_phone_screen(phone, live_server, world):
    paths = [
        reverse("dashboard"),
        reverse("portfolio:service_list"),
        world["claims"].get_absolute_url(),
        world["stream"].get_absolute_url(),
        reverse("finance:overview"),
    ]
    for path in paths:
        phone.goto(f"{live_server.url}{path}")
        phone.wait_for_load_state("networkidle")
        assert page_width(phone) <= PHONE["width"], path


def test_on_a_phone_the_menu_toggle_opens_the_navigation(phone, live_server):
    phone.goto(f"{live_server.url}/")
    profile = phone.get_by_role("link", name="Profile")
    expect(profile).to_be_hidden()
    # The search box stays in the header, usable without opening the menu.
    expect(phone.get_by_role("combobox", name="Search")).to_be_visible()
    phone.locator("label.site-menu-button").click()
    expect(profile).to_be_visible()
    assert page_width(phone) <= PHONE["width"]
    profile.click()
    expect(phone).to_have_url(f"{live_server.url}{reverse('profile')}")


def test_the_menu_toggle_needs_no_javascript(browser, live_server, world):
    context, page = open_browser(browser, live_server, world, PHONE, javascript=False)
    try:
        profile = page.get_by_role("link", name="Profile")
        expect(profile).to_be_hidden()
        page.locator("label.site-menu-button").click()
        expect(profile).to_be_visible()
    finally:
        context.close()


def test_on_a_wide_screen_the_navigation_shows_without_a_toggle(wide, live_server):
    wide.goto(f"{live_server.url}/")
    expect(wide.get_by_role("link", name="Profile")).to_be_visible()
    expect(wide.get_by_role("link", name="Notifications")).to_be_visible()
    expect(wide.locator("label.site-menu-button")).to_be_hidden()


def test_filters_fold_on_a_phone_and_stay_open_on_a_wide_screen(phone, wide, live_server):
    services_list = f"{live_server.url}{reverse('portfolio:service_list')}"
    phone.goto(services_list)
    fold = phone.locator("details.filters-fold")
    expect(fold).not_to_have_attribute("open", "")
    search = fold.locator("input[type=search]").first
    expect(search).to_be_hidden()
    fold.locator("summary").click()
    expect(search).to_be_visible()

    wide.goto(services_list)
    expect(wide.locator("details.filters-fold input[type=search]").first).to_be_visible()


def test_item_actions_are_a_menu_the_editor_opens_at_the_item_and_removal_asks(
    phone, live_server, world
):
    claims = world["claims"]
    phone.goto(f"{live_server.url}{claims.get_absolute_url()}")
    title = "Claims acknowledged within one working day"
    item = SpecificationItem.objects.get(service=claims, title=title)
    edit = phone.get_by_role("link", name=f"Edit {title}")
    expect(edit).to_be_hidden()  # folded in the menu
    phone.get_by_role("button", name=f"Actions for {title}").click()
    edit.click()

    # The editor replaces the item, where it was, in view, its first field focused.
    row = phone.locator(f"#item-{item.pk}")
    form = row.locator("form.item-form")
    expect(form).to_be_visible()
    expect(form.get_by_role("button", name="Save item")).to_be_in_viewport()
    expect(form.locator("[name=title]")).to_have_value(title)
    form.locator("[name=title]").fill("Claims acknowledged within one hour")
    form.get_by_role("button", name="Save item").click()
    expect(phone.locator(f"#item-{item.pk}")).to_contain_text("Claims acknowledged within one hour")
    assert page_width(phone) <= PHONE["width"]

    # Removing asks, as every removal does: dismissed, the item stays; accepted, it goes.
    title = "Claims acknowledged within one hour"
    questions: list[str] = []

    def answer(accept):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    phone.once("dialog", answer(False))
    phone.get_by_role("button", name=f"Actions for {title}").click()
    phone.get_by_role("button", name=f"Remove {title}").click()
    expect(phone.locator(f"#item-{item.pk}")).to_be_visible()
    assert SpecificationItem.objects.filter(pk=item.pk).exists()

    phone.once("dialog", answer(True))
    phone.get_by_role("button", name=f"Actions for {title}").click()
    phone.get_by_role("button", name=f"Remove {title}").click()
    expect(phone.locator(f"#item-{item.pk}")).to_have_count(0)
    assert not SpecificationItem.objects.filter(pk=item.pk).exists()
    assert questions == [f"Remove “{title}”?", f"Remove “{title}”?"]


def test_stage_actions_are_a_menu_and_removal_asks_once(wide, live_server, world):
    stream = world["stream"]
    wide.goto(f"{live_server.url}{stream.get_absolute_url()}")
    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    wide.on("dialog", dismiss)
    wide.get_by_role("button", name="Actions for Pay the claim").click()
    wide.get_by_role("button", name="Remove Pay the claim").click()
    expect(wide.locator("#stages li .stage-name")).to_have_text(
        ["Report the claim", "Pay the claim"]
    )
    assert questions == ["Remove the stage “Pay the claim”?"]


def test_removing_a_record_asks_in_the_same_dialog_and_posts(wide, live_server, world):
    from portfolio.models import Service

    payments = Service.objects.get(slug="payments-platform")
    wide.goto(f"{live_server.url}{payments.get_absolute_url()}")
    questions: list[str] = []

    def answer(accept):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    # The service's Remove… leads to the page that says what removing it will do.
    wide.get_by_role("button", name="Remove").click()
    # It has TCO figures (of nothing), so it is retired rather than deleted.
    expect(wide.get_by_role("heading", name="Retire Payments platform?")).to_be_visible()
    remove_page = wide.url
    retire = wide.get_by_role("button", name="Retire")
    wide.once("dialog", answer(False))
    retire.click()
    expect(wide).to_have_url(remove_page)
    wide.once("dialog", answer(True))
    retire.click()
    expect(wide.get_by_text("Retired service “Payments platform”.")).to_be_visible()
    assert Service.objects.get(slug="payments-platform").is_retired
    assert questions == ["Retire Payments platform?", "Retire Payments platform?"]


def test_without_javascript_a_removal_asks_on_its_confirmation_page(browser, live_server, world):
    context, page = open_browser(browser, live_server, world, WIDE, javascript=False)
    try:
        page.goto(f"{live_server.url}/services/payments-platform/")
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("heading", name="Retire Payments platform?")).to_be_visible()
    finally:
        context.close()
