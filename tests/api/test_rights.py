"""The API grants no right the browser refuses: a record is added under a parent, and moved
to one, only by someone who may change that parent (core.permissions' parent_lookups), on
every path (the browser's page, a single API write, a sync batch)."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from finance.models import CostPool
from finance.models import ExchangeRate
from finance.models import PoolAllocation
from portfolio.models import ApplicationSupport
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier
from tests.api.helpers import sync
from tests.factories import UserFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream

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


# --- Every path asks the same rule: generated for each kind of record and each person ----------

PERSONS = {
    "viewer": roles.VIEWER,
    "owner": None,  # the owner of the parent (or of the record), in the role owners have
    "other-owner": None,  # the same role, owning another parent
    "finance": roles.FINANCE,
    "portfolio-manager": roles.PORTFOLIO_MANAGER,
}


@dataclass(frozen=True)
class AddCase:
    """Adding a record under a parent (or none), in the browser, as a single API write and in
    a sync batch: ``parent(owner)`` makes the parent an owner owns and returns the records the
    three requests need; ``browser`` the page's address and form, ``body`` the API's item."""

    resource: str
    owner_role: str
    parent: Callable[[object], dict]
    browser: Callable[[dict], tuple[str, dict]]
    body: Callable[[dict], dict]
    model: type
    # A browser form may offer only the parents the user may add under: then its refusal is
    # a 422 naming this field, not a 403.
    choices_field: str = ""


def _service(owner):
    return {"service": ServiceFactory(owner=owner, source="cmdb")}


def _customer(owner):
    return {
        "customer": CustomerFactory(relationship_manager=owner),
        "service": ServiceFactory(source="cmdb"),
    }


ADD_CASES = [
    AddCase(
        "specification-items",
        roles.SERVICE_OWNER,
        _service,
        lambda r: (
            reverse("portfolio:item_add", args=[r["service"].slug, "facility", "functionality"]),
            {"title": "Register a claim"},
        ),
        lambda r: {
            "service": r["service"].pk,
            "aspect": "facility",
            "dimension": "functionality",
            "title": "Register a claim",
        },
        SpecificationItem,
    ),
    AddCase(
        "service-dependencies",
        roles.SERVICE_OWNER,
        lambda owner: {**_service(owner), "provider": ServiceFactory()},
        lambda r: (
            reverse("portfolio:dependency_add", args=[r["service"].slug]),
            {"provider": r["provider"].slug, "weight": "1"},
        ),
        lambda r: {"consumer": r["service"].pk, "provider": r["provider"].pk},
        ServiceDependency,
    ),
    AddCase(
        "subscriptions",
        roles.SERVICE_OWNER,
        _customer,
        lambda r: (
            reverse("portfolio:subscription_add", args=[r["customer"].slug]),
            {
                "service": r["service"].slug,
                "units": "1",
                "unit_name": "policies",
                "price_per_unit": "1",
                "currency": "EUR",
                "start_date": "2026-01-01",
            },
        ),
        lambda r: {
            "customer": r["customer"].pk,
            "service": r["service"].pk,
            "units": "1",
            "unit_name": "policies",
            "price_per_unit": "1",
            "start_date": "2026-01-01",
        },
        Subscription,
    ),
    AddCase(
        "application-supports",
        roles.SERVICE_OWNER,
        lambda owner: {
            "application": ApplicationFactory(owner=owner),
            "service": ServiceFactory(),
        },
        lambda r: (
            reverse("portfolio:support_add", args=[r["application"].slug]),
            {"service": r["service"].slug, "weight": "1"},
        ),
        lambda r: {"application": r["application"].pk, "service": r["service"].pk},
        ApplicationSupport,
    ),
    AddCase(
        "pool-allocations",
        roles.SERVICE_OWNER,
        lambda owner: {
            "pool": CostPoolFactory(owner=owner),
            "service": ServiceFactory(),
        },
        lambda r: (
            reverse("finance:allocation_add", args=[r["pool"].slug]),
            {"service": r["service"].slug, "weight": "1"},
        ),
        lambda r: {"pool": r["pool"].pk, "service": r["service"].pk, "weight": "1"},
        PoolAllocation,
    ),
    AddCase(
        "stages",
        roles.VALUE_STREAM_OWNER,
        lambda owner: {"stream": ValueStreamFactory(owner=owner)},
        lambda r: (
            reverse("valuestreams:stage_add", args=[r["stream"].slug]),
            {
                "new-name": "Register the claim",
                "new-process_time": "5",
                "new-process_time_unit": "minutes",
                "new-lead_time": "10",
                "new-lead_time_unit": "minutes",
                "new-complete_accurate": "90",
                "new-value_class": "value_adding",
            },
        ),
        lambda r: {
            "value_stream": r["stream"].pk,
            "name": "Register the claim",
            "process_time_minutes": "5",
            "lead_time_minutes": "10",
        },
        Stage,
    ),
    AddCase(
        "services",
        roles.SERVICE_OWNER,
        lambda owner: {},
        lambda r: (
            reverse("portfolio:service_add"),
            {
                "name": "Quote and buy",
                "kind": "customer_facing",
                "lifecycle": "pipeline",
                "criticality": "medium",
            },
        ),
        lambda r: {"name": "Quote and buy", "kind": "customer_facing"},
        Service,
    ),
]


def _subscription(owner):
    customer = CustomerFactory(relationship_manager=owner)
    return {"customer": customer, "subscription": SubscriptionFactory(customer=customer)}


def _contract(owner):
    return {"contract": ContractFactory(owner=owner), "service": ServiceFactory()}


def _stream(owner):
    return {"stream": ValueStreamFactory(owner=owner)}


def _nothing(owner):
    return {}


MORE_ADD_CASES = [
    AddCase(
        "outcomes",
        roles.SERVICE_OWNER,
        _subscription,
        lambda r: (
            reverse("portfolio:outcome_add", args=[r["customer"].slug, r["subscription"].pk]),
            {"statement": "Claims paid within a week", "agreement": "proposed"},
        ),
        lambda r: {"subscription": r["subscription"].pk, "statement": "Claims paid within a week"},
        Outcome,
    ),
    AddCase(
        "contract-coverages",
        roles.SERVICE_OWNER,
        _contract,
        lambda r: (
            reverse("portfolio:coverage_add", args=[r["contract"].pk]),
            {"service": r["service"].slug, "weight": "1"},
        ),
        lambda r: {"contract": r["contract"].pk, "service": r["service"].pk, "weight": "1"},
        ContractCoverage,
    ),
    AddCase(
        "processes",
        roles.VALUE_STREAM_OWNER,
        _stream,
        lambda r: (
            reverse("valuestreams:process_add"),
            {"name": "Settle claims", "value_stream": r["stream"].pk},
        ),
        lambda r: {"name": "Settle claims", "value_stream": r["stream"].pk},
        Process,
        choices_field="value_stream",
    ),
    AddCase(
        "value-streams",
        roles.VALUE_STREAM_OWNER,
        _nothing,
        lambda r: (
            reverse("valuestreams:valuestream_add"),
            {
                "name": "Settle a motor claim",
                "experience": "customer",
                "segment": "Motor",
                "owner": r["user"].pk,
            },
        ),
        lambda r: {
            "name": "Settle a motor claim",
            "experience": "customer",
            "segment": "Motor",
            "owner": r["user"].username,
        },
        ValueStream,
    ),
    AddCase(
        "customers",
        roles.SERVICE_OWNER,
        _nothing,
        lambda r: (reverse("portfolio:customer_add"), {"name": "Fleet owners", "kind": "external"}),
        lambda r: {"name": "Fleet owners", "kind": "external"},
        Customer,
    ),
    AddCase(
        "suppliers",
        roles.SERVICE_OWNER,
        _nothing,
        lambda r: (reverse("portfolio:supplier_add"), {"name": "Acme Hosting"}),
        lambda r: {"name": "Acme Hosting"},
        Supplier,
    ),
    AddCase(
        "cost-pools",
        roles.SERVICE_OWNER,
        _nothing,
        lambda r: (reverse("finance:pool_add"), {"name": "Data centre"}),
        lambda r: {"name": "Data centre"},
        CostPool,
    ),
    AddCase(
        "exchange-rates",
        roles.SERVICE_OWNER,
        _nothing,
        lambda r: (
            reverse("finance:rate_add"),
            {"period_label": "2026-10", "currency": "USD", "rate": "0.9"},
        ),
        lambda r: {"period": "2026-10", "currency": "USD", "rate": "0.9"},
        ExchangeRate,
    ),
]


# Who may add each kind of record (besides the three paths agreeing on it): a portfolio
# manager anything; the owner of the parent a record under it; a role its own kinds (a
# service owner services, a value-stream owner streams, Finance cost pools, rates and
# allocations); a viewer nothing.
UNDER_A_PARENT = {"owner", "portfolio-manager"}
ALLOWED = {
    "specification-items": UNDER_A_PARENT,
    "service-dependencies": UNDER_A_PARENT,
    "subscriptions": UNDER_A_PARENT,
    "application-supports": UNDER_A_PARENT,
    "stages": UNDER_A_PARENT,
    "outcomes": UNDER_A_PARENT,
    "contract-coverages": UNDER_A_PARENT,
    "processes": UNDER_A_PARENT,
    "pool-allocations": {"owner", "finance", "portfolio-manager"},
    "services": {"owner", "other-owner", "portfolio-manager"},
    "value-streams": {"owner", "other-owner", "portfolio-manager"},
    "customers": {"portfolio-manager"},
    "suppliers": {"portfolio-manager"},
    "cost-pools": {"finance", "portfolio-manager"},
    "exchange-rates": {"finance", "portfolio-manager"},
}


def _persons() -> dict:
    made = {}
    for name, role in PERSONS.items():
        made[name] = UserFactory(username=f"rights-{name}", role=role) if role else None
    return made


def _allowed(response, choices_field: str = "") -> bool:
    """Allowed (2xx, or a redirect after a write) or refused (403, or the parent not among
    the form's choices): never anything else, so a comparison of rights is not one of bad
    input."""
    form = (getattr(response, "context", None) or {}).get("form")
    why = form.errors if form is not None else response.content[:800]
    if response.status_code == 422 and choices_field and form is not None:
        assert list(form.errors) == [choices_field], why
        return False
    assert response.status_code < 400 or response.status_code == 403, why
    return response.status_code < 400


@pytest.mark.parametrize(
    "case", ADD_CASES + MORE_ADD_CASES, ids=[c.resource for c in ADD_CASES + MORE_ADD_CASES]
)
@pytest.mark.parametrize("person", list(PERSONS))
def test_the_browser_the_api_and_a_sync_answer_an_add_alike(case, person, api_for):
    people = _persons()
    owner = UserFactory(username="rights-owner", role=case.owner_role)
    other = UserFactory(username="rights-other", role=case.owner_role)
    user = {"owner": owner, "other-owner": other}.get(person) or people[person]
    answers = {}
    for path in ("browser", "api", "sync"):
        records = {**case.parent(owner), "user": user}
        case.parent(other)  # another owner's parent beside it
        before = case.model.objects.count()
        if path == "browser":
            client = Client()
            client.force_login(user)
            url, form = case.browser(records)
            response = client.post(url, form, HTTP_HX_REQUEST="true")
            answers[path] = _allowed(response, case.choices_field)
        elif path == "api":
            response = api_for(user).post(f"/api/v1/{case.resource}/", case.body(records))
            answers[path] = _allowed(response)
        else:
            item = {**case.body(records), "external_id": f"rights-{person}"}
            answers[path] = _allowed(sync(api_for(user), case.resource, [item]))
        added = case.model.objects.count() - before
        assert added == (1 if answers[path] else 0), (path, added)
        case.model.objects.all().delete()
    assert len(set(answers.values())) == 1, answers
    assert answers["browser"] == (person in ALLOWED[case.resource]), answers


# --- Rights come before the input's errors, on every path -----------------------------------------


@pytest.mark.parametrize(
    "case", ADD_CASES + MORE_ADD_CASES, ids=[c.resource for c in ADD_CASES + MORE_ADD_CASES]
)
def test_a_viewer_sending_a_bad_item_is_refused_alike_on_every_path(case, api_for):
    """Whoever may not write learns nothing from the field errors: the browser's page, a
    single API write and a sync batch all answer 403, never a 400 naming fields."""
    viewer = UserFactory(username="rights-viewer", role=roles.VIEWER)
    owner = UserFactory(username="rights-owner", role=case.owner_role)
    records = {**case.parent(owner), "user": viewer}
    client = Client()
    client.force_login(viewer)
    url, _ = case.browser(records)
    browser = client.post(url, {}, HTTP_HX_REQUEST="true")
    api = api_for(viewer)
    bad = {**case.body(records), "no_such_field": 1}
    single = api.post(f"/api/v1/{case.resource}/", bad)
    batch = sync(api, case.resource, [{**bad, "external_id": "bad"}, {"external_id": "empty"}])
    answers = {"browser": browser.status_code, "api": single.status_code, "sync": batch.status_code}
    assert answers == {"browser": 403, "api": 403, "sync": 403}, batch.content[:800]
    assert sorted(batch.json()["errors"]) == ["items.0", "items.1"], batch.json()
    assert not case.model.objects.exists()


def test_a_viewer_changing_a_record_with_a_bad_value_is_refused_alike_on_every_path(api_for):
    service = ServiceFactory(source="cmdb", external_id="svc", slug="svc")
    viewer = UserFactory(username="rights-viewer", role=roles.VIEWER)
    client = Client()
    client.force_login(viewer)
    browser = client.post(
        reverse("portfolio:service_edit", args=[service.slug]),
        {"name": "", "kind": "no-such-kind"},
        HTTP_HX_REQUEST="true",
    )
    api = api_for(viewer)
    single = api.patch(f"/api/v1/services/{service.pk}/", {"kind": "no-such-kind"})
    batch = sync(api, "services", [{"external_id": "svc", "kind": "no-such-kind"}])
    answers = {"browser": browser.status_code, "api": single.status_code, "sync": batch.status_code}
    assert answers == {"browser": 403, "api": 403, "sync": 403}, batch.content[:800]
    assert batch.json()["errors"] == {"items.0": ["You may not change this service."]}


def test_an_owner_sending_a_bad_item_for_someone_elses_record_is_refused_as_a_single_write(
    api_for,
):
    """A service owner may write services, but not another owner's: that item answers 403 as
    a PATCH of it does, whatever its values; a bad item of their own answers 400."""
    owner = UserFactory(username="rights-owner", role=roles.SERVICE_OWNER)
    theirs = ServiceFactory(source="cmdb", external_id="theirs", owner=UserFactory())
    ServiceFactory(source="cmdb", external_id="mine", owner=owner)
    api = api_for(owner)
    single = api.patch(f"/api/v1/services/{theirs.pk}/", {"kind": "no-such-kind"})
    assert single.status_code == 403
    refused = sync(api, "services", [{"external_id": "theirs", "kind": "no-such-kind"}])
    assert refused.status_code == 403, refused.json()
    assert refused.json()["errors"] == {"items.0": ["You may not change this service."]}
    own = sync(api, "services", [{"external_id": "mine", "kind": "no-such-kind"}])
    assert own.status_code == 400 and list(own.json()["errors"]) == ["items.0.kind"]
    # Both in one batch: the refusal is answered first, the other's field errors untold.
    both = sync(
        api,
        "services",
        [{"external_id": "mine", "kind": "no-such-kind"}, {"external_id": "theirs", "name": "T"}],
    )
    assert both.status_code == 403
    assert both.json()["errors"] == {"items.1": ["You may not change this service."]}


def test_rights_on_the_parent_come_before_the_rules_as_in_a_single_write(api_for):
    """Adding under another's customer is refused before the subscription's rules run: an
    item that breaks them answers 403 on both paths, not 400 in one of them."""
    owner = UserFactory(username="rights-owner", role=roles.SERVICE_OWNER)
    CustomerFactory(relationship_manager=owner)  # she may add under her own
    theirs = CustomerFactory(relationship_manager=UserFactory(), source="cmdb", external_id="c")
    body = {
        "customer": theirs.pk,
        "service": ServiceFactory(owner=owner).pk,
        "units": "1",
        "price_per_unit": "1",
        "start_date": "2026-01-01",
        "end_date": "2025-01-01",  # before the start: the rule refuses it
    }
    api = api_for(owner)
    assert api.post("/api/v1/subscriptions/", body).status_code == 403
    batch = sync(api, "subscriptions", [{**body, "external_id": "s"}])
    assert batch.status_code == 403, batch.json()
    assert batch.json()["errors"] == {"items.0": ["You may not add this subscription."]}
