"""Lists: delta order and resumption, filters from the browser lists' FilterSets, query counts
that do not grow with the page, and the change feed."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.api.resources import autodiscover
from portfolio.models import Service
from tests.api.helpers import service_item
from tests.api.helpers import sync
from tests.api.test_budget_resources import FACTORIES as BUDGETS
from tests.api.test_cloud_resources import FACTORIES as CLOUD
from tests.api.test_finance_resources import FACTORIES as FINANCE
from tests.api.test_ledger_resources import FACTORIES as LEDGER
from tests.api.test_maturity_resources import LIST_FACTORIES as MATURITY
from tests.api.test_valuestream_resources import FACTORIES as VALUE_STREAMS
from tests.factories.people import OrganisationUnitFactory
from tests.factories.performance import MeasurementFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.portfolio import SupplierFactory

pytestmark = pytest.mark.django_db


def live_service():
    owner, _ = get_user_model().objects.get_or_create(username="list-owner")
    return ServiceFactory(lifecycle="live", owner=owner)


PORTFOLIO = {
    "services": live_service,
    "specification-items": lambda: SpecificationItemFactory(functioning=True),
    "service-dependencies": ServiceDependencyFactory,
    "customers": CustomerFactory,
    "subscriptions": SubscriptionFactory,
    "outcomes": OutcomeFactory,
    "suppliers": SupplierFactory,
    "contracts": ContractFactory,
    "contract-coverages": ContractCoverageFactory,
    "applications": ApplicationFactory,
    "application-supports": ApplicationSupportFactory,
}
# Every resource, with a function making one record of it: the tests below and the
# Schemathesis run (test_schema.py) go through each.
PERFORMANCE = {"measurements": MeasurementFactory}
FACTORIES = {
    **PORTFOLIO,
    **FINANCE,
    **MATURITY,
    **VALUE_STREAMS,
    **CLOUD,
    **LEDGER,
    **PERFORMANCE,
    **BUDGETS,
    "organisation-units": OrganisationUnitFactory,
}


def test_every_resource_has_a_factory():
    assert {r.name for r in autodiscover()} == set(FACTORIES)


@pytest.mark.parametrize("resource", sorted(FACTORIES))
def test_list_query_count_does_not_grow_with_the_page(
    resource, pm_api, django_assert_max_num_queries, django_assert_num_queries
):
    FACTORIES[resource]()
    url = f"/api/v1/{resource}/"
    pm_api.get(url)  # the token's first use is recorded once: not part of the count
    with django_assert_max_num_queries(6) as one:
        response = pm_api.get(url)
    count = len(one.captured_queries)
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    for _ in range(11):
        FACTORIES[resource]()
    with django_assert_num_queries(count):
        response = pm_api.get(url, page_size=12)
    assert len(response.json()["results"]) >= 12


@pytest.mark.parametrize("resource", sorted(FACTORIES))
def test_detail_of_every_resource_matches_its_list_row(resource, pm_api):
    record = FACTORIES[resource]()
    listed = pm_api.get(f"/api/v1/{resource}/", page_size=1000)
    row = next(r for r in listed.json()["results"] if r["id"] == record.pk)
    detail = pm_api.get(f"/api/v1/{resource}/{record.pk}/")
    assert detail.status_code == 200 and detail.json() == row


def test_list_is_ordered_by_update_and_resumes_with_the_cursor(pm_api):
    services = [ServiceFactory() for _ in range(5)]
    # Touch the first again: it moves to the end of the delta order.
    services[0].summary = "changed"
    services[0].save()
    first = pm_api.get("/api/v1/services/", page_size=2)
    body = first.json()
    assert [r["id"] for r in body["results"]] == [services[1].pk, services[2].pk]
    second = pm_api.get(body["next"])
    assert [r["id"] for r in second.json()["results"]] == [services[3].pk, services[4].pk]
    third = pm_api.get(second.json()["next"]).json()
    assert [r["id"] for r in third["results"]] == [services[0].pk] and third["next"] is None


def test_rows_sharing_one_update_time_are_paged_without_gaps_or_repeats(pm_api):
    # A sync batch writes its rows with one timestamp: the id breaks the tie.
    sync(pm_api, "services", [service_item(n) for n in range(7)])
    seen, url = [], "/api/v1/services/?page_size=3"
    while url:
        page = pm_api.get(url).json()
        seen += [r["external_id"] for r in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(f"svc-{n}" for n in range(7)) and len(seen) == 7


def test_updated_since_gives_the_delta(pm_api):
    old = ServiceFactory()
    Service.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=2))
    new = ServiceFactory()
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    response = pm_api.get("/api/v1/services/", updated_since=since)
    assert [r["id"] for r in response.json()["results"]] == [new.pk]
    bad = pm_api.get("/api/v1/services/", updated_since="last-tuesday")
    assert bad.status_code == 400 and "updated_since" in bad.json()["errors"]


def test_lists_use_the_browser_filtersets_and_refuse_unknown_parameters(pm_api):
    ServiceFactory(kind="internal", name="Payroll")
    ServiceFactory(kind="supporting", name="Hosting", source="cmdb", external_id="h")
    assert [
        r["name"] for r in pm_api.get("/api/v1/services/", kind="internal").json()["results"]
    ] == ["Payroll"]
    assert [r["name"] for r in pm_api.get("/api/v1/services/", q="host").json()["results"]] == [
        "Hosting"
    ]
    keyed = pm_api.get("/api/v1/services/", source="cmdb", external_id="h").json()["results"]
    assert [r["name"] for r in keyed] == ["Hosting"]
    assert pm_api.get("/api/v1/services/", kind="galactic").status_code == 400
    typo = pm_api.get("/api/v1/services/", knid="internal")
    assert typo.status_code == 400 and typo.json()["errors"] == {
        "knid": ["Unknown query parameter."]
    }
    assert pm_api.get("/api/v1/services/", cursor="not-a-cursor").status_code == 400
    assert pm_api.get("/api/v1/services/", page_size=5000).status_code == 400


def test_list_needs_the_view_right(api_for, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password-1")
    response = api_for(nobody).get("/api/v1/services/")
    assert response.status_code == 403


def test_changes_feed_has_creations_retirements_restorations_and_deletions(pm_api):
    sync(pm_api, "services", [service_item(n) for n in range(5)])
    link = {"consumer": {"external_id": "svc-0"}, "provider": {"external_id": "svc-1"}}
    link_id = sync(pm_api, "service-dependencies", [link]).json()["items"][0]["id"]
    sync(pm_api, "service-dependencies", [], mode="full", allow_mass_retire=True)
    sync(pm_api, "services", [service_item(n) for n in range(4)], mode="full")
    sync(pm_api, "services", [service_item(4, lifecycle="live", owner="pm")])
    feed = pm_api.get("/api/v1/changes/", page_size=100).json()["results"]
    events = [(c["resource"], c["event"], c["record"]["external_id"]) for c in feed]
    assert events == [
        *[("services", "created", f"svc-{n}") for n in range(5)],
        ("service-dependencies", "created", ""),
        ("service-dependencies", "deleted", ""),
        ("services", "retired", "svc-4"),
        ("services", "restored", "svc-4"),
    ]
    deletion, retirement = feed[6], feed[7]
    assert deletion["record"]["id"] == link_id and deletion["after"] is None
    assert deletion["before"]["consumer_id"] == feed[0]["record"]["id"]
    assert retirement["channel"] == "sync" and retirement["sync_source"] == "cmdb"
    assert retirement["user"] == "pm" and retirement["after"]["lifecycle"] == "retired"
    assert retirement["before"]["lifecycle"] == "pipeline"


def test_changes_feed_resumes_and_filters(pm_api):
    sync(pm_api, "services", [service_item(n) for n in range(3)])
    sync(pm_api, "customers", [{"external_id": "c", "name": "C", "kind": "internal"}], source="crm")
    first = pm_api.get("/api/v1/changes/", page_size=2).json()
    rest = pm_api.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(rest["results"]) == 2 and rest["next"] is None
    ids = [c["id"] for c in first["results"] + rest["results"]]
    assert ids == sorted(ids)
    only = pm_api.get("/api/v1/changes/", resource="customers").json()["results"]
    assert [c["record"]["external_id"] for c in only] == ["c"]
    by_source = pm_api.get("/api/v1/changes/", source="crm").json()["results"]
    assert [c["resource"] for c in by_source] == ["customers"]
    later = pm_api.get("/api/v1/changes/", since=timezone.now() + datetime.timedelta(minutes=1))
    assert later.json()["results"] == []
    assert pm_api.get("/api/v1/changes/", resource="nothing").status_code == 400


def test_changes_feed_query_count_does_not_grow(pm_api, django_assert_num_queries):
    sync(pm_api, "services", [service_item(0)])
    pm_api.get("/api/v1/changes/", page_size=1)
    # The token with its user and rights (one), the feed's page and its records (two).
    with django_assert_num_queries(3):
        pm_api.get("/api/v1/changes/", page_size=1)
    sync(pm_api, "services", [service_item(n) for n in range(1, 30)])
    with django_assert_num_queries(3):
        assert len(pm_api.get("/api/v1/changes/", page_size=30).json()["results"]) == 30


def test_changes_feed_shows_only_what_the_user_may_see(api_for, django_user_model, pm_api):
    sync(pm_api, "services", [service_item(0)])
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password-1")
    assert api_for(nobody).get("/api/v1/changes/").json()["results"] == []
