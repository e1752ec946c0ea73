import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from core import roles
from portfolio.models import Service
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_portfolio_manager_deactivates_a_person_handing_over_what_they_own(
    page, live_server, login
):
    manager = UserFactory(username="pm-browser", role=roles.PORTFOLIO_MANAGER)
    leaver = UserFactory(
        username="leaver", first_name="Lena", last_name="Leaver", role=roles.SERVICE_OWNER
    )
    UserFactory(username="heir", first_name="Hugo", last_name="Heir", role=roles.SERVICE_OWNER)
    ServiceFactory(name="Claims intake", owner=leaver, lifecycle="live")

    login(manager.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}/people/")
    row = page.get_by_role("row", name="Lena Leaver")
    expect(row).to_contain_text("1 service")
    row.get_by_role("link", name="Lena Leaver").click()
    expect(page.get_by_role("heading", name="Lena Leaver", level=1)).to_be_visible()
    page.get_by_role("button", name="Deactivate").click()  # a link drawn as a button
    expect(page.get_by_role("link", name="Claims intake")).to_be_visible()

    # Without a successor it is refused, in place, with what she owns.
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("still owns 1 record in use")).to_be_visible()
    assert get_user_model().objects.get(username="leaver").is_active

    page.get_by_label("Successor").select_option(label="Hugo Heir")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Deactivated leaver")).to_be_visible()
    assert not get_user_model().objects.get(username="leaver").is_active
    assert Service.objects.get(name="Claims intake").owner.username == "heir"
