import pytest
from playwright.sync_api import expect

from portfolio.models import Outcome
from portfolio.models import Subscription
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_relationship_manager_adds_a_subscription_and_an_outcome_in_place(page, live_server, login):
    manager = UserFactory(username="rm-browser", role="Service owner")
    customer = CustomerFactory(name="Fleet operators", relationship_manager=manager)
    ServiceFactory(name="Roadside assistance", slug="roadside-assistance")
    ServiceFactory(name="Online claims", slug="online-claims")

    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Fleet operators", level=1)).to_be_visible()
    # A marker that survives only as long as the page is not reloaded.
    page.evaluate("window.portico_marker = 'same page'")

    page.get_by_role("button", name="Add subscription").click()
    service = page.get_by_label("Service")
    service.press_sequentially("roadside", delay=20)
    # The suggestions arrive under the box, filled by htmx as the user types.
    options = page.locator("#subscriptions .picker-options [role=option]")
    expect(options).to_have_count(1)
    expect(options).to_have_attribute("data-pick-key", "roadside-assistance")
    options.click()
    expect(service).to_have_value("Roadside assistance")
    page.get_by_label("Units").fill("40")
    page.get_by_label("Unit name").fill("vehicle")
    page.get_by_label("Start date").fill("2025-01-01")
    # A bad post first: no price. The errors appear beside the field, nothing is saved.
    page.get_by_role("button", name="Add subscription").click()
    expect(page.get_by_text("Give a price per unit or an annual charge.")).to_be_visible()
    assert not Subscription.objects.exists()

    page.get_by_label("Price per unit").fill("7.50")
    page.get_by_role("button", name="Add subscription").click()
    subscription_card = page.locator("article.subscription", has_text="Roadside assistance")
    expect(subscription_card).to_be_visible()
    expect(subscription_card).to_contain_text("3,600.00 EUR")  # 40 × 7.50 × 12
    expect(page.get_by_text("3,600.00 EUR").first).to_be_visible()

    subscription_card.get_by_role("button", name="Add outcome").click()
    page.get_by_label("Statement").fill("Our drivers are back on the road the same day")
    subscription_card.get_by_role("button", name="Add outcome").click()
    # Written without a measure: shown, but flagged as not yet a Successful Customer Outcome.
    expect(subscription_card.locator(".badge", has_text="not yet an SCO")).to_be_visible()
    expect(subscription_card.locator("form.outcome-form")).to_have_count(0)

    subscription_card.get_by_role("link", name="Edit").last.click()
    page.get_by_label("Metric").fill("Vehicles mobile again within 24 hours")
    page.get_by_label("Target").fill("90")
    page.get_by_label("Unit", exact=True).fill("%")
    subscription_card.get_by_role("button", name="Save outcome").click()
    expect(subscription_card).to_contain_text("Vehicles mobile again within 24 hours: 90 %")
    expect(subscription_card).not_to_contain_text("not yet an SCO")

    assert page.evaluate("window.portico_marker") == "same page"
    outcome = Outcome.objects.get()
    assert outcome.subscription.customer == customer
    assert outcome.is_measurable
