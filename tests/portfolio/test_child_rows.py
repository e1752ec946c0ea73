"""The rows edited in place on a customer, contract or application page also work without
JavaScript: the form is a page of its own, and a save returns to the row's section."""

import pytest
from django.urls import reverse

from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.portfolio.helpers import is_partial

pytestmark = pytest.mark.django_db


def subscription_case():
    customer, service = CustomerFactory(), ServiceFactory()
    data = {
        "service": service.slug,
        "units": "20",
        "unit_name": "vehicle",
        "price_per_unit": "5",
        "currency": "EUR",
        "start_date": "2025-01-01",
    }
    url = reverse("portfolio:subscription_add", args=[customer.slug])
    return customer, url, data, customer.subscriptions, "subscription-{pk}"


def outcome_case():
    subscription = SubscriptionFactory()
    customer = subscription.customer
    data = {"statement": "Back on the road the same day", "agreement": "proposed"}
    url = reverse("portfolio:outcome_add", args=[customer.slug, subscription.pk])
    return customer, url, data, subscription.outcomes, f"subscription-{subscription.pk}"


def coverage_case():
    contract = ContractFactory()
    data = {"service": ServiceFactory().slug, "weight": "2"}
    url = reverse("portfolio:coverage_add", args=[contract.pk])
    return contract, url, data, contract.coverages, "coverages"


def support_case():
    application = ApplicationFactory()
    data = {"service": ServiceFactory().slug, "weight": "2"}
    url = reverse("portfolio:support_add", args=[application.slug])
    return application, url, data, application.supports, "supports"


@pytest.mark.parametrize(
    "make_case", [subscription_case, outcome_case, coverage_case, support_case]
)
def test_child_row_added_without_javascript(client, portfolio_manager, make_case):
    parent, url, data, rows, anchor = make_case()
    client.force_login(portfolio_manager)

    page = client.get(url)
    assert page.status_code == 200 and not is_partial(page)
    body = page.content.decode()
    assert f'<form method="post" action="{url}"' in body
    assert f'href="{parent.get_absolute_url()}"' in body  # breadcrumb and cancel

    bad = client.post(url, {})
    assert bad.status_code == 422 and not is_partial(bad)
    assert not rows.exists()

    saved = client.post(url, data)
    row = rows.get()
    assert saved.status_code == 302
    assert saved["Location"] == f"{parent.get_absolute_url()}#{anchor.format(pk=row.pk)}"
