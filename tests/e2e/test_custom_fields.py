import pytest
from playwright.sync_api import expect

from customfields.models import CustomField
from portfolio.models import Service
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_portfolio_manager_defines_a_field_sets_it_and_filters_the_list(page, live_server, login):
    manager = UserFactory(username="pm-browser", role="Portfolio manager")
    claims = ServiceFactory(name="Online claims", slug="online-claims", kind="internal")
    ServiceFactory(name="Roadside assistance", slug="roadside-assistance", kind="internal")

    login(manager.username, TEST_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Custom fields").click()
    page.get_by_role("button", name="Add custom field").click()
    page.get_by_label("Applies to").select_option(label="Services")
    page.get_by_role("textbox", name="Label").fill("Annual fee")
    page.get_by_role("textbox", name="Name").fill("fee")
    page.get_by_label("Type").select_option(label="Decimal number")
    page.get_by_label("Minimum").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Annual fee", level=1)).to_be_visible()
    assert CustomField.objects.get(name="fee").model == "portfolio.service"

    page.goto(f"{live_server.url}{claims.get_absolute_url()}edit/")
    page.get_by_label("Annual fee", exact=True).fill("-5")
    page.get_by_role("button", name="Save").click()
    # Refused beside the field, by the rule every write path shares.
    expect(page.get_by_text("Ensure this value is at least 0")).to_be_visible()
    assert Service.objects.get(pk=claims.pk).custom_fields == {}

    page.get_by_label("Annual fee", exact=True).fill("12.50")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Online claims", level=1)).to_be_visible()
    facts = page.get_by_label("Custom fields")
    expect(facts).to_contain_text("Annual fee")
    expect(facts).to_contain_text("12.5")
    assert Service.objects.get(pk=claims.pk).custom_fields == {"fee": "12.5"}

    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Services", exact=True).click()
    table = page.locator("#object-table")
    expect(table.get_by_role("columnheader", name="Annual fee")).to_be_visible()
    expect(table.get_by_role("row", name="Roadside assistance")).to_be_visible()
    page.get_by_label("Annual fee", exact=True).fill("12.5")
    page.get_by_label("Annual fee", exact=True).press("Enter")
    expect(table.get_by_role("row", name="Roadside assistance")).to_have_count(0)
    expect(table.get_by_role("row", name="Online claims")).to_contain_text("12.5")
