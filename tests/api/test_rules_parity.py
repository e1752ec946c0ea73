"""A bad record is refused the same way whether it comes alone (through the services.py
function) or in a sync batch (through the bulk rules of portfolio.api.bulk)."""

import pytest

from tests.api.helpers import sync
from tests.factories.portfolio import (
    ApplicationFactory,
    ContractFactory,
    CustomerFactory,
    ServiceFactory,
    SpecificationItemFactory,
    SubscriptionFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db


def setup_records():
    service = ServiceFactory(source="cmdb", external_id="svc")
    ServiceFactory(source="cmdb", external_id="old", lifecycle="retired")
    CustomerFactory(source="cmdb", external_id="cust")
    supplier = SupplierFactory(source="cmdb", external_id="acme")
    ContractFactory(supplier=supplier, reference="C-1", source="cmdb", external_id="k")
    ApplicationFactory(source="cmdb", external_id="app")
    subscription = SubscriptionFactory(source="cmdb", external_id="sub", service=service)
    other_item = SpecificationItemFactory(source="cmdb", external_id="item-elsewhere")
    return subscription, other_item


SVC = {"external_id": "svc"}
CASES = [
    ("services", {"name": "Live", "kind": "internal", "lifecycle": "live"}),
    ("services", {"name": "Odd", "kind": "galactic", "criticality": "extreme"}),
    (
        "specification-items",
        {
            "service": SVC,
            "aspect": "facility",
            "dimension": "functioning",
            "title": "Fast",
            "actual_value": "3",
        },
    ),
    ("service-dependencies", {"consumer": SVC, "provider": SVC}),
    (
        "subscriptions",
        {
            "customer": {"external_id": "cust"},
            "service": {"external_id": "old"},
            "start_date": "2025-01-01",
            "end_date": "2024-01-01",
        },
    ),
    (
        "contracts",
        {
            "supplier": {"external_id": "acme"},
            "reference": "C-1",
            "title": "Again",
            "start_date": "2025-01-01",
            "end_date": "2024-12-31",
            "renewal_date": "2024-06-01",
            "annual_value": "10.00",
        },
    ),
    ("contract-coverages", {"contract": {"external_id": "k"}}),
    (
        "contract-coverages",
        {"contract": {"external_id": "k"}, "service": SVC, "application": {"external_id": "app"}},
    ),
    ("outcomes", {"subscription": {"external_id": "sub"}, "statement": "We want it fast"}),
]


@pytest.mark.parametrize(
    ("resource", "body"), CASES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(CASES)]
)
def test_single_write_and_sync_refuse_a_bad_record_alike(pm_api, resource, body):
    _, other_item = setup_records()
    if resource == "outcomes":
        body = {**body, "specification_item": other_item.pk}
    single = pm_api.post(f"/api/v1/{resource}/", {"source": "cmdb", **body})
    assert single.status_code == 400, single.json()
    item = {**body, "external_id": "new"} if resource not in ("service-dependencies",) else body
    batch = sync(pm_api, resource, [item])
    assert batch.status_code == 400, batch.json()
    prefix = "items.0."
    from_batch = {key.removeprefix(prefix): value for key, value in batch.json()["errors"].items()}
    assert from_batch == single.json()["errors"]
