"""Signing in through the OpenID provider and through the directory in Chromium: the person
lands with the role their group maps to, and loses it at the next sign-in once the group is
gone."""

import re

import pytest
from playwright.sync_api import expect

from tests.core.identity_servers import DIRECTORY
from tests.core.identity_servers import PROVIDER_ACCOUNTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign_in_through_provider(page, live_server, username: str):
    """The first sign-in of a browser: the provider asks who it is."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("button", name="Sign in with single sign-on").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Account").fill(username)
    page.get_by_label("Secret").fill(PROVIDER_ACCOUNTS[username]["password"])
    page.get_by_role("button", name="Continue").click()


def sign_in_again_through_provider(page, live_server):
    """The provider remembers the browser (single sign-on): straight back to Portico."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("button", name="Sign in with single sign-on").click()


def log_out(page, live_server):
    page.get_by_role("button", name=re.compile(r"^Log out")).click()
    expect(page).to_have_url(f"{live_server.url}/login/")


def test_single_sign_on_lands_with_the_mapped_role_and_demotes(
    page, live_server, identity_provider
):
    sign_in_through_provider(page, live_server, "pam")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Signed in as")).to_contain_text("Pam Manager (Portfolio manager)")
    log_out(page, live_server)

    # The managers' group is removed at the provider: the next sign-in demotes.
    identity_provider.set_groups("pam", ["portico-service-owners"])
    sign_in_again_through_provider(page, live_server)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Signed in as")).to_contain_text("Pam Manager (Service owner)")
    log_out(page, live_server)

    # No group maps to a role: refused, with the reason.
    identity_provider.set_groups("pam", ["staff"])
    sign_in_again_through_provider(page, live_server)

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("status")).to_contain_text("none of your groups gives you a role")


def test_directory_sign_in_lands_with_the_mapped_role_and_demotes(
    page, live_server, login, directory
):
    login("dora", DIRECTORY["dora"][2])

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Signed in as")).to_contain_text("Dora Directory (Portfolio manager)")
    log_out(page, live_server)

    directory.set_groups("dora", ["portico-viewers"])
    login("dora", DIRECTORY["dora"][2])

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Signed in as")).to_contain_text("Dora Directory (Viewer)")
