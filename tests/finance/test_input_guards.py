"""Input guards in the browser and the services: a period far from today is not opened, and a
currency must be an ISO 4217 code (the API's side: tests/api/test_input_guards.py)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse

from finance import services
from finance.models import CostItem
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import serial_label
from portfolio.models import Contract
from portfolio.models import Subscription
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from tests.portfolio.helpers import contract_data

pytestmark = pytest.mark.django_db

NOT_ISO = "XYZ is not an ISO 4217 currency code."


def too_early(label: str = "1900-01") -> str:
    first, last = (serial_label(serial) for serial in services.period_window())
    return (
        f"{label} is more than 10 years before the current month: a new period is opened "
        f"from {first} to {last}."
    )


def cost_item_data(service, **overrides) -> dict:
    return {
        "description": "Racks",
        "period_label": "2025-03",
        "amount": "10.00",
        "currency": "EUR",
        "category": "vendor",
        "expenditure": "opex",
        "spread_months": "1",
        "service": service.slug,
        **overrides,
    }


# --- Periods far from today -----------------------------------------------------------------


def test_period_window_is_ten_years_back_and_five_ahead_of_the_current_month():
    december = datetime.date(2026, 12, 7)
    first, last = services.period_window(december)
    assert (serial_label(first), serial_label(last)) == ("2016-12", "2031-12")
    assert services.period_outside_window(2016, 12, december) == ""
    assert services.period_outside_window(2031, 12, december) == ""
    assert services.period_outside_window(2016, 11, december) == (
        "2016-11 is more than 10 years before the current month: a new period is opened from "
        "2016-12 to 2031-12."
    )
    assert services.period_outside_window(2032, 1, december) == (
        "2032-01 is more than 5 years after the current month: a new period is opened from "
        "2016-12 to 2031-12."
    )


def test_period_for_refuses_to_open_a_far_month_naming_the_field_and_keeps_existing_ones():
    with pytest.raises(ValidationError) as refused:
        services.period_for("1900-01", create=True)
    assert refused.value.message_dict == {"period": [too_early()]}
    assert not Period.objects.exists()
    old = PeriodFactory(year=1990, month=6)
    assert services.period_for("1990-06", create=True) == old


def test_cost_item_form_does_not_open_a_far_period(client, finance_user):
    client.force_login(finance_user)
    data = cost_item_data(ServiceFactory(), period_label="1900-01")
    response = client.post(reverse("finance:costitem_add"), data)
    assert response.status_code == 422
    assert response.context["form"].errors == {"period_label": [too_early()]}
    assert too_early() in response.content.decode()
    assert not CostItem.objects.exists() and not Period.objects.exists()


def test_rate_form_does_not_open_a_far_period(client, finance_user):
    client.force_login(finance_user)
    data = {"period_label": "1900-01", "currency": "USD", "rate": "0.9"}
    response = client.post(reverse("finance:rate_add"), data)
    assert response.status_code == 422
    assert too_early() in response.content.decode()
    assert not ExchangeRate.objects.exists() and not Period.objects.exists()


def test_period_add_does_not_open_a_far_period(client, finance_user):
    client.force_login(finance_user)
    response = client.post(reverse("finance:period_add"), {"label": "1900-01"})
    assert response.status_code == 422
    assert too_early() in response.content.decode()
    assert not Period.objects.exists()


def test_rollup_command_does_not_open_a_far_period():
    with pytest.raises(CommandError, match="1900-01 is more than 10 years before"):
        call_command("rollup_tco", "--period", "1900-01", "--create")
    assert not Period.objects.exists()


# --- ISO 4217 currencies ----------------------------------------------------------------------


def test_cost_item_form_takes_iso_4217_currencies_only(client, finance_user):
    client.force_login(finance_user)
    service = ServiceFactory()
    response = client.post(reverse("finance:costitem_add"), cost_item_data(service, currency="XYZ"))
    assert response.status_code == 422
    assert response.context["form"].errors == {"currency": [NOT_ISO]}
    assert NOT_ISO in response.content.decode()
    ok = client.post(reverse("finance:costitem_add"), cost_item_data(service, currency="JPY"))
    assert ok.status_code == 302
    assert CostItem.objects.get().currency == "JPY"


def test_rate_form_takes_iso_4217_currencies_only(client, finance_user):
    client.force_login(finance_user)
    data = {"period_label": "2025-03", "currency": "XYZ", "rate": "0.9"}
    response = client.post(reverse("finance:rate_add"), data)
    assert response.status_code == 422
    assert NOT_ISO in response.content.decode()
    assert not ExchangeRate.objects.exists()


def test_contract_form_takes_iso_4217_currencies_only(client, portfolio_manager):
    client.force_login(portfolio_manager)
    supplier = SupplierFactory()
    response = client.post(
        reverse("portfolio:contract_add"), contract_data(supplier, currency="XYZ")
    )
    assert response.status_code == 422
    assert NOT_ISO in response.content.decode()
    assert not Contract.objects.exists()


def test_subscription_form_takes_iso_4217_currencies_only(client, portfolio_manager):
    client.force_login(portfolio_manager)
    customer, service = CustomerFactory(), ServiceFactory()
    data = {
        "service": service.slug,
        "units": "20",
        "unit_name": "vehicle",
        "price_per_unit": "5",
        "currency": "XYZ",
        "start_date": "2025-01-01",
    }
    url = reverse("portfolio:subscription_add", args=[customer.slug])
    response = client.post(url, data)
    assert response.status_code == 422
    assert NOT_ISO in response.content.decode()
    assert not Subscription.objects.exists()
    assert client.post(url, {**data, "currency": "EUR"}).status_code in (200, 302)
    assert Subscription.objects.get().price_per_unit == Decimal("5")
