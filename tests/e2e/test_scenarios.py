"""Budget scenarios in a real browser: made from a budget version, a change added in place
(htmx), the difference shown equal to the figures budgets.scenarios computes, and the scenario
turned into a new draft version."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from budgets import scenarios
from budgets.models import BudgetVersion
from budgets.models import Scenario
from tests.budgets.scenario import build_year
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def money(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", "").replace("+", ""))


def test_a_scenario_made_in_the_browser_shows_the_effect_it_computes(page, live_server, login):
    user = UserFactory(username="browser-finance", role="Finance")
    year = build_year()
    login(user.username, TEST_PASSWORD)

    page.goto(f"{live_server.url}{year.version.get_absolute_url()}")
    page.get_by_role("button", name="New scenario").click()
    page.get_by_label(re.compile(r"^Name")).fill("Dearer K-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Scenario “Dearer K-1”")).to_be_visible()
    scenario = Scenario.objects.get(name="Dearer K-1")

    changes = page.locator("#changes")
    changes.get_by_label(re.compile(r"^Kind")).select_option("contract_value")
    changes.get_by_label(re.compile(r"^Contract")).select_option(str(year.contract.pk))
    changes.get_by_label(re.compile(r"^Value")).fill("24000.02")
    changes.get_by_role("button", name="Add change").click()
    rows = page.locator("[data-scenario-effect] tr[data-service]")
    expect(rows).to_have_count(2)

    expected = {row.slug: row for row in scenarios.scenario_effect(scenario).services}
    for index in range(rows.count()):
        row = rows.nth(index)
        figures = expected[row.get_attribute("data-service") or ""]
        assert money(row.locator("[data-after]").inner_text()) == figures.after["tco"]
        assert money(row.locator("[data-delta]").inner_text()) == figures.delta["tco"]

    page.get_by_role("button", name="Turn into a new draft version").click()
    expect(page.locator("body")).to_contain_text("Created the draft")
    draft = BudgetVersion.objects.get(name="Dearer K-1 (scenario)")
    assert draft.based_on_id == year.version.pk and draft.rolled_up_at is not None
