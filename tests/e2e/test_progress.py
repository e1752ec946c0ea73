"""Live progress in a real browser with a real Celery worker: after a cost edit, the service
page says its figures are being recomputed, then shows the new TCO without being reloaded."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from finance import services
from finance.models import Period
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory
from tests.finance.processes import Worker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# A busy machine's worker starting and running the task: no timing, a ceiling.
RECOMPUTE_MS = 120_000


@pytest.fixture
def start_worker(tmp_path):
    """Starts a worker on the default queue of this test process's own Redis database, where
    the change-driven recomputation is sent; stopped after the test."""
    started = []

    def start() -> Worker:
        started.append(Worker("celery", tmp_path / f"worker-{uuid.uuid4().hex[:8]}.log"))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.mark.parametrize("width", [1440, 390])
def test_a_cost_edit_shows_being_recomputed_then_the_new_tco(
    page, live_server, login, start_worker, width
):
    page.set_viewport_size({"width": width, "height": 900})
    user = UserFactory(username="browser-finance", role="Finance")
    march = PeriodFactory(year=2025, month=3)
    quotes = ServiceFactory(name="Quotes", slug="quotes")
    item = CostItemFactory(period=march, service=quotes, amount=Decimal("100.00"))
    services.recompute_tco(period=march)
    Period.objects.filter(pk=march.pk).update(recompute_requested_at=None)

    login(user.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{reverse('finance:costitem_edit', args=[item.pk])}")
    page.get_by_label("Amount").fill("150.00")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(lambda url: "/edit/" not in url)

    page.goto(f"{live_server.url}/services/quotes/")
    panel = page.locator("#tco")
    expect(panel.get_by_text("Being recomputed")).to_be_visible()
    expect(panel).to_contain_text("100.00")
    # A marker on this document: a reload or a navigation would drop it.
    page.evaluate("window.notReloaded = true")

    # The task waits in the queue until a worker takes it: an incremental run after one edit
    # would otherwise be done before the page is open.
    start_worker()
    expect(panel).to_contain_text("150.00", timeout=RECOMPUTE_MS)
    expect(panel.get_by_text("Being recomputed")).to_have_count(0)
    assert page.evaluate("window.notReloaded === true")
    assert page.url.endswith("/services/quotes/")
