import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_log_in_see_dashboard_and_log_out(page, live_server, login):
    user = UserFactory(username="browser-viewer", role="Viewer")

    login(user.username, TEST_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_text("(Viewer)")).to_be_visible()

    page.get_by_role("button", name=re.compile(r"^Log out")).click()

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Log in to Portico")).to_be_visible()
    # The session is really gone: the dashboard sends us back to the form.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/login/") + r"\?next="))


def test_wrong_password_shows_an_error_and_stays_on_login(page, live_server, login):
    user = UserFactory(username="browser-viewer", role="Viewer")

    login(user.username, "not-the-password")

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value(user.username)
    expect(page.get_by_role("heading", name="Dashboard")).to_have_count(0)
