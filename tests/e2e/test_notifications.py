import datetime

import pytest
from playwright.sync_api import expect

from notifications import detection
from notifications import services
from notifications.models import NotificationPreference
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import SupplierFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_owner_sees_the_unread_count_reads_the_notice_and_chooses_a_digest(
    page, live_server, login
):
    owner = UserFactory(username="owner-notified", role="Service owner")
    contract = ContractFactory(
        supplier=SupplierFactory(), renewal_date=datetime.date(2027, 6, 30), owner=owner
    )
    services.record_events(detection.detect(datetime.date(2027, 1, 1)))

    login(owner.username, TEST_PASSWORD)
    header = page.get_by_role("navigation", name="Main")
    header.get_by_role("link", name="Notifications 1 unread").click()
    notice = page.get_by_role("link", name=f"Notice for {contract} is due by 01 Apr 2027")
    expect(notice).to_be_visible()
    page.get_by_role(
        "button", name=f"Mark “Notice for {contract} is due by 01 Apr 2027” read"
    ).click()
    expect(page.get_by_role("cell", name="read", exact=True)).to_be_visible()
    expect(header.get_by_role("link", name="Notifications", exact=True)).to_be_visible()

    page.get_by_role("link", name="Choose what you hear of, and how").click()
    page.get_by_label("Contract notice due").select_option("Weekly digest")
    page.get_by_role("button", name="Save choices").click()
    expect(page.get_by_text("Your notification choices are saved.")).to_be_visible()
    assert NotificationPreference.objects.get(user=owner, kind="contract_notice").delivery == (
        "weekly"
    )
