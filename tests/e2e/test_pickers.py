"""Pickers in Chromium, at a desktop's width and a phone's: a dependency's provider chosen by
typing its name, and the warning before a second service of the same name."""

import pytest
from playwright.sync_api import expect

from portfolio.models import Service
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("width", [1440, 390])
def test_a_provider_is_picked_by_typing_its_name(page, live_server, login, width):
    page.set_viewport_size({"width": width, "height": 900})
    manager = UserFactory(username="browser-pm", role="Portfolio manager")
    owner = UserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    ServiceFactory(name="Billing and payments", slug="billing-and-payments", owner=owner)
    ServiceFactory(name="Billing archive", slug="billing-archive")
    consumer = ServiceFactory(name="Claims intake", slug="claims-intake")
    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{consumer.get_absolute_url()}")

    dependencies = page.locator("#dependencies")
    box = dependencies.get_by_role("combobox", name="Provider")
    box.scroll_into_view_if_needed()
    box.press_sequentially("bill pay")
    option = page.get_by_role("option", name="Billing and payments")
    expect(option).to_be_visible()
    expect(option).to_contain_text("Service")
    expect(option).to_contain_text("Ada Lovelace")
    expect(page.get_by_role("option", name="Billing archive")).to_have_count(0)
    expect(box).to_have_attribute("aria-expanded", "true")
    bounds = option.bounding_box()
    assert bounds and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width + 1

    option.click()
    expect(box).to_have_value("Billing and payments")
    expect(page.locator("input[name=provider-key]")).to_have_value("billing-and-payments")
    expect(dependencies.locator(".picker-options [role=option]")).to_have_count(0)
    dependencies.get_by_role("spinbutton", name="Weight").fill("2")
    dependencies.get_by_role("button", name="Add dependency").click()

    provider = dependencies.get_by_role("link", name="Billing and payments", exact=True)
    expect(provider).to_be_visible()
    assert consumer.provider_links.get().provider.slug == "billing-and-payments"


@pytest.mark.parametrize("width", [1440, 390])
def test_a_second_service_of_a_name_is_created_only_when_confirmed(page, live_server, login, width):
    page.set_viewport_size({"width": width, "height": 900})
    manager = UserFactory(username="browser-pm", role="Portfolio manager")
    existing = ServiceFactory(name="Billing and payments", slug="billing-and-payments")
    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/services/new/")

    page.locator("#id_name").fill("Billing and Payments")
    page.locator("#id_kind").select_option("customer_facing")
    page.locator("#id_lifecycle").select_option("pipeline")
    page.locator("#id_criticality").select_option("high")
    page.get_by_role("button", name="Save").click()

    warning = page.locator("#namesakes")
    expect(warning).to_contain_text("A service named “Billing and Payments” already exists")
    link = warning.get_by_role("link", name="Billing and payments")
    expect(link).to_have_attribute("href", existing.get_absolute_url())
    bounds = warning.bounding_box()
    assert bounds and bounds["x"] + bounds["width"] <= width + 1
    assert Service.objects.count() == 1

    page.get_by_role("button", name="Create anyway").click()
    expect(page).to_have_url(f"{live_server.url}/services/billing-and-payments-2/")
    assert Service.objects.count() == 2


@pytest.mark.parametrize("width", [1440, 390])
def test_an_owner_and_a_delegate_are_picked_by_typing_their_names(page, live_server, login, width):
    page.set_viewport_size({"width": width, "height": 900})
    manager = UserFactory(username="browser-pm", role="Portfolio manager")
    UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="Service owner")
    UserFactory(username="adam", first_name="Adam", last_name="Smith", role="Viewer")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Byte", role="Viewer")
    former = UserFactory(username="cy", first_name="Cy", last_name="Press", role="Viewer")
    service = ServiceFactory(name="Claims intake", slug="claims-intake")
    service.delegates.add(former)
    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/services/claims-intake/edit/")

    owner = page.get_by_role("combobox", name="Owner")
    owner.fill("")
    owner.press_sequentially("ada lo")
    option = page.get_by_role("option", name="Ada Lovelace")
    expect(option).to_be_visible()
    expect(option).to_contain_text("Person")
    expect(option).to_contain_text("ada")
    expect(page.get_by_role("option", name="Adam Smith")).to_have_count(0)  # may not own it
    bounds = option.bounding_box()
    assert bounds and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width + 1
    option.click()
    expect(owner).to_have_value("Ada Lovelace")

    delegates = page.get_by_role("combobox", name="Delegates")
    expect(delegates).to_have_value("")  # the chosen are chips, not text
    page.get_by_role("button", name="Remove Cy Press").click()
    delegates.press_sequentially("bob")
    page.get_by_role("option", name="Bob Byte").click()
    expect(delegates).to_have_value("")
    chip = page.locator(".picker-chip", has_text="Bob Byte")
    expect(chip).to_be_visible()
    chip_bounds = chip.bounding_box()
    assert chip_bounds and chip_bounds["x"] + chip_bounds["width"] <= width + 1
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(f"{live_server.url}/services/claims-intake/")
    service.refresh_from_db()
    assert service.owner.username == "ada"
    assert [person.pk for person in service.delegates.all()] == [bob.pk]
