"""A record's page is /<section>/<slug>/: no slug may be one of the fixed addresses beside it."""

import pytest

from core.slugs import RESERVED_SLUGS
from finance import services as finance_services
from finance.models import CostPool
from portfolio import services as portfolio_services
from portfolio.models import Service
from tests.api.helpers import sync
from tests.factories.portfolio import CustomerFactory

pytestmark = pytest.mark.django_db


def test_generated_slugs_avoid_the_fixed_addresses(client, portfolio_manager):
    service = portfolio_services.save_service(service=Service(name="New", kind="internal"))
    pool = finance_services.save_pool(pool=CostPool(name="New"))
    assert (service.slug, pool.slug) == ("new-service", "new-cost-pool")
    client.force_login(portfolio_manager)
    assert client.get("/services/new-service/").status_code == 200
    assert client.get("/costs/pools/new-cost-pool/").status_code == 200


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_a_reserved_slug_is_refused_alone_and_in_a_sync(pm_api, slug):
    customer = CustomerFactory(source="cmdb", external_id="c1")
    refused = pm_api.patch(f"/api/v1/customers/{customer.pk}/", {"slug": slug})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "slug": [f"“{slug}” is the address of a page: choose another slug."]
    }
    batch = sync(pm_api, "services", [{"external_id": "s1", "name": "Odd", "slug": slug}])
    assert list(batch.json()["errors"]) == ["items.0.slug"]
    assert not Service.objects.exists()
