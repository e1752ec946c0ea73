"""The login page and the API docs at a desk and on a phone: the login page names the ways to
sign in, the API docs page carries the app's header, and neither is wider than the screen."""

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
WIDTHS = [1440, 390]


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_login_page_names_the_ways_to_sign_in(page, live_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_text("You can sign in here with:")).to_be_visible()
    expect(page.get_by_text("A local Portico account and its password")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    assert fits(page, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_api_docs_page_has_the_apps_header(page, live_server, login, width):
    user = UserFactory(username="browser-viewer", role="Viewer")
    page.set_viewport_size({"width": width, "height": 900})
    login(user.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/api/v1/docs/")
    header = page.locator("header.site")
    expect(header).to_be_visible()
    expect(header.locator("#site-search-q")).to_have_count(1)
    expect(header.locator('a[href="/services/"]')).to_have_count(1)
    assert fits(page, width)
