"""A number written as people write it (12,5; 1,234.50; 1 234; € 12.50; 12 %) is refused with
what to write instead, in the API, a sync and the browser forms alike (core.number_hints)."""

import pytest

from core.api.fields import DECIMAL_TEXT
from core.api.tokens import issue_token
from core.number_hints import hint
from portfolio.forms import ContractForm
from tests.api.conftest import ApiClient
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import SubscriptionFactory

SEPARATOR = "Expected a decimal number; use a dot as the decimal separator: 12.5"


@pytest.mark.parametrize(
    ("text", "integer", "expected"),
    [
        ("12,5", False, SEPARATOR),
        (
            "1,234.50",
            False,
            "Expected a decimal number; leave out the thousands separators: 1234.50",
        ),
        ("1.234,50", False, "leave out the thousands separators and use a dot as the decimal"),
        ("1 234", True, "Expected an integer; leave out the thousands separators: 1234"),
        (
            "1\u00a0234",
            False,
            "Expected a decimal number; leave out the thousands separators: 1234",
        ),
        ("1,234", True, "Expected an integer; leave out the thousands separators: 1234"),
        ("1,234", False, ": 1234 (or 1.234 if the comma separates decimals)"),
        (
            "€ 12.50",
            False,
            "leave out the currency sign (the currency is a field of its own): 12.50",
        ),
        ("12.50 EUR", False, "leave out the currency sign"),
        ("12 %", False, "Expected a decimal number; leave out the percent sign: 12"),
        ("-3,5", False, ": -3.5"),
    ],
)
def test_a_number_written_the_local_way_gets_a_hint(text, integer, expected):
    message = hint(text, integer=integer)
    assert message is not None and expected in message, message


@pytest.mark.parametrize("text", ["12.5", "abc", "1,2,3", "12,", "1_000", "", "1.23.4", "12,5"])
def test_no_hint_when_there_is_nothing_better_to_say(text):
    if text == "12,5":  # an integer field: 12.5 would be refused as well
        assert hint(text, integer=True) is None
    else:
        assert hint(text) is None


@pytest.fixture
def api(portfolio_manager):
    _, secret = issue_token(user=portfolio_manager, name="script", write=True)
    return ApiClient(secret)


@pytest.mark.django_db
def test_the_api_and_a_sync_give_the_hint(api):
    subscription = SubscriptionFactory()
    response = api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"units": "12,5"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"units": [SEPARATOR]}
    contract = ContractFactory()
    response = api.patch(f"/api/v1/contracts/{contract.pk}/", {"notice_period_days": "1 234"})
    assert response.json()["errors"] == {
        "notice_period_days": ["Expected an integer; leave out the thousands separators: 1234"]
    }
    assert api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"units": "1e3"}).json()[
        "errors"
    ] == {"units": [DECIMAL_TEXT]}

    item = {
        "external_id": "c-1",
        "supplier": contract.supplier.pk,
        "reference": "R-1",
        "title": "Support",
        "annual_value": "1,234.50",
        "currency": "EUR",
    }
    response = api.post("/api/v1/sync/contracts/", {"source": "erp", "items": [item]})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "items.0.annual_value": [
            "Expected a decimal number; leave out the thousands separators: 1234.50"
        ]
    }


@pytest.mark.django_db
def test_a_browser_form_gives_the_hint(portfolio_manager):
    contract = ContractFactory()
    data = {
        "supplier": contract.supplier.slug,
        "reference": contract.reference,
        "title": contract.title,
        "start_date": "2025-01-01",
        "notice_period_days": "1 234",
        "annual_value": "12,5",
        "currency": "EUR",
        "owner": "",
    }
    form = ContractForm(data, instance=contract, user=portfolio_manager)
    assert not form.is_valid()
    assert form.errors["annual_value"] == [SEPARATOR]
    assert form.errors["notice_period_days"] == [
        "Expected an integer; leave out the thousands separators: 1234"
    ]
