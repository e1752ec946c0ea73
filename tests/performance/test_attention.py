"""The attention list: every missed, stale and not-measured item and outcome of live
services, filtered by owner, service, customer and value stream; the owner's dashboard
panel ("n of your targets were missed last month") and the portfolio manager's counts."""

import datetime

import pytest
from django.utils import timezone

from performance import selectors
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.performance.helpers import figure
from tests.performance.helpers import functioning_item
from tests.performance.helpers import outcome_of

DAY = datetime.timedelta(days=1)


def today():
    return timezone.localdate()


def last_month() -> datetime.date:
    return today().replace(day=1) - DAY


@pytest.fixture
def portfolio(service_owner, other_owner):
    """Two live services of two owners: on the first, one item met, one missed last month,
    one stale, one never measured; on the second, one missed. An outcome relies on the
    first service's missed item; a retired service's unmeasured item is left out."""
    claims = ServiceFactory(name="Claims", slug="claims", owner=service_owner, lifecycle="live")
    billing = ServiceFactory(name="Billing", slug="billing", owner=other_owner, lifecycle="live")
    old = ServiceFactory(name="Old", slug="old", owner=service_owner, lifecycle="retired")
    items = {
        "met": functioning_item(claims, "Met item"),
        "missed": functioning_item(claims, "Missed item"),
        "stale": functioning_item(claims, "Stale item"),
        "unmeasured": functioning_item(claims, "Unmeasured item"),
        "billing": functioning_item(billing, "Billing item"),
        "retired": functioning_item(old, "Retired item"),
    }
    figure(item=items["met"], end=last_month(), value="99.9")
    figure(item=items["missed"], end=last_month(), value="98")
    figure(item=items["stale"], end=today() - 120 * DAY, value="99.9")
    figure(item=items["billing"], end=last_month(), value="97")
    customer = CustomerFactory(name="Retail", slug="retail")
    SubscriptionFactory(customer=customer, service=billing)
    outcome = outcome_of(claims, item=items["missed"])
    StageServiceFactory(service=claims)
    return {**items, "customer": customer, "outcome": outcome}


def listed(client, query="") -> list[str]:
    response = client.get(f"/performance/attention/?{query}")
    assert response.status_code == 200
    table = response.context["table"]
    return sorted(row.record.title for row in table.page.object_list)


@pytest.mark.django_db
def test_attention_list_shows_missed_stale_and_not_measured_items_of_live_services(
    client, viewer, portfolio
):
    client.force_login(viewer)
    assert listed(client) == [
        "Billing item", "Missed item", "Stale item", "Unmeasured item",
    ]  # fmt: skip
    assert listed(client, "status=stale") == ["Stale item"]
    assert listed(client, "status=not_measured") == ["Unmeasured item"]


@pytest.mark.django_db
def test_attention_list_filters_by_owner_service_customer_and_value_stream(
    client, viewer, portfolio, other_owner
):
    client.force_login(viewer)
    assert listed(client, f"owner={other_owner.username}") == ["Billing item"]
    assert listed(client, "service=claims") == ["Missed item", "Stale item", "Unmeasured item"]
    assert listed(client, "customer=retail") == ["Billing item"]
    stream = portfolio["outcome"].subscription.service.stage_links.get().stage.value_stream
    assert listed(client, f"value_stream={stream.slug}") == [
        "Missed item", "Stale item", "Unmeasured item",
    ]  # fmt: skip


@pytest.mark.django_db
def test_attention_list_of_outcomes_shows_the_outcome_at_risk(client, viewer, portfolio):
    client.force_login(viewer)
    response = client.get("/performance/attention/outcomes/")
    rows = [(row.record.pk, row.record.status) for row in response.context["table"].page]
    assert rows == [(portfolio["outcome"].pk, "at_risk")]
    assert "At risk" in response.content.decode()


@pytest.mark.django_db
def test_dashboard_tells_the_owner_how_many_targets_were_missed_last_month(
    client, service_owner, portfolio
):
    client.force_login(service_owner)
    page = client.get("/").content.decode()
    month = last_month().strftime("%B %Y")
    # Claims' four live items; the retired service's is not counted.
    assert f"1 of your 4 targets was missed in {month}" in page
    assert "1 stale" in page
    assert "Across the portfolio" not in page


@pytest.mark.django_db
def test_portfolio_manager_dashboard_counts_what_needs_attention(
    client, portfolio_manager, portfolio
):
    counts = selectors.attention_counts(today())
    assert counts == selectors.AttentionCounts(
        missed=2, stale=1, not_measured=1, outcomes_at_risk=1, outcomes_missed=0
    )
    client.force_login(portfolio_manager)
    page = client.get("/").content.decode()
    assert "Across the portfolio" in page
    assert '<span class="badge bad">2 missed</span>' in page
