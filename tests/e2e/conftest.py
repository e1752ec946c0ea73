"""Browser tests: Playwright (sync API) driving the distribution's Chromium against live_server.

`playwright install` needs a download that these machines cannot make, so the tests use the
Debian package's Chromium. Where it is missing they are skipped, except under CI (the CI
variable is set), where a missing browser must fail loudly instead of passing silently.

Tests here use live_server, so they run in transactional_db mode (the server thread sees only
committed rows) and the database is flushed after each of them. Mark them
`@pytest.mark.browser` and `@pytest.mark.django_db(transaction=True, serialized_rollback=True)`:
serialized_rollback restores the rows migrations create (the roles) before each test.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.core.identity_servers import directory  # noqa: F401 (fixture: a real slapd)
from tests.core.identity_servers import identity_provider  # noqa: F401 (a real OpenID provider)
from tests.core.identity_servers import ldap_server  # noqa: F401
from tests.core.identity_servers import openid_provider  # noqa: F401
from tests.factories import TEST_PASSWORD
from tests.finance.mailbox import smtp  # noqa: F401 (fixture: a real SMTP server)

CHROMIUM = Path("/usr/bin/chromium")

# Quiet and offline: no updates, sync, QUIC or DNS look-ups of outside hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

TIMEOUT_MS = 15_000
# Assertions wait as long as actions do: a busy machine renders a page in more than
# Playwright's default five seconds.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser(django_db_setup):
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: apt-get install --no-install-recommends chromium "
            "fonts-liberation"
        )
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set and browser tests cannot run: {message}", pytrace=False)
        pytest.skip(message)

    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Between its calls, Playwright's sync API leaves its event loop marked as running on this
    # thread, and Django then keeps database connections per async context: the tests get new
    # connection objects, without the snapshot serialized_rollback restores. Carry it over.
    snapshots = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    playwright = sync_playwright().start()
    for alias, contents in snapshots.items():
        connections[alias]._test_serialized_contents = contents
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except BaseException:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def signed_in_context(browser, live_server, username: str, viewport: dict, *, javascript=True):
    """A browser context of its own (a viewport, JavaScript on or off) signed in as
    ``username`` through the login form; returns (context, page): the caller closes it."""
    context = browser.new_context(
        viewport=viewport, locale="en-GB", timezone_id="UTC", java_script_enabled=javascript
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    return context, page


@pytest.fixture
def login(page, live_server):
    """Log in through the real login form; returns the page, showing where the form led."""

    def log_in(username: str, password: str):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        # Wait for the page the form leads to (dashboard or the form again with an error), so a
        # test's next goto cannot cut the log-in short: a new document drops this marker.
        page.evaluate("window.loginFormPending = true")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_function("!window.loginFormPending && document.readyState === 'complete'")
        return page

    return log_in
