"""Input guards through the API, alone and in a sync: a period far from today is not opened,
and a currency must be an ISO 4217 code (credits: test_finance_resources.py)."""

from decimal import Decimal

import pytest

from finance import services
from finance.models import CostItem
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import serial_label
from portfolio.models import Contract
from portfolio.models import Subscription
from tests.api.helpers import outcomes
from tests.api.helpers import sync
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory

pytestmark = pytest.mark.django_db


def window() -> tuple[str, str]:
    first, last = services.period_window()
    return serial_label(first), serial_label(last)


def too_early(label: str = "1900-01") -> str:
    first, last = window()
    return (
        f"{label} is more than 10 years before the current month: a new period is opened "
        f"from {first} to {last}."
    )


def too_late(label: str = "2999-12") -> str:
    first, last = window()
    return (
        f"{label} is more than 5 years after the current month: a new period is opened "
        f"from {first} to {last}."
    )


def cost_line(n, **extra) -> dict:
    return {
        "external_id": f"gl-{n}",
        "description": f"Ledger line {n}",
        "period": "2026-10",
        "amount": "100.00",
        "category": "infrastructure",
        "service": {"external_id": "hosting"},
        **extra,
    }


# --- Periods far from today -----------------------------------------------------------------


@pytest.mark.parametrize(("label", "message"), [("1900-01", too_early), ("2999-12", too_late)])
def test_a_cost_item_does_not_open_a_period_far_from_today(pm_api, label, message):
    ServiceFactory(source="cmdb", external_id="hosting")
    single = pm_api.post("/api/v1/cost-items/", {**cost_line(1, period=label), "source": "cmdb"})
    assert single.status_code == 400
    assert single.json()["errors"] == {"period": [message(label)]}
    batch = sync(pm_api, "cost-items", [cost_line(1), cost_line(2, period=label)])
    assert batch.status_code == 400
    assert batch.json()["errors"] == {"items.1.period": [message(label)]}
    assert not CostItem.objects.exists() and not Period.objects.exists()


def test_an_exchange_rate_does_not_open_a_period_far_from_today(finance_api):
    rate = {"period": "1900-01", "currency": "USD", "rate": "0.9"}
    single = finance_api.post("/api/v1/exchange-rates/", rate)
    assert single.status_code == 400 and single.json()["errors"] == {"period": [too_early()]}
    batch = sync(finance_api, "exchange-rates", [{**rate, "external_id": "r1"}], source="erp")
    assert batch.json()["errors"] == {"items.0.period": [too_early()]}
    assert not ExchangeRate.objects.exists() and not Period.objects.exists()


def test_a_period_that_exists_already_takes_cost_however_old(pm_api):
    ServiceFactory(source="cmdb", external_id="hosting")
    PeriodFactory(year=1999, month=12)
    single = pm_api.post(
        "/api/v1/cost-items/", {**cost_line(1, period="1999-12"), "source": "cmdb"}
    )
    assert single.status_code == 201, single.json()
    batch = sync(pm_api, "cost-items", [cost_line(2, period="1999-12")])
    assert outcomes(batch) == ["created"]


def test_the_window_follows_the_settings(pm_api, settings):
    settings.PORTICO_PERIOD_YEARS_BACK = 0
    settings.PORTICO_PERIOD_YEARS_AHEAD = 0
    ServiceFactory(source="cmdb", external_id="hosting")
    this_month, _ = window()
    accepted = sync(pm_api, "cost-items", [cost_line(1, period=this_month)])
    assert outcomes(accepted) == ["created"]
    earlier = serial_label(services.period_window()[0] - 1)
    refused = sync(pm_api, "cost-items", [cost_line(2, period=earlier)])
    assert refused.json()["errors"] == {
        "items.0.period": [
            f"{earlier} is more than 0 years before the current month: a new period is "
            f"opened from {this_month} to {this_month}."
        ]
    }


# --- ISO 4217 currencies ----------------------------------------------------------------------

NOT_ISO = "XYZ is not an ISO 4217 currency code."


@pytest.fixture
def finance_api(finance_user, api_for):
    return api_for(finance_user)


def test_cost_items_take_iso_4217_currencies_only(pm_api):
    ServiceFactory(source="cmdb", external_id="hosting")
    single = pm_api.post("/api/v1/cost-items/", {**cost_line(1, currency="XYZ"), "source": "cmdb"})
    assert single.status_code == 400 and single.json()["errors"] == {"currency": [NOT_ISO]}
    batch = sync(pm_api, "cost-items", [cost_line(1, currency="JPY"), cost_line(2, currency="XYZ")])
    assert batch.json()["errors"] == {"items.1.currency": [NOT_ISO]}
    assert not CostItem.objects.exists()
    accepted = sync(pm_api, "cost-items", [cost_line(1, currency="JPY")])
    assert outcomes(accepted) == ["created"]


def test_exchange_rates_take_iso_4217_currencies_only(finance_api):
    rate = {"period": "2026-10", "currency": "XYZ", "rate": "0.9"}
    single = finance_api.post("/api/v1/exchange-rates/", rate)
    assert single.status_code == 400 and single.json()["errors"] == {"currency": [NOT_ISO]}
    batch = sync(finance_api, "exchange-rates", [{**rate, "external_id": "r1"}], source="erp")
    assert batch.json()["errors"] == {"items.0.currency": [NOT_ISO]}
    assert not ExchangeRate.objects.exists()


def test_contracts_take_iso_4217_currencies_only(pm_api):
    SupplierFactory(source="erp", external_id="acme")
    contract = {
        "external_id": "k1",
        "supplier": {"external_id": "acme"},
        "reference": "C-1",
        "title": "Hosting",
        "start_date": "2025-01-01",
        "annual_value": "1000.00",
        "currency": "XYZ",
    }
    single = pm_api.post("/api/v1/contracts/", {**contract, "source": "erp"})
    assert single.status_code == 400 and single.json()["errors"] == {"currency": [NOT_ISO]}
    batch = sync(pm_api, "contracts", [contract], source="erp")
    assert batch.json()["errors"] == {"items.0.currency": [NOT_ISO]}
    assert not Contract.objects.exists()
    assert outcomes(sync(pm_api, "contracts", [{**contract, "currency": "CHF"}], source="erp")) == [
        "created"
    ]


def test_subscriptions_take_iso_4217_currencies_only(pm_api):
    ServiceFactory(source="crm", external_id="claims")
    CustomerFactory(source="crm", external_id="cust")
    subscription = {
        "external_id": "sub",
        "customer": {"external_id": "cust"},
        "service": {"external_id": "claims"},
        "start_date": "2025-01-01",
        "annual_charge": "1200.00",
        "currency": "XYZ",
    }
    single = pm_api.post("/api/v1/subscriptions/", {**subscription, "source": "crm"})
    assert single.status_code == 400 and single.json()["errors"] == {"currency": [NOT_ISO]}
    batch = sync(pm_api, "subscriptions", [subscription], source="crm")
    assert batch.json()["errors"] == {"items.0.currency": [NOT_ISO]}
    assert not Subscription.objects.exists()
    good = sync(pm_api, "subscriptions", [{**subscription, "currency": "GBP"}], source="crm")
    assert outcomes(good) == ["created"]
    assert Subscription.objects.get().annual_charge == Decimal("1200.00")
