"""A relationship manager records a customer's assessment and sees the mismatch flag appear."""

import datetime

import pytest
from playwright.sync_api import expect

from maturity import services
from maturity.questionnaire import answers_for_level
from maturity.questionnaire import statements_for
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import CustomerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_recording_an_assessment_flags_the_mismatch(page, live_server, login):
    manager = UserFactory(username="browser-rm", role="Service owner")
    customer = CustomerFactory(name="Claims Division", relationship_manager=manager)
    services.record_assessment(
        party=services.organisation_party(),
        assessed_on=datetime.date.today() - datetime.timedelta(days=30),
        answers=answers_for_level("provider", 2),
    )

    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/maturity/")
    expect(page.locator("#mismatches")).to_contain_text("No mismatch")

    page.get_by_role("link", name="Assess Claims Division").click()
    expect(page.get_by_role("heading", name="Assess Claims Division", level=1)).to_be_visible()
    # A level-4 customer: Yes to both level-4 statements, No to everything else.
    for statement in statements_for("customer"):
        answer = "Yes" if statement.level == 4 else "No"
        page.get_by_role("group", name=statement.text).get_by_label(answer).check()
    page.get_by_role("button", name="Record the assessment").click()

    expect(page).to_have_url(f"{live_server.url}/maturity/customers/{customer.slug}/")
    flag = page.locator("#relationship .maturity-flag")
    expect(flag).to_contain_text("Provider behind its customer")
    expect(page.locator("#level")).to_contain_text("Customer-driven")

    page.goto(f"{live_server.url}/maturity/")
    expect(page.locator("#mismatches")).to_contain_text("Claims Division")
    expect(page.locator("tr.mismatch")).to_contain_text("Claims Division")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text("1 mismatch")).to_be_visible()


def test_an_unanswered_statement_is_shown_beside_it(page, live_server, login):
    manager = UserFactory(username="browser-rm", role="Service owner")
    CustomerFactory(name="Fleet Operators", relationship_manager=manager)

    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/maturity/customers/fleet-operators/")
    # A marker that survives only as long as the page is not reloaded.
    page.evaluate("window.portico_marker = 'same page'")
    page.get_by_role("button", name="Record an assessment").click()
    form = page.locator("#assessment-form")
    expect(form).to_be_visible()  # loaded in place by htmx
    expect(page).to_have_url(f"{live_server.url}/maturity/customers/fleet-operators/")
    first, *rest = statements_for("customer")
    for statement in rest:
        form.get_by_role("group", name=statement.text).get_by_label("No").check()
    form.get_by_role("button", name="Record the assessment").click()

    group = form.get_by_role("group", name=first.text)
    expect(group).to_contain_text("Answer No, Partly or Yes.")
    expect(page.locator("#history")).to_contain_text("No assessments yet")
    assert page.evaluate("window.portico_marker") == "same page"
