import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.choices import ChangeAction
from core.choices import Channel
from core.models import ObjectChange
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier
from tests.api.helpers import changes_of
from tests.api.helpers import outcomes
from tests.api.helpers import service_item
from tests.api.helpers import sync
from tests.factories import UserFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.portfolio import SupplierFactory

pytestmark = pytest.mark.django_db


def test_sync_creates_then_the_same_payload_is_unchanged_and_logs_nothing(pm_api):
    items = [service_item(n) for n in range(3)]
    first = sync(pm_api, "services", items)
    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["created"], body["updated"], body["unchanged"], body["retired"]) == (3, 0, 0, 0)
    assert [i["key"] for i in body["items"]] == [
        {"source": "cmdb", "external_id": f"svc-{n}"} for n in range(3)
    ]
    assert Service.objects.filter(source="cmdb").count() == 3
    logged = ObjectChange.objects.count()
    assert changes_of(Service, action=ChangeAction.CREATE).count() == 3

    again = sync(pm_api, "services", items)
    assert again.status_code == 200
    assert outcomes(again) == ["unchanged"] * 3
    assert ObjectChange.objects.count() == logged


def test_sync_writes_only_changed_items_with_channel_source_and_user(pm_api, portfolio_manager):
    sync(pm_api, "services", [service_item(n) for n in range(3)])
    before = {s.external_id: s.updated_at for s in Service.objects.all()}
    response = sync(
        pm_api,
        "services",
        [service_item(0), service_item(1, name="Renamed"), service_item(2, criticality="high")],
    )
    assert outcomes(response) == ["unchanged", "updated", "updated"]
    stored = {s.external_id: s for s in Service.objects.all()}
    assert stored["svc-0"].updated_at == before["svc-0"]
    assert stored["svc-1"].name == "Renamed" and stored["svc-2"].criticality == "high"
    updates = list(changes_of(Service, action=ChangeAction.UPDATE))
    assert len(updates) == 2
    for change in updates:
        assert change.channel == Channel.SYNC
        assert change.source == "cmdb"
        assert change.user == portfolio_manager and change.user_name == "pm"
    renamed = next(c for c in updates if c.object_id == str(stored["svc-1"].pk))
    assert renamed.before["name"] == "Service 1" and renamed.after["name"] == "Renamed"


def test_sync_change_record_is_the_models_own_snapshot(pm_api):
    sync(pm_api, "services", [service_item(1, lifecycle="live", owner="pm")])
    service = Service.objects.get(external_id="svc-1")
    change = changes_of(Service).get()
    assert change.after == service.changelog_snapshot()
    assert change.object_repr == "Service 1" and change.object_id == str(service.pk)


def test_sync_batch_is_atomic_and_lists_every_bad_item_by_index_and_field(pm_api):
    items = [
        service_item(0),
        service_item(1, kind="galactic"),
        service_item(2),
        {"external_id": "svc-3", "kind": "internal"},
        service_item(4, colour="blue"),
        service_item(5, lifecycle="live"),
    ]
    response = sync(pm_api, "services", items)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and "nothing was written" in body["detail"]
    assert set(body["errors"]) == {
        "items.1.kind",
        "items.3.name",
        "items.4.colour",
        "items.5.owner",
    }
    assert body["errors"]["items.4.colour"] == ["Unknown field."]
    assert body["errors"]["items.3.name"] == ["This field is required."]
    assert "accountable owner" in body["errors"]["items.5.owner"][0]
    assert not Service.objects.exists()
    assert not ObjectChange.objects.exists()


def test_sync_refuses_duplicate_keys_and_a_foreign_source(pm_api):
    response = sync(
        pm_api,
        "services",
        [service_item(1), service_item(1, name="Again"), service_item(2, source="other")],
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"items.1.external_id", "items.2.source"}


def test_sync_envelope_is_checked(pm_api):
    response = pm_api.post(
        "/api/v1/sync/services/", {"mode": "partial", "items": {}, "extra": 1, "source": ""}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"mode", "items", "extra", "source"}
    assert pm_api.post("/api/v1/sync/services/", [1, 2]).status_code == 400


def test_sync_of_more_than_5000_items_answers_413(pm_api):
    response = sync(pm_api, "services", [service_item(n) for n in range(5001)])
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_items"
    assert not Service.objects.exists()


def test_sync_resolves_references_by_external_id_by_id_and_users_by_username(pm_api):
    consumer = ServiceFactory(source="cmdb", external_id="app")
    other_source = ServiceFactory(source="netbox", external_id="db")
    by_id = ServiceFactory()
    items = [
        {"consumer": {"external_id": "app"}, "provider": {"external_id": "db", "source": "netbox"}},
        {"consumer": {"external_id": "app"}, "provider": by_id.pk, "weight": "2.5"},
        {"consumer": {"id": consumer.pk}, "provider": {"id": other_source.pk + 1000}},
    ]
    response = sync(pm_api, "service-dependencies", items)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "items.2.provider": [f"No service has id {other_source.pk + 1000}."]
    }
    response = sync(pm_api, "service-dependencies", items[:2])
    assert response.status_code == 200
    pairs = set(ServiceDependency.objects.values_list("consumer_id", "provider_id", "weight"))
    assert pairs == {
        (consumer.pk, other_source.pk, Decimal(1)),
        (consumer.pk, by_id.pk, Decimal("2.5")),
    }
    users = sync(pm_api, "services", [service_item(9, owner="nobody")])
    assert users.json()["errors"] == {
        "items.0.owner": ["No active user has the username “nobody”."]
    }


def test_sync_reference_key_must_match_the_record_given_by_id(pm_api):
    service = ServiceFactory(source="cmdb", external_id="a")
    item = {
        "external_id": "i1",
        "service": {"id": service.pk, "external_id": "b"},
        "aspect": "facility",
        "dimension": "functionality",
        "title": "Claims can be filed online",
    }
    response = sync(pm_api, "specification-items", [item])
    assert response.status_code == 400
    assert "another source or external id" in response.json()["errors"]["items.0.service"][0]


def test_link_resources_are_keyed_by_their_pair_and_removed_by_a_full_sync(pm_api):
    services = [ServiceFactory(source="cmdb", external_id=f"s{n}") for n in range(7)]
    links = [
        {"consumer": {"external_id": "s0"}, "provider": {"external_id": f"s{n}"}}
        for n in range(1, 7)
    ]
    created = sync(pm_api, "service-dependencies", links)
    assert created.json()["created"] == 6
    ids = {i["key"]["provider"]: i["id"] for i in created.json()["items"]}
    links[0]["weight"] = 3
    changed = sync(pm_api, "service-dependencies", links)
    assert outcomes(changed) == ["updated"] + ["unchanged"] * 5
    assert changed.json()["items"][0]["id"] == ids[services[1].pk]

    full = sync(pm_api, "service-dependencies", links[:5], mode="full")
    assert full.status_code == 200, full.json()
    assert full.json()["deleted"] == 1
    assert full.json()["retirements"] == [
        {
            "id": ids[services[6].pk],
            "key": {"consumer": services[0].pk, "provider": services[6].pk, "valid_from": None},
            "outcome": "deleted",
        }
    ]
    assert ServiceDependency.objects.count() == 5
    deletion = changes_of(ServiceDependency, action=ChangeAction.DELETE).get()
    assert deletion.channel == Channel.SYNC
    assert deletion.object_repr == f"{services[0].name} → {services[6].name}"
    assert deletion.before["provider_id"] == services[6].pk


def test_a_link_made_in_the_browser_is_adopted_by_the_source_that_sends_it(pm_api):
    link = ServiceDependency.objects.create(
        consumer=ServiceFactory(source="cmdb", external_id="a"),
        provider=ServiceFactory(source="cmdb", external_id="b"),
    )
    response = sync(
        pm_api,
        "service-dependencies",
        [{"consumer": {"external_id": "a"}, "provider": {"external_id": "b"}}],
    )
    assert response.json()["items"][0] == {
        "index": 0,
        "key": {"consumer": link.consumer_id, "provider": link.provider_id, "valid_from": None},
        "id": link.pk,
        "outcome": "updated",
    }
    link.refresh_from_db()
    assert link.source == "cmdb"


def test_a_link_another_source_sent_is_taken_over_only_when_the_batch_says_so(pm_api):
    consumer = ServiceFactory(source="cmdb", external_id="a")
    provider = ServiceFactory(source="cmdb", external_id="b")
    link = ServiceDependency.objects.create(
        consumer=consumer, provider=provider, source="discovery", weight=2
    )
    item = {"consumer": consumer.pk, "provider": provider.pk, "weight": "3"}
    refused = sync(pm_api, "service-dependencies", [item])
    assert refused.status_code == 400
    assert "discovery" in refused.json()["errors"]["items.0.source"][0]
    link.refresh_from_db()
    assert (link.source, link.weight) == ("discovery", 2)
    adopted = sync(pm_api, "service-dependencies", [item], adopt=True)
    assert adopted.status_code == 200, adopted.json()
    link.refresh_from_db()
    assert (link.source, link.weight) == ("cmdb", 3)


def test_full_sync_retires_services_the_source_no_longer_sends(pm_api):
    sync(pm_api, "services", [service_item(n) for n in range(6)])
    local = ServiceFactory(source="", external_id="")
    response = sync(pm_api, "services", [service_item(n) for n in range(5)], mode="full")
    assert response.status_code == 200
    body = response.json()
    assert body["retired"] == 1 and body["unchanged"] == 5
    retired = Service.objects.get(external_id="svc-5")
    assert retired.lifecycle == "retired" and retired.retired_on == timezone.localdate()
    assert body["retirements"] == [
        {"id": retired.pk, "key": {"source": "cmdb", "external_id": "svc-5"}, "outcome": "retired"}
    ]
    local.refresh_from_db()
    assert local.lifecycle == "pipeline"
    change = changes_of(Service, action=ChangeAction.UPDATE).get()
    assert change.channel == Channel.SYNC and change.after["lifecycle"] == "retired"
    # Sending the same complete set again retires nothing more and logs nothing.
    logged = ObjectChange.objects.count()
    again = sync(pm_api, "services", [service_item(n) for n in range(5)], mode="full")
    assert again.json()["retired"] == 0
    assert ObjectChange.objects.count() == logged


def test_full_sync_retiring_a_customer_ends_its_subscriptions(pm_api):
    customers = [CustomerFactory(source="crm", external_id=f"c{n}") for n in range(5)]
    subscription = SubscriptionFactory(customer=customers[4])
    response = sync(
        pm_api,
        "customers",
        [{"external_id": f"c{n}", "name": customers[n].name, "kind": "external"} for n in range(4)],
        source="crm",
        mode="full",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["retired"] == 1
    customers[4].refresh_from_db()
    subscription.refresh_from_db()
    assert customers[4].retired_at is not None and subscription.retired_at is not None


def test_full_sync_refuses_to_retire_more_than_a_fifth_unless_allowed(pm_api):
    sync(pm_api, "services", [service_item(n) for n in range(10)])
    truncated = [service_item(n) for n in range(7)]
    refused = sync(pm_api, "services", truncated, mode="full")
    assert refused.status_code == 409
    assert refused.json()["code"] == "mass_retire"
    assert "3 of the 10" in refused.json()["detail"]
    assert not Service.objects.filter(lifecycle="retired").exists()
    # Exactly a fifth is allowed.
    assert (
        sync(pm_api, "services", [service_item(n) for n in range(8)], mode="full").json()["retired"]
        == 2
    )
    allowed = sync(pm_api, "services", [service_item(0)], mode="full", allow_mass_retire=True)
    assert allowed.status_code == 200 and allowed.json()["retired"] == 7


def test_a_retired_record_sent_again_comes_back(pm_api):
    supplier = SupplierFactory(source="erp", external_id="acme", retired_at=timezone.now())
    response = sync(
        pm_api, "suppliers", [{"external_id": "acme", "name": supplier.name}], source="erp"
    )
    assert outcomes(response) == ["updated"]
    supplier.refresh_from_db()
    assert supplier.retired_at is None


def test_sync_applies_the_service_rules(pm_api, service_owner, api_for):
    response = sync(
        pm_api,
        "services",
        [service_item(1, lifecycle="live", owner="owner"), service_item(2, name="Service 1")],
    )
    assert response.status_code == 200
    live = Service.objects.get(external_id="svc-1")
    # Created live without a date: when it went live is unknown, not the day of the sync.
    assert live.live_on is None and live.pipeline_on is None
    # A generated slug is unique, as core.slugs.generate_slugs makes it.
    assert Service.objects.get(external_id="svc-2").slug == "service-1-2"
    sync(pm_api, "services", [service_item(1, lifecycle="retired", owner="owner")])
    live.refresh_from_db()
    assert live.retired_on == timezone.localdate()
    sync(pm_api, "services", [service_item(1, lifecycle="pipeline", owner="owner")])
    live.refresh_from_db()
    assert live.retired_on is None and live.pipeline_on == timezone.localdate()
    # A service owner who creates a service without an owner becomes its owner.
    owner_api = api_for(service_owner)
    sync(owner_api, "services", [service_item(3)], source="own")
    assert Service.objects.get(external_id="svc-3").owner == service_owner


def test_sync_slug_given_must_be_free(pm_api):
    ServiceFactory(slug="taken")
    response = sync(pm_api, "services", [service_item(1, slug="taken")])
    assert response.json()["errors"] == {"items.0.slug": ["Another service has this slug."]}


def test_sync_customer_slug_avoids_reserved_addresses(pm_api):
    sync(pm_api, "customers", [{"external_id": "n", "name": "New", "kind": "internal"}])
    assert Customer.objects.get().slug == "new-customer"


def test_sync_places_new_items_last_in_their_quadrant_and_keeps_statements_plain(pm_api):
    service = ServiceFactory(source="cmdb", external_id="svc")
    SpecificationItem.objects.create(
        service=service, aspect="facility", dimension="functionality", title="Old", position=4
    )
    base = {"service": {"external_id": "svc"}, "aspect": "facility"}
    items = [
        {**base, "external_id": "a", "dimension": "functionality", "title": "A", "metric": "x"},
        {**base, "external_id": "b", "dimension": "functionality", "title": "B"},
        {
            **base,
            "external_id": "c",
            "dimension": "functioning",
            "title": "Available",
            "metric": "Availability",
            "comparator": "at_least",
            "target": 99.5,
            "unit": "%",
            "window": "month",
        },
    ]
    response = sync(pm_api, "specification-items", items)
    assert response.status_code == 200, response.json()
    stored = {i.external_id: i for i in SpecificationItem.objects.exclude(external_id="")}
    assert (stored["a"].position, stored["b"].position, stored["c"].position) == (5, 6, 0)
    assert stored["a"].metric == "" and stored["c"].target == Decimal("99.5")
    # Sent again, the statement's stray measure is dropped again: nothing changes.
    assert outcomes(sync(pm_api, "specification-items", items)) == ["unchanged"] * 3


def test_sync_checks_the_functioning_measure_and_the_dependency_rules(pm_api):
    ServiceFactory(source="cmdb", external_id="s")
    item = {
        "external_id": "f",
        "service": {"external_id": "s"},
        "aspect": "support",
        "dimension": "functioning",
        "title": "Answered quickly",
        "metric": "Response time",
    }
    response = sync(pm_api, "specification-items", [item])
    assert set(response.json()["errors"]) == {
        "items.0.comparator",
        "items.0.target",
        "items.0.unit",
        "items.0.window",
    }
    self_link = {"consumer": {"external_id": "s"}, "provider": {"external_id": "s"}}
    response = sync(pm_api, "service-dependencies", [self_link])
    assert response.json()["errors"] == {"items.0.provider": ["A service cannot depend on itself."]}


def test_sync_contract_and_subscription_rules(pm_api):
    supplier = SupplierFactory(source="erp", external_id="acme")
    ContractFactory(supplier=supplier, reference="C-1")
    contract = {
        "external_id": "k1",
        "supplier": {"external_id": "acme"},
        "reference": "C-1",
        "title": "Hosting",
        "start_date": "2025-01-01",
        "renewal_date": "2024-01-01",
        "annual_value": "1000.00",
    }
    response = sync(pm_api, "contracts", [contract], source="erp")
    assert set(response.json()["errors"]) == {"items.0.reference", "items.0.renewal_date"}

    retired = ServiceFactory(source="erp", external_id="old", lifecycle="retired")
    CustomerFactory(source="erp", external_id="cust")
    subscription = {
        "external_id": "sub",
        "customer": {"external_id": "cust"},
        "service": {"external_id": "old"},
        "start_date": "2025-01-01",
        "end_date": "2024-01-01",
    }
    response = sync(pm_api, "subscriptions", [subscription], source="erp")
    assert response.json()["errors"] == {
        "items.0.service": ["This service is retired: it takes no new subscriptions."],
        "items.0.end_date": ["The end date cannot be before the start date."],
        "items.0.price_per_unit": ["Give a price per unit or an annual charge."],
    }
    assert not Subscription.objects.filter(service=retired).exists()


def test_sync_coverage_names_exactly_one_target(pm_api):
    contract = ContractFactory(source="erp", external_id="k")
    ServiceFactory(source="erp", external_id="s")
    response = sync(
        pm_api, "contract-coverages", [{"contract": {"external_id": "k"}}], source="erp"
    )
    assert response.json()["errors"] == {"items.0.service": ["Choose a service or an application."]}
    ok = sync(
        pm_api,
        "contract-coverages",
        [{"contract": {"external_id": "k"}, "service": {"external_id": "s"}}],
        source="erp",
    )
    assert ok.status_code == 200 and contract.coverages.count() == 1


def test_sync_rights_come_from_roles_and_ownership(api_for, service_owner, other_owner, viewer):
    own = ServiceFactory(source="cmdb", external_id="own", owner=service_owner)
    ServiceFactory(source="cmdb", external_id="theirs", owner=other_owner)
    owner_api = api_for(service_owner)
    ok = sync(owner_api, "services", [{"external_id": "own", "name": "Mine, renamed"}])
    assert ok.status_code == 200
    own.refresh_from_db()
    assert own.name == "Mine, renamed"
    refused = sync(
        owner_api,
        "services",
        [{"external_id": "own", "name": "Again"}, {"external_id": "theirs", "name": "Taken"}],
    )
    assert refused.status_code == 403
    assert refused.json()["errors"] == {"items.1": ["You may not change this service."]}
    own.refresh_from_db()
    assert own.name == "Mine, renamed"
    assert sync(api_for(viewer), "services", [service_item(5)]).status_code == 403
    # Unchanged items need no rights: nothing is written.
    assert sync(owner_api, "services", [{"external_id": "theirs"}]).status_code == 200


def test_sync_owner_may_add_items_to_their_own_service_only(api_for, service_owner, other_owner):
    ServiceFactory(source="cmdb", external_id="own", owner=service_owner)
    ServiceFactory(source="cmdb", external_id="theirs", owner=other_owner)
    item = {"aspect": "facility", "dimension": "functionality", "title": "Does things"}
    owner_api = api_for(service_owner)
    ok = sync(
        owner_api,
        "specification-items",
        [{**item, "external_id": "1", "service": {"external_id": "own"}}],
    )
    assert ok.status_code == 200
    refused = sync(
        owner_api,
        "specification-items",
        [{**item, "external_id": "2", "service": {"external_id": "theirs"}}],
    )
    assert refused.status_code == 403
    assert refused.json()["errors"] == {"items.0": ["You may not add this specification item."]}


def test_sync_needs_a_write_token(api_for, portfolio_manager):
    response = sync(api_for(portfolio_manager, write=False), "services", [service_item(1)])
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_full_sync_needs_the_right_to_retire(api_for, service_owner):
    theirs = UserFactory(username="someone", role="Service owner")
    ServiceFactory(source="x", external_id="a", owner=service_owner)
    ServiceFactory(source="x", external_id="b", owner=theirs)
    for n in range(8):
        ServiceFactory(source="x", external_id=f"own{n}", owner=service_owner)
    items = [{"external_id": "a"}] + [{"external_id": f"own{n}"} for n in range(8)]
    response = sync(api_for(service_owner), "services", items, source="x", mode="full")
    assert response.status_code == 403
    assert Service.objects.filter(lifecycle="retired").count() == 0


def test_sync_dates_and_decimals_are_checked(pm_api):
    CustomerFactory(source="crm", external_id="c")
    ServiceFactory(source="crm", external_id="s")
    item = {
        "external_id": "sub",
        "customer": {"external_id": "c"},
        "service": {"external_id": "s"},
        "start_date": "2025-02-30",
        "units": "1.23456",
        "price_per_unit": "abc",
        "currency": "eur",
    }
    response = sync(pm_api, "subscriptions", [item], source="crm")
    errors = response.json()["errors"]
    assert set(errors) == {
        "items.0.start_date",
        "items.0.units",
        "items.0.price_per_unit",
        "items.0.currency",
    }
    item.update(start_date="2025-02-01", units=12, price_per_unit="9.5", currency="EUR")
    ok = sync(pm_api, "subscriptions", [item], source="crm")
    assert ok.status_code == 200, ok.json()
    stored = Subscription.objects.get()
    assert stored.start_date == datetime.date(2025, 2, 1)
    assert stored.price_per_unit == Decimal("9.5000")
    assert outcomes(sync(pm_api, "subscriptions", [item], source="crm")) == ["unchanged"]


def test_full_sync_retires_suppliers_in_bulk_with_change_records(pm_api):
    for n in range(5):
        SupplierFactory(source="erp", external_id=f"v{n}", name=f"Vendor {n}")
    items = [{"external_id": f"v{n}", "name": f"Vendor {n}"} for n in range(4)]
    response = sync(pm_api, "suppliers", items, source="erp", mode="full")
    assert response.json()["retired"] == 1 and response.json()["unchanged"] == 4
    retired = Supplier.objects.get(external_id="v4")
    assert retired.retired_at is not None
    change = changes_of(Supplier, channel=Channel.SYNC).get()
    assert change.before["retired_at"] is None and change.after["retired_at"] is not None
    assert change.after == retired.changelog_snapshot()
    assert change.channel == Channel.SYNC and change.object_repr == "Vendor 4"


def test_full_sync_deletes_items_and_keeps_the_outcomes_that_named_them(pm_api):
    service = ServiceFactory(source="cmdb", external_id="s")
    base = {"service": {"external_id": "s"}, "aspect": "facility", "dimension": "functionality"}
    items = [{**base, "external_id": f"i{n}", "title": f"Item {n}"} for n in range(5)]
    sync(pm_api, "specification-items", items)
    gone = SpecificationItem.objects.get(external_id="i4")
    outcome = OutcomeFactory(subscription=SubscriptionFactory(service=service))
    outcome.specification_item = gone
    outcome.save()
    response = sync(pm_api, "specification-items", items[:4], mode="full")
    assert response.json()["deleted"] == 1
    assert not SpecificationItem.objects.filter(pk=gone.pk).exists()
    outcome.refresh_from_db()
    assert outcome.specification_item is None
    deletion = changes_of(SpecificationItem, action=ChangeAction.DELETE).get()
    assert deletion.channel == Channel.SYNC and deletion.before["title"] == "Item 4"


def test_a_sync_body_larger_than_djangos_form_limit_is_accepted(pm_api, settings):
    items = [service_item(n, summary="s" * 1000) for n in range(1500)]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000  # the body is about 1.6 MB
    response = sync(pm_api, "services", items)
    assert response.status_code == 200
    assert response.json()["created"] == 1500


def test_one_pair_has_several_edges_with_days_that_do_not_overlap(pm_api):
    consumer, provider = ServiceFactory(), ServiceFactory()
    pair = {"consumer": consumer.pk, "provider": provider.pk}
    first = sync(pm_api, "service-dependencies", [{**pair, "weight": "1"}])
    assert outcomes(first) == ["created"]
    # One batch ends the open edge with March and starts its successor in April.
    changed = sync(
        pm_api,
        "service-dependencies",
        [
            {**pair, "weight": "1", "valid_to": "2025-03-31"},
            {**pair, "weight": "2", "valid_from": "2025-04-01"},
        ],
    )
    assert changed.status_code == 200, changed.json()
    assert outcomes(changed) == ["updated", "created"]
    assert changed.json()["items"][1]["key"] == {**pair, "valid_from": "2025-04-01"}
    stored = ServiceDependency.objects.order_by("pk")
    assert [(d.valid_from, d.valid_to, d.weight) for d in stored] == [
        (None, datetime.date(2025, 3, 31), Decimal("1.0000")),
        (datetime.date(2025, 4, 1), None, Decimal("2.0000")),
    ]
    # Items whose days overlap, in a batch or with a stored edge, are refused on the pair.
    overlapping = sync(
        pm_api,
        "service-dependencies",
        [
            {**pair, "valid_from": "2026-01-01"},
            {**pair, "valid_from": "2025-02-01", "valid_to": "2025-02-28"},
        ],
    )
    assert overlapping.status_code == 400
    assert overlapping.json()["errors"] == {
        "items.0.provider": [
            "This dependency is already recorded from 2025-04-01: the days overlap."
        ],
        "items.1.provider": [
            "This dependency is already recorded until 2025-03-31: the days overlap."
        ],
    }
    backwards = pm_api.post(
        "/api/v1/service-dependencies/",
        {**pair, "valid_from": "2027-02-01", "valid_to": "2027-01-31"},
    )
    assert backwards.status_code == 400
    assert list(backwards.json()["errors"]) == ["valid_to"]
    assert ServiceDependency.objects.count() == 2
