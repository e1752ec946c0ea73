"""The header's search in Chromium: suggestions as one types, chosen with the arrow keys and
opened with Enter, at a desktop's width and a phone's; and the plain form without them."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("width", [1440, 390])
def test_type_move_with_the_arrow_keys_and_open_a_result(page, live_server, login, width):
    page.set_viewport_size({"width": width, "height": 900})
    viewer = UserFactory(username="browser-viewer", role="Viewer")
    first = ServiceFactory(name="Harbour billing")
    second = ServiceFactory(name="Harbour pilots", summary="Pilotage")
    CustomerFactory(name="Harbour council")
    login(viewer.username, TEST_PASSWORD)

    box = page.get_by_role("combobox", name="Search everything")
    expect(box).to_be_visible()
    box.press_sequentially("harb")
    options = page.locator("#site-search-suggestions [role=option]")
    # Two services, one customer, and "All results".
    expect(options).to_have_count(4)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_text("Services (2)")).to_be_visible()
    listbox = page.locator("#site-search-listbox").bounding_box()
    assert listbox and listbox["x"] >= 0 and listbox["x"] + listbox["width"] <= width + 1

    box.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", re.compile("site-search-option"))
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    box.press("ArrowUp")
    box.press("ArrowDown")
    expect(box).to_be_focused()
    box.press("Enter")

    expect(page).to_have_url(f"{live_server.url}{second.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour pilots")
    assert first.get_absolute_url() != second.get_absolute_url()


def test_enter_without_a_choice_opens_the_results_page(page, live_server, login):
    viewer = UserFactory(username="browser-viewer", role="Viewer")
    ServiceFactory(name="Harbour billing")
    login(viewer.username, TEST_PASSWORD)

    box = page.get_by_role("combobox", name="Search everything")
    box.fill("harbour")
    box.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/search/?q=harbour")
    expect(page.get_by_role("heading", name="Services (1)")).to_be_visible()
    expect(page.get_by_role("link", name="Harbour billing")).to_be_visible()
    expect(box).to_have_value("harbour")
    box.fill("")
    box.press_sequentially("harb")
    options = page.locator("#site-search-suggestions [role=option]")
    expect(options).to_have_count(2)
    box.press("Escape")
    expect(options).to_have_count(0)
    expect(box).to_have_attribute("aria-expanded", "false")


def test_the_search_works_without_javascript(browser, live_server):
    viewer = UserFactory(username="browser-viewer", role="Viewer")
    ServiceFactory(name="Harbour billing")
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(viewer.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("combobox", name="Search everything").fill("harb")
        page.locator(".site-search").get_by_role("button", name="Search").click()
        expect(page).to_have_url(f"{live_server.url}/search/?q=harb")
        page.get_by_role("link", name="Harbour billing").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour billing")
    finally:
        context.close()
