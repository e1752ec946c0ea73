"""The API grants no right the browser refuses: a record is added under a parent, and moved
to one, only by someone who may change that parent (core.permissions' parent_lookups), on
every path (the browser's page, a single API write, a sync batch)."""

import pytest
from django.urls import reverse

from finance.models import PoolAllocation
from portfolio.models import ApplicationSupport, Subscription
from tests.api.helpers import sync
from tests.factories import UserFactory
from tests.factories.finance import CostPoolFactory, PoolAllocationFactory
from tests.factories.portfolio import (
    ApplicationFactory,
    CustomerFactory,
    ServiceFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def test_a_service_owner_subscribes_no_one_elses_customer(client, service_owner, api_for):
    mine = ServiceFactory(owner=service_owner, slug="mine", source="cmdb", external_id="mine")
    theirs = CustomerFactory(relationship_manager=UserFactory(), source="cmdb", external_id="c")
    CustomerFactory(relationship_manager=service_owner)  # she may add under her own
    client.force_login(service_owner)
    browser = client.post(
        reverse("portfolio:subscription_add", args=[theirs.slug]),
        {"service": "mine", "units": "1", "price_per_unit": "1", "start_date": "2026-01-01"},
    )
    assert browser.status_code == 403
    api = api_for(service_owner)
    body = {
        "customer": theirs.pk,
        "service": mine.pk,
        "units": "1",
        "price_per_unit": "1",
        "start_date": "2026-01-01",
    }
    assert api.post("/api/v1/subscriptions/", body).status_code == 403
    batch = sync(api, "subscriptions", [{**body, "external_id": "s"}])
    assert batch.status_code == 403, batch.json()
    assert not Subscription.objects.exists()


def test_a_service_owner_moves_no_subscription_onto_someone_elses_customer(service_owner, api_for):
    subscription = SubscriptionFactory(
        service=ServiceFactory(owner=service_owner),
        customer=CustomerFactory(relationship_manager=service_owner),
        source="cmdb",
        external_id="s",
    )
    theirs = CustomerFactory(relationship_manager=UserFactory(), source="cmdb", external_id="c")
    api = api_for(service_owner)
    moved = api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"customer": theirs.pk})
    assert moved.status_code == 403, moved.json()
    batch = sync(
        api,
        "subscriptions",
        [{"external_id": "s", "customer": theirs.pk, "service": subscription.service_id}],
    )
    assert batch.status_code == 403, batch.json()
    subscription.refresh_from_db()
    assert subscription.customer_id != theirs.pk


def test_a_service_owner_attaches_no_one_elses_application(client, service_owner, api_for):
    mine = ServiceFactory(owner=service_owner, slug="mine")
    theirs = ApplicationFactory(owner=UserFactory(), source="cmdb", external_id="app")
    client.force_login(service_owner)
    browser = client.post(
        reverse("portfolio:support_add", args=[theirs.slug]), {"service": "mine", "weight": "1"}
    )
    assert browser.status_code == 403
    api = api_for(service_owner)
    body = {"application": theirs.pk, "service": mine.pk, "weight": "1"}
    assert api.post("/api/v1/application-supports/", body).status_code == 403
    assert sync(api, "application-supports", [body]).status_code == 403
    assert not ApplicationSupport.objects.exists()


def test_a_pool_owner_moves_no_allocation_into_someone_elses_pool(api_for):
    owner = UserFactory(role="Service owner")
    allocation = PoolAllocationFactory(pool=CostPoolFactory(owner=owner))
    theirs = CostPoolFactory(owner=UserFactory(role="Service owner"))
    api = api_for(owner)
    url = f"/api/v1/pool-allocations/{allocation.pk}/"
    assert api.patch(url, {"pool": theirs.pk}).status_code == 403
    replaced = api.put(
        url, {"pool": theirs.pk, "service": allocation.service_id, "weight": str(allocation.weight)}
    )
    assert replaced.status_code == 403
    allocation.refresh_from_db()
    assert allocation.pool_id != theirs.pk
    # Within the pool it stays an owner's to change.
    assert api.patch(url, {"weight": "7"}).status_code == 200
    assert PoolAllocation.objects.get(pk=allocation.pk).weight == 7
