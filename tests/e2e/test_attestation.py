"""A sync that changes alice's service breaks her attestation; she sees the change, confirms
the service, and it is attested again: in a real browser."""

import pytest
from playwright.sync_api import expect

from attestation import services
from core.api.tokens import issue_token
from tests.api.conftest import ApiClient
from tests.api.helpers import sync
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_sync_breaks_the_attestation_and_the_owner_confirms_again(page, live_server, login):
    alice = UserFactory(username="alice", role="Service owner")
    claims = ServiceFactory(
        name="Claims", slug="claims", owner=alice, source="cmdb", external_id="svc-claims"
    )
    services.attest(record=claims, user=alice)
    cmdb = UserFactory(username="cmdb-sync", role="Portfolio manager")
    _, token = issue_token(user=cmdb, name="cmdb", write=True)
    item = {
        "external_id": "svc-claims",
        "name": "Claims",
        "kind": claims.kind,
        "summary": "Claims handling as the CMDB records it",
        "owner": "alice",
    }
    assert sync(ApiClient(token), "services", [item]).status_code == 200

    login(alice.username, TEST_PASSWORD)
    page.goto(f"{live_server.url}{claims.get_absolute_url()}")
    quality = page.locator("#data-quality")
    expect(quality.get_by_role("mark")).to_have_text("Check needed")
    change = quality.get_by_role("alert", name="Change since the confirmation")
    expect(change).to_contain_text("cmdb-sync")
    expect(change).to_contain_text("Claims handling as the CMDB records it")
    change.get_by_role("link", name="see the change").click()
    expect(page.get_by_role("heading", name="History of Claims")).to_be_visible()
    page.go_back()

    page.get_by_role("button", name="Confirm as correct").click()
    expect(page.get_by_text("Confirmed Claims as correct.")).to_be_visible()
    quality = page.locator("#data-quality")
    expect(quality.get_by_role("mark")).to_have_text("Attested")
    expect(quality.get_by_role("alert", name="Change since the confirmation")).to_have_count(0)
