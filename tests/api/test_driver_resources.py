"""The drivers and driver-quantities resources and the driver of allocation edges through the
API: a round trip from a driver to the lineage of a driven result, bad input refused on its
field, and the one-driver rule in a sync batch."""

from decimal import Decimal

import pytest

from finance import services
from finance.models import DriverQuantity
from finance.models import PoolAllocation
from finance.models import TcoResult
from tests.api.helpers import outcomes
from tests.api.helpers import sync
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import DriverFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_api(finance_user, api_for):
    return api_for(finance_user)


def test_api_round_trip_of_drivers_quantities_and_a_driven_allocation(finance_api):
    created = finance_api.post("/api/v1/drivers/", {"name": "VM-hours", "unit": "VM-hour"})
    assert created.status_code == 201, created.json()
    driver = created.json()
    service = ServiceFactory(name="Claims")
    pool = CostPoolFactory(name="Compute")
    allocation = finance_api.post(
        "/api/v1/pool-allocations/",
        {"pool": pool.pk, "service": service.pk, "driver": driver["id"]},
    )
    assert allocation.status_code == 201, allocation.json()
    assert allocation.json()["driver"]["id"] == driver["id"]
    items = [
        {
            "external_id": "vm-2025-03-claims",
            "driver": driver["id"],
            "period": "2025-03",
            "service": service.pk,
            "quantity": "720.5",
        }
    ]
    first = sync(finance_api, "driver-quantities", items, source="hypervisor")
    assert first.status_code == 200, first.json()
    assert outcomes(first) == ["created"]
    again = sync(finance_api, "driver-quantities", items, source="hypervisor")
    assert outcomes(again) == ["unchanged"]
    listed = finance_api.get("/api/v1/driver-quantities/", driver=driver["id"]).json()
    (row,) = listed["results"]
    assert (row["quantity"], row["period"]["label"]) == ("720.5000", "2025-03")
    CostItemFactory(
        period=DriverQuantity.objects.get().period, pool=pool, service=None, amount=Decimal(90)
    )
    services.recompute_tco(period=DriverQuantity.objects.get().period)
    result = TcoResult.objects.get(service=service)
    lineage = finance_api.get(f"/api/v1/tco-results/{result.pk}/lineage/").json()
    (edge,) = lineage["edges"]
    assert edge["driver"] == {
        "id": driver["id"],
        "name": "VM-hours",
        "unit": "VM-hour",
        "quantity": "720.5000",
        "total": "720.5000",
    }
    assert edge["share"] == "1.000000"


def test_api_refuses_a_negative_quantity_and_a_missing_consumer_naming_the_field(finance_api):
    driver, service = DriverFactory(), ServiceFactory()
    negative = finance_api.post(
        "/api/v1/driver-quantities/",
        {"driver": driver.pk, "period": "2025-03", "service": service.pk, "quantity": "-1"},
    )
    assert negative.status_code == 400
    assert "quantity" in negative.json()["errors"]
    nobody = finance_api.post(
        "/api/v1/driver-quantities/", {"driver": driver.pk, "period": "2025-03", "quantity": "1"}
    )
    assert nobody.status_code == 400
    assert "service" in nobody.json()["errors"]
    assert not DriverQuantity.objects.exists()


def test_a_sync_batch_may_not_mix_weights_and_drivers_on_one_source(finance_api):
    pool, sites = CostPoolFactory(), DriverFactory(name="Sites")
    first, second = ServiceFactory(), ServiceFactory()
    items = [
        {"external_id": "a-1", "pool": pool.pk, "service": first.pk, "driver": sites.pk},
        {"external_id": "a-2", "pool": pool.pk, "service": second.pk, "weight": "2"},
    ]
    response = sync(finance_api, "pool-allocations", items)
    assert response.status_code == 400
    assert "Item 0" in response.json()["errors"]["items.1.driver"][0]
    assert not PoolAllocation.objects.exists()
