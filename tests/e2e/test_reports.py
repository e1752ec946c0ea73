"""Scheduled finance reports in a real browser: define one, be told about a bad recipient
beside the field, fix it, run it (delivered through a real SMTP server) and download its XLSX."""

import io
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook
from playwright.sync_api import expect

from finance import services
from finance.models import ReportDefinition
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_finance_defines_runs_and_downloads_a_report(page, live_server, login, smtp, celery_eager):
    user = UserFactory(username="browser-finance", role="Finance")
    march = PeriodFactory(year=2025, month=3)
    CostItemFactory(period=march, service=ServiceFactory(name="Quotes"), amount=Decimal("400.00"))
    services.close_period(period=march)

    login(user.username, TEST_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    page.get_by_role("button", name="New report").click()

    page.get_by_label("Name").fill("Monthly pack")
    page.get_by_label("Period").select_option("last_month")
    page.get_by_label("XLSX workbook").check()
    page.get_by_role("textbox", name="Recipients").fill("cfo@example.org, bob@")
    page.get_by_label("Schedule: hour").fill("6")
    page.get_by_role("button", name="Save").click()

    error = page.locator("#id_recipients_error")
    expect(error).to_have_text("Not an e-mail address: 'bob@'.")
    expect(page.get_by_role("textbox", name="Recipients")).to_have_value("cfo@example.org, bob@")
    assert not ReportDefinition.objects.exists()

    page.get_by_role("textbox", name="Recipients").fill("cfo@example.org, controller@example.org")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Monthly pack")).to_be_visible()
    definition = ReportDefinition.objects.get()
    assert PeriodicTask.objects.get(pk=definition.periodic_task_id).crontab.hour == "6"
    expect(page.get_by_text("cfo@example.org, controller@example.org")).to_be_visible()

    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_text("is running in the background")).to_be_visible()
    runs = page.locator("#runs")
    expect(runs).to_contain_text("2025-03")
    expect(runs).to_contain_text("Succeeded")
    assert len(smtp.messages) == 1

    with page.expect_download() as download_info:
        runs.get_by_role("link", name="XLSX").click()
    download = download_info.value
    assert download.suggested_filename == "monthly-pack-2025-03.xlsx"
    workbook = load_workbook(io.BytesIO(download.path().read_bytes()))
    assert workbook.sheetnames[0] == "TCO by service"
    tco_sheet = workbook["TCO by service"]
    quotes = next(row for row in tco_sheet.iter_rows(values_only=True) if row[0] == "Quotes")
    assert quotes[14] == 400  # the TCO column, a number
