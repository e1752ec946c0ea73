"""Cloud bills in a real browser: a tag rule tested against the FOCUS sample before it is
saved, the sample uploaded, and its untagged spend shown on Fund services."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cloud.models import FocusLine
from cloud.models import TagRule
from finance import services
from finance.models import ExchangeRate
from finance.models import Period
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.cloud import SAMPLE
from tests.factories.cloud import sample_rows
from tests.factories.cloud import tags_of
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_tag_rule_tested_then_saved_and_the_sample_uploaded(page, live_server, login):
    user = UserFactory(username="browser-cloud", role="Finance")
    ServiceFactory(name="Bright Path", slug="bright-path")
    bright = [r for r in sample_rows() if tags_of(r).get("application") == "BrightPathMatrix"]
    login(user.username, TEST_PASSWORD)

    page.goto(f"{live_server.url}/costs/cloud/rules/new/")
    page.get_by_role("textbox", name="Name", exact=True).fill("Bright Path")
    page.get_by_label("Tag key").fill(" Application ")
    page.get_by_label("Tag value").fill("brightpathmatrix")
    page.get_by_role("combobox", name="Service").select_option(label="Bright Path")
    page.get_by_label("Test against a file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Test against the file").click()
    test = page.locator("#rule-test")
    expect(test).to_contain_text("1000 lines")
    candidate = test.get_by_role("row").filter(has_text="This rule: Bright Path")
    expect(candidate.get_by_role("cell").nth(1)).to_have_text(str(len(bright)))
    assert not TagRule.objects.exists()  # tested, not saved

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Bright Path")).to_be_visible()
    assert TagRule.objects.get().tag_key == "application"

    page.get_by_role("link", name="Billing periods").click()
    page.get_by_label("FOCUS file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("2024-09: imported, 942 lines")).to_be_visible()
    assert FocusLine.objects.count() == 1000
    periods = page.get_by_role("table", name="Billing periods imported, newest first")
    expect(periods.get_by_role("row")).to_have_count(5)  # the header and four periods

    periods.get_by_role("link", name="AWS SunBird").click()
    untagged = page.locator("#untagged")
    expect(untagged.get_by_role("heading", name="Untagged: the largest resources")).to_be_visible()
    expect(untagged.get_by_role("row")).to_have_count(6)
    by_rule = page.locator("#by-rule").get_by_role("row").filter(has_text="Bright Path")
    expect(by_rule.get_by_role("cell").nth(1)).to_have_text(str(len(bright)))

    september = Period.objects.get(year=2024, month=9)
    ExchangeRate.objects.create(period=september, currency="USD", rate=Decimal("1"))
    services.recompute_tco(period=september)
    page.goto(f"{live_server.url}/costs/?period=2024-09")
    unallocated = page.locator("#unallocated")
    expect(unallocated).to_contain_text("Untagged cloud spend")
    expect(unallocated).to_contain_text("AWS billing account 1234567890123 (SunBird)")
