"""A write to an API address that does not exist is told so (404), not refused for a missing
CSRF token."""

import pytest
from django.test import Client

from core.api.tokens import issue_token
from tests.api.conftest import ApiClient


@pytest.fixture
def api(portfolio_manager):
    _, secret = issue_token(user=portfolio_manager, name="script", write=True)
    return ApiClient(secret)


@pytest.mark.django_db
def test_a_write_to_an_unknown_api_address_is_a_json_404(api, portfolio_manager):
    # A client that checks CSRF as a browser's requests are checked.
    api.client = Client(enforce_csrf_checks=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(portfolio_manager)
    for client in (api, browser):
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)("/api/v1/no-such-thing/")
            assert response.status_code == 404, (method, response.content[:200])
            assert response.json()["code"] == "not_found"
