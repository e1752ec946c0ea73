import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from performance.models import Measurement
from performance.models import TargetChange
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.performance.helpers import MEASURE
from tests.performance.helpers import figure
from tests.performance.helpers import functioning_item
from tests.performance.helpers import new_service
from tests.performance.helpers import outcome_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_owner_adds_a_figure_on_the_item_panel_and_sees_the_series(page, live_server, login):
    owner = UserFactory(username="owner-browser", role="Service owner")
    service = new_service("Online Claims", owner=owner)
    item = functioning_item(service, "Available around the clock")
    TargetChange.objects.filter(item=item).update(valid_from=datetime.date(2025, 1, 1))
    figure(item=item, end=datetime.date(2026, 9, 30), value="99.8")

    login(owner.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{service.get_absolute_url()}")
    panel = page.locator("#performance")
    row = panel.locator(f"#series-{item.pk}")
    expect(row.locator("svg circle.met")).to_have_count(1)
    page.evaluate("window.portico_marker = 'same page'")

    panel.get_by_role("link", name="Add a figure for Available around the clock").click()
    form = panel.get_by_role("form", name="New figure for Available around the clock")
    form.get_by_label(re.compile(r"^From\b")).fill("2026-10-01")
    form.get_by_label(re.compile(r"^To\b")).fill("2026-09-30")
    form.get_by_label(re.compile(r"^Figure\b")).fill("99.1")
    # A bad post first: the window ends before it starts. The error shows, nothing is saved.
    form.get_by_role("button", name="Add figure").click()
    expect(panel.get_by_text("The end cannot be before the start.")).to_be_visible()
    assert Measurement.objects.count() == 1

    form = panel.get_by_role("form", name="New figure for Available around the clock")
    form.get_by_label(re.compile(r"^To\b")).fill("2026-10-31")
    form.get_by_role("textbox", name="Note").fill("Storage outage")
    form.get_by_role("button", name="Add figure").click()
    row = page.locator(f"#series-{item.pk}")
    expect(row.locator("svg circle.missed")).to_have_count(1)
    expect(row.locator("svg circle.met")).to_have_count(1)
    expect(row.locator(".badge", has_text="Missed")).to_be_visible()
    # Added in place: the page was not reloaded.
    assert page.evaluate("window.portico_marker") == "same page"
    added = Measurement.objects.get(end=datetime.date(2026, 10, 31))
    assert (added.value, added.met, added.recorded_by) == (Decimal("99.1"), False, owner)

    row.get_by_role("link", name="Available around the clock").click()
    expect(page.get_by_role("heading", name="Available around the clock", level=1)).to_be_visible()
    periods = page.locator("#periods")
    expect(periods.get_by_role("row")).to_have_count(3)  # header, October, September
    page.get_by_role("link", name="By fiscal year").click()
    expect(page.locator("#periods").get_by_role("row")).to_have_count(2)
    expect(page.locator("#figures")).to_contain_text("Storage outage")


def test_owner_adds_a_figure_to_an_outcome_measured_directly(page, live_server, login):
    owner = UserFactory(username="outcome-owner-browser", role="Service owner")
    service = new_service("Online Claims", owner=owner)
    outcome = outcome_of(service, **{**MEASURE, "target": Decimal(95)})
    customer = outcome.subscription.customer

    login(owner.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.get_by_role("link", name=re.compile(r"^Figures of outcome")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(outcome.statement)
    figures = page.locator("#figures")
    expect(figures.get_by_text("No figures yet.")).to_be_visible()
    page.evaluate("window.portico_marker = 'same page'")

    figures.get_by_role("button", name="Add a figure").click()
    form = figures.get_by_role("form", name="New figure")
    form.get_by_label(re.compile(r"^From\b")).fill("2026-10-01")
    form.get_by_label(re.compile(r"^To\b")).fill("2026-10-31")
    form.get_by_label(re.compile(r"^Figure\b")).fill("93.5")
    form.get_by_role("textbox", name="Note").fill("Claims backlog")
    form.get_by_role("button", name="Add figure").click()

    figures = page.locator("#figures")
    expect(figures.locator("#figure-list")).to_contain_text("Claims backlog")
    expect(figures.locator("svg circle.missed")).to_have_count(1)
    expect(figures.locator(".badge", has_text="Missed").first).to_be_visible()
    assert page.evaluate("window.portico_marker") == "same page"
    added = Measurement.objects.get(outcome=outcome)
    assert (added.value, added.met, added.recorded_by) == (Decimal("93.5"), False, owner)

    page.once("dialog", lambda dialog: dialog.accept())  # removing asks first
    figures.get_by_role("button", name="Remove the figure to 2026-10-31").click()
    expect(page.locator("#figures").get_by_text("No figures yet.")).to_be_visible()
    assert not Measurement.objects.filter(outcome=outcome).exists()
