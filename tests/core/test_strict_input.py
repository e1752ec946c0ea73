"""Strict API input: text is text, a number written as text is written plainly, a choice error
says what the choices are, and a write to an address that does not exist is told so (404), not
refused for a missing CSRF token."""

import re

import pytest
from django.test import Client

from core.api.fields import DECIMAL_TEXT
from core.api.fields import INTEGER_TEXT
from core.api.fields import FieldInvalid
from core.api.fields import decimal_converter
from core.api.resources import autodiscover
from core.api.tokens import issue_token
from tests.api.conftest import ApiClient
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import SubscriptionFactory

# Read by Python as a number, and refused: padding, underscores, leading zeros, exponents,
# other scripts' digits, a plus sign.
MISWRITTEN = [" 12", "12 ", "1_000", "012", "١٢", "1e3", "+12", "", "12.", ".5", "0x1A"]


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


@pytest.mark.django_db
def test_text_fields_refuse_numbers(api):
    response = api.post("/api/v1/services/", {"name": 12, "kind": "supporting"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": ["Expected a string."]}
    item = {"external_id": 7, "name": "Claims", "kind": "supporting"}
    response = api.post("/api/v1/sync/services/", {"source": "cmdb", "items": [item]})
    assert response.status_code == 400
    assert response.json()["errors"] == {"items.0.external_id": ["Expected a string."]}


@pytest.mark.django_db
def test_integers_written_as_text_are_written_plainly(api):
    contract = ContractFactory()
    url = f"/api/v1/contracts/{contract.pk}/"
    for text in MISWRITTEN:
        response = api.patch(url, {"notice_period_days": text})
        assert response.status_code == 400, text
        assert response.json()["errors"] == {"notice_period_days": [INTEGER_TEXT]}, text
    for sent, stored in (("30", 30), (45, 45), ("0", 0)):
        assert api.patch(url, {"notice_period_days": sent}).status_code == 200
        contract.refresh_from_db()
        assert contract.notice_period_days == stored


@pytest.mark.django_db
def test_decimals_written_as_text_are_written_plainly(api):
    subscription = SubscriptionFactory()
    url = f"/api/v1/subscriptions/{subscription.pk}/"
    for text in MISWRITTEN:
        response = api.patch(url, {"units": text})
        assert response.status_code == 400, text
        assert response.json()["errors"] == {"units": [DECIMAL_TEXT]}, text
    for sent in ("12", "12.5", "0.25", 7):
        assert api.patch(url, {"units": sent}).status_code == 200, sent


@pytest.mark.django_db
def test_a_choice_error_lists_the_choices(api):
    response = api.post("/api/v1/services/", {"name": "Claims", "kind": "nope"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "kind": ["“nope” is not a valid choice: use one of customer_facing, internal, supporting."]
    }


def test_the_schema_pattern_of_a_decimal_is_what_the_api_takes():
    """The schema publishes a pattern for every decimal field: it must take exactly the text
    the field's converter takes as written (its range is the field's own business). A pattern
    a resource writes itself (``schemas``) is its own to keep in step."""
    samples = [*MISWRITTEN, "0", "-0.5", "1", "1.5", "-1.05", "00", "1.2.3", "-", "1e-2"]
    checked = 0
    for resource in autodiscover():
        for spec in resource.writable.values():
            if spec.schema.get("format") != "decimal" or spec.name in resource.schemas:
                continue
            convert = decimal_converter(spec.model_field)
            for text in samples:
                try:
                    convert(text)
                    written_right = True
                except FieldInvalid as exc:
                    if exc.messages[0].startswith("Ensure that there are no more than"):
                        continue  # too many digits for this field: the pattern says so too
                    written_right = exc.messages != [DECIMAL_TEXT]
                published = re.fullmatch(spec.schema["pattern"].strip("^$"), text) is not None
                assert published == written_right, (resource.name, spec.name, text)
                checked += 1
    assert checked > 100
