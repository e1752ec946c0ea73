"""A 20,000-row workbook of services and items imported in a real browser: upload, the
guessed mapping, a preview whose counts are right (a real Celery worker runs it, the page
follows its progress), the commit, and a re-import that is all unchanged."""

import uuid

import pytest
from playwright.sync_api import expect

from imports.models import ImportRun
from portfolio.models import Service
from portfolio.models import SpecificationItem
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.finance.processes import Worker
from tests.imports.files import services_and_items

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SERVICES = 10_000  # and as many items: 20,000 rows
# The worker takes minutes for 20,000 rows on a busy machine: this is no timing.
TASK_MS = 900_000


@pytest.fixture
def celery_worker(tmp_path):
    """A worker on the default queue of this test process's own Redis database."""
    worker = Worker("celery", tmp_path / f"worker-{uuid.uuid4().hex[:8]}.log")
    yield worker
    worker.stop()


def upload_and_preview(page, live_server, path):
    page.goto(f"{live_server.url}/imports/")
    page.get_by_role("button", name="New import").click()
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("textbox", name="Source").fill("workbook")
    page.get_by_role("button", name="Upload").click()
    # Both sheets were recognised by their names, their columns by their headers.
    expect(page.get_by_label("Sheet “Services” holds")).to_have_value("services")
    expect(page.get_by_label("Sheet “Specification items” holds")).to_have_value(
        "specification-items"
    )
    page.get_by_role("button", name="Preview").click()
    counts = page.locator("#preview-counts")
    expect(counts).to_be_visible(timeout=TASK_MS)
    return counts


def test_a_large_workbook_is_previewed_committed_and_then_unchanged(
    page, live_server, login, celery_worker, tmp_path
):
    user = UserFactory(username="importer", role="Portfolio manager")
    path = tmp_path / "portfolio.xlsx"
    path.write_bytes(services_and_items(SERVICES, owner=user.username))
    login(user.username, TEST_PASSWORD)

    counts = upload_and_preview(page, live_server, path)
    for resource in ("services", "specification-items"):
        row = counts.locator(f"tr[data-resource='{resource}']")
        expect(row.locator(".created")).to_have_text(str(SERVICES))
        expect(row.locator(".updated")).to_have_text("0")
        expect(row.locator(".unchanged")).to_have_text("0")
        expect(row.locator(".retired")).to_have_text("0")
    assert not Service.objects.exists(), "a preview writes nothing"

    page.get_by_role("button", name="Commit").click()
    result = page.locator("#result-counts")
    expect(result).to_be_visible(timeout=TASK_MS)
    expect(result.locator("tr[data-resource='services'] .created")).to_have_text(str(SERVICES))
    assert Service.objects.filter(source="workbook").count() == SERVICES
    assert SpecificationItem.objects.filter(source="workbook").count() == SERVICES

    counts = upload_and_preview(page, live_server, path)
    for resource in ("services", "specification-items"):
        row = counts.locator(f"tr[data-resource='{resource}']")
        expect(row.locator(".created")).to_have_text("0")
        expect(row.locator(".updated")).to_have_text("0")
        expect(row.locator(".unchanged")).to_have_text(str(SERVICES))

    # The history lists both runs, by whom.
    page.goto(f"{live_server.url}/imports/")
    expect(page.get_by_role("row").filter(has_text="portfolio.xlsx")).to_have_count(2)
    assert ImportRun.objects.filter(user=user).count() == 2
