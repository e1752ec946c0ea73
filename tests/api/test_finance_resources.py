"""The finance resources: cost pools and their allocations, cost items and exchange rates
(written through finance.services alone and in bulk), periods named by their label, the
read-only TCO results with their lineage and the unallocated lines, and the recomputation a
sync schedules."""

from decimal import Decimal

import pytest
import yaml
from django.utils import timezone

from core.money import to_cents
from finance import selectors
from finance import services
from finance.choices import PeriodStatus
from finance.models import CostItem
from finance.models import CostPool
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import TcoResult
from tests.api.helpers import changes_of
from tests.api.helpers import outcomes
from tests.api.helpers import sync
from tests.api.helpers import sync_counting_queries
from tests.factories import finance as finance_factories
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.finance import TcoResultFactory
from tests.factories.finance import TcoUnallocatedFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory

pytestmark = pytest.mark.django_db

# The fixtures that watch scheduled recomputations, shared with tests/finance.
enqueued = finance_factories.enqueued
settle = finance_factories.settle

WRITABLE = (
    "cost-pools",
    "pool-allocations",
    "cost-items",
    "exchange-rates",
    "drivers",
    "driver-quantities",
)
READ_ONLY = (
    "periods",
    "tco-results",
    "tco-unallocated",
    "customer-statements",
    "value-stream-costs",
)


@pytest.fixture
def finance_api(finance_user, api_for):
    return api_for(finance_user)


def dirty_labels() -> list[str]:
    return [
        p.label
        for p in Period.objects.filter(recompute_requested_at__isnull=False).order_by("serial")
    ]


def cost_line(n, **extra) -> dict:
    return {
        "external_id": f"gl-{n}",
        "description": f"Ledger line {n}",
        "period": "2026-10",
        "amount": "100.00",
        "category": "infrastructure",
        "service": {"external_id": "hosting"},
        **extra,
    }


# --- Periods: read-only, named by their label --------------------------------------------------


def test_periods_are_listed_with_their_label_status_and_version(pm_api):
    open_month = PeriodFactory(year=2026, month=9)
    closed = PeriodFactory(year=2026, month=8, status=PeriodStatus.CLOSED, current_version=2)
    listed = pm_api.get("/api/v1/periods/").json()["results"]
    rows = {row["label"]: row for row in listed}
    assert rows["2026-09"]["status"] == "open" and rows["2026-09"]["id"] == open_month.pk
    assert rows["2026-08"] == {
        **rows["2026-08"],
        "year": 2026,
        "month": 8,
        "status": "closed",
        "current_version": 2,
        "closed_by": None,
    }
    only = pm_api.get("/api/v1/periods/", label="2026-08").json()["results"]
    assert [row["id"] for row in only] == [closed.pk]
    assert [
        r["label"] for r in pm_api.get("/api/v1/periods/", status="open").json()["results"]
    ] == ["2026-09"]
    # Not a SyncedModel: no source or external_id, and no filter by them.
    assert "source" not in rows["2026-09"]
    assert pm_api.get("/api/v1/periods/", source="erp").status_code == 400


def test_cost_item_refers_to_its_period_by_label_and_a_new_label_opens_the_period(pm_api):
    ServiceFactory(source="cmdb", external_id="hosting")
    response = pm_api.post("/api/v1/cost-items/", {**cost_line(1), "source": "cmdb"})
    assert response.status_code == 201, response.json()
    period = Period.objects.get(year=2026, month=10)
    assert period.status == PeriodStatus.OPEN
    assert response.json()["period"] == {"id": period.pk, "label": "2026-10"}
    # The period's opening is in the change log, by the API's user.
    (opening,) = changes_of(Period)
    assert opening.action == "create" and opening.user_name == "pm" and opening.channel == "api"
    item_url = response.headers["Location"]
    for reference in ("2026-11", {"label": "2026-11"}, {"id": period.pk, "label": "2026-10"}):
        changed = pm_api.patch(item_url, {"period": reference})
        assert changed.status_code == 200, changed.json()
    assert changed.json()["period"] == {"id": period.pk, "label": "2026-10"}
    assert pm_api.patch(item_url, {"period": period.pk}).json()["period"]["label"] == "2026-10"
    assert Period.objects.filter(year=2026, month=11).exists()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("10/2026", "A period is written YYYY-MM, such as 2025-03, not '10/2026'."),
        ("2026-13", "'2026-13' is not a calendar month (YYYY-MM)."),
        ({"label": "2026-10", "id": 999999}, "No period has id 999999."),
        (999999, "No period has id 999999."),
        ({"external_id": "2026-10"}, "Unknown key(s) in reference: external_id."),
    ],
)
def test_a_bad_period_reference_is_refused_naming_the_field_alone_and_in_a_sync(
    pm_api, reference, message
):
    ServiceFactory(source="cmdb", external_id="hosting")
    single = pm_api.post(
        "/api/v1/cost-items/", {**cost_line(1, period=reference), "source": "cmdb"}
    )
    assert single.status_code == 400 and single.json()["errors"] == {"period": [message]}
    batch = sync(pm_api, "cost-items", [cost_line(1), cost_line(2, period=reference)])
    assert batch.status_code == 400 and batch.json()["errors"] == {"items.1.period": [message]}
    assert not CostItem.objects.exists()
    # Nothing was written: the period the valid item named was not opened either.
    assert not Period.objects.exists()


def test_period_id_and_label_must_agree(pm_api):
    ServiceFactory(source="cmdb", external_id="hosting")
    october = PeriodFactory(year=2026, month=10)
    PeriodFactory(year=2026, month=9)
    response = pm_api.post(
        "/api/v1/cost-items/",
        {**cost_line(1, period={"id": october.pk, "label": "2026-09"}), "source": "cmdb"},
    )
    assert response.json()["errors"] == {
        "period": [f"The period with id {october.pk} has another label."]
    }


# --- Cost items -------------------------------------------------------------------------------


def test_cost_item_round_trip(finance_api):
    service = ServiceFactory()
    application = ApplicationFactory()
    created = finance_api.post(
        "/api/v1/cost-items/",
        {
            "description": "Servers",
            "period": "2026-01",
            "amount": "1200",
            "currency": "USD",
            "category": "infrastructure",
            "expenditure": "capex",
            "spread_months": 12,
            "service": service.pk,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["amount"] == "1200.00" and body["spread_months"] == 12
    assert body["service"] == {"id": service.pk, "source": "", "external_id": ""}
    assert body["application"] is None and body["pool_type"] == ""
    url = created.headers["Location"]
    read = finance_api.get(url)
    assert read.json() == body and read.headers["ETag"] == created.headers["ETag"]
    # Turning it into opex books it in its own month (finance.services.save_cost_item).
    changed = finance_api.patch(url, {"expenditure": "opex"})
    assert changed.json()["spread_months"] == 1
    moved = finance_api.patch(
        url,
        {"service": None, "application": application.pk},
        headers={"If-Match": changed.headers["ETag"]},
    )
    assert moved.status_code == 200 and moved.json()["application"]["id"] == application.pk
    replaced = finance_api.put(
        url,
        {
            "description": "Servers, corrected",
            "period": "2026-02",
            "amount": "1100.00",
            "category": "infrastructure",
            "application": application.pk,
        },
    )
    assert replaced.status_code == 200 and replaced.json()["period"]["label"] == "2026-02"
    assert replaced.json()["currency"] == "USD"  # PUT keeps what it leaves out
    assert finance_api.delete(url).status_code == 204
    assert not CostItem.objects.exists()


def test_cost_item_sync_upsert_resend_and_full(pm_api):
    ServiceFactory(source="erp", external_id="hosting")
    items = [cost_line(n) for n in range(5)]
    first = sync(pm_api, "cost-items", items, source="erp")
    assert first.status_code == 200, first.json()
    assert outcomes(first) == ["created"] * 5
    assert CostItem.objects.filter(source="erp", period__year=2026, period__month=10).count() == 5
    again = sync(pm_api, "cost-items", items, source="erp")
    assert outcomes(again) == ["unchanged"] * 5
    changed = sync(pm_api, "cost-items", [{"external_id": "gl-0", "amount": "150"}], source="erp")
    assert outcomes(changed) == ["updated"]
    assert CostItem.objects.get(external_id="gl-0").amount == Decimal("150.00")
    full = sync(pm_api, "cost-items", items[1:], source="erp", mode="full")
    assert full.json()["deleted"] == 1 and full.json()["unchanged"] == 4
    assert not CostItem.objects.filter(external_id="gl-0").exists()


def test_two_targets_are_refused_alike_alone_and_in_a_sync(pm_api):
    ServiceFactory(source="cmdb", external_id="hosting")
    ApplicationFactory(source="cmdb", external_id="claims-app")
    body = cost_line(1, application={"external_id": "claims-app"})
    single = pm_api.post("/api/v1/cost-items/", {**body, "source": "cmdb"})
    message = "Choose exactly one target: a service, an application, a contract or a pool."
    assert single.status_code == 400
    assert single.json()["errors"] == {"service": [message], "application": [message]}
    batch = sync(pm_api, "cost-items", [body])
    assert batch.json()["errors"] == {
        "items.0.service": [message],
        "items.0.application": [message],
    }
    none = pm_api.post("/api/v1/cost-items/", {**cost_line(2), "service": None})
    assert none.json()["errors"] == {"service": [message]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "eur", "Enter a three-letter ISO 4217 currency code such as EUR."),
        ("amount", "1.005", "Ensure that there are no more than 2 decimal places."),
        ("spread_months", 241, "Ensure this value is less than or equal to 240."),
        ("category", "travel", "“travel” is not a valid choice: use one of development, "
         "infrastructure, maintenance, support, vendor."),
    ],
)  # fmt: skip
def test_bad_cost_item_values_are_refused_naming_the_field(pm_api, field, value, message):
    ServiceFactory(source="cmdb", external_id="hosting")
    single = pm_api.post(
        "/api/v1/cost-items/", {**cost_line(1, **{field: value}), "source": "cmdb"}
    )
    assert single.status_code == 400 and single.json()["errors"] == {field: [message]}
    batch = sync(pm_api, "cost-items", [cost_line(1, **{field: value})])
    assert batch.json()["errors"] == {f"items.0.{field}": [message]}


def test_a_credit_note_is_booked_alone_and_in_a_sync(pm_api):
    """A negative amount (a credit note, a reversal) is a cost item like any other."""
    ServiceFactory(source="cmdb", external_id="hosting")
    single = pm_api.post(
        "/api/v1/cost-items/", {**cost_line(1, amount="-120.50"), "source": "cmdb"}
    )
    assert single.status_code == 201, single.json()
    assert single.json()["amount"] == "-120.50"
    credit = {"expenditure": "capex", "spread_months": 3}
    batch = sync(pm_api, "cost-items", [cost_line(2, amount="-0.01", **credit)], source="cmdb")
    assert outcomes(batch) == ["created"], batch.json()
    assert sorted(CostItem.objects.values_list("amount", flat=True)) == [
        Decimal("-120.50"),
        Decimal("-0.01"),
    ]


def test_cost_item_in_a_closed_period_is_booked_as_a_late_invoice_and_the_figures_stay(
    pm_api, settle, enqueued, django_capture_on_commit_callbacks
):
    """As in the browser: a closed period takes late cost (its frozen figures do not move;
    a restatement computes them again), so the API refuses none."""
    ServiceFactory(source="erp", external_id="hosting")
    closed = PeriodFactory(year=2026, month=10, status=PeriodStatus.CLOSED)
    frozen = TcoResultFactory(period=closed)
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        response = sync(pm_api, "cost-items", [cost_line(1)], source="erp")
    assert outcomes(response) == ["created"]
    assert dirty_labels() == [] and enqueued == []
    frozen.refresh_from_db()
    assert frozen.tco == Decimal("100.00")


# --- Cost pools and allocations -----------------------------------------------------------------


def test_cost_pool_round_trip_and_full_sync_retires(finance_api, finance_user):
    created = finance_api.post(
        "/api/v1/cost-pools/",
        {"name": "Data centre", "pool_type": "facilities_and_power", "owner": "finance"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "data-centre" and body["owner"] == "finance"
    assert body["retired_at"] is None
    url = created.headers["Location"]
    assert finance_api.patch(url, {"description": "Racks"}).json()["description"] == "Racks"
    assert finance_api.put(url, {"name": "Data centre"}).status_code == 200
    bad = finance_api.patch(url, {"pool_type": "snacks"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["pool_type"]
    pools = [{"external_id": f"pool-{n}", "name": f"Pool {n}"} for n in range(5)]
    assert outcomes(sync(finance_api, "cost-pools", pools, source="erp")) == ["created"] * 5
    assert outcomes(sync(finance_api, "cost-pools", pools, source="erp")) == ["unchanged"] * 5
    full = sync(finance_api, "cost-pools", pools[1:], source="erp", mode="full")
    assert full.json()["retired"] == 1
    assert CostPool.objects.get(external_id="pool-0").retired_at is not None
    # A pool with cost items is retired, not deleted.
    CostItemFactory(pool=CostPool.objects.get(pk=body["id"]))
    removed = finance_api.delete(url)
    assert removed.status_code == 200 and removed.json()["retired_at"] is not None


def test_pool_allocation_is_keyed_by_its_pair(pm_api):
    pool = CostPoolFactory(source="erp", external_id="dc")
    ServiceFactory(source="erp", external_id="hosting")
    ServiceFactory(source="erp", external_id="identity")
    links = [
        {"pool": {"external_id": "dc"}, "service": {"external_id": "hosting"}, "weight": "3"},
        {"pool": {"external_id": "dc"}, "service": {"external_id": "identity"}},
    ]
    first = sync(pm_api, "pool-allocations", links, source="erp")
    assert outcomes(first) == ["created", "created"]
    assert first.json()["items"][0]["key"] == {
        "pool": pool.pk,
        "service": first.json()["items"][0]["key"]["service"],
        "valid_from": None,
    }
    assert outcomes(sync(pm_api, "pool-allocations", links, source="erp")) == ["unchanged"] * 2
    # An allocation made in the browser that the source sends is adopted by it.
    browser = PoolAllocationFactory(pool=pool)
    adopted = sync(
        pm_api,
        "pool-allocations",
        [*links, {"pool": pool.pk, "service": browser.service_id}],
        source="erp",
    )
    assert outcomes(adopted) == ["unchanged", "unchanged", "updated"]
    full = sync(pm_api, "pool-allocations", links[:1], source="erp", mode="full",
                allow_mass_retire=True)  # fmt: skip
    assert full.json()["deleted"] == 2
    assert PoolAllocation.objects.get().weight == Decimal("3.0000")
    # Alone, the same pair twice is refused on the service, as in the browser.
    again = pm_api.post("/api/v1/pool-allocations/", {"pool": pool.pk, **links[0], "source": "erp"})
    assert again.status_code == 400
    assert again.json()["errors"] == {
        "service": ["This pool is already allocated to this service."]
    }
    url = f"/api/v1/pool-allocations/{PoolAllocation.objects.get().pk}/"
    assert pm_api.patch(url, {"weight": "2.5"}).json()["weight"] == "2.5000"
    assert pm_api.delete(url).status_code == 204


def test_retired_targets_take_no_new_cost_through_the_api_as_in_the_browser(pm_api):
    """The browser offers only services and pools in use; a single write and a sync refuse
    the retired ones, naming the field (what is already there stays)."""
    retired = ServiceFactory(lifecycle="retired")
    pool = CostPoolFactory()
    allocation = {"pool": pool.pk, "service": retired.pk}
    answer = pm_api.post("/api/v1/pool-allocations/", allocation)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["service"]
    batch = sync(pm_api, "pool-allocations", [{**allocation, "external_id": "a"}])
    assert batch.status_code == 400 and "items.0.service" in batch.json()["errors"]
    assert not PoolAllocation.objects.exists()
    closed_pool = CostPoolFactory(retired_at=timezone.now())
    item = {
        "description": "Racks",
        "period": "2026-01",
        "amount": "100",
        "currency": "EUR",
        "category": "infrastructure",
        "expenditure": "opex",
        "pool": closed_pool.pk,
    }
    answer = pm_api.post("/api/v1/cost-items/", item)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["pool"]
    assert not CostItem.objects.exists()
    # An item booked before the pool retired is still changed.
    booked = CostItemFactory(pool=closed_pool, service=None)
    changed = pm_api.patch(f"/api/v1/cost-items/{booked.pk}/", {"description": "Racks (EU)"})
    assert changed.status_code == 200, changed.json()


# --- Exchange rates ------------------------------------------------------------------------------


def test_exchange_rate_round_trip_and_rules(finance_api):
    created = finance_api.post(
        "/api/v1/exchange-rates/", {"period": "2026-10", "currency": "USD", "rate": "0.92"}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["rate"] == "0.9200000000"
    assert created.json()["period"]["label"] == "2026-10"
    twice = finance_api.post(
        "/api/v1/exchange-rates/", {"period": "2026-10", "currency": "USD", "rate": "0.93"}
    )
    assert twice.json()["errors"] == {"currency": ["USD already has a rate in this period."]}
    reporting = finance_api.post(
        "/api/v1/exchange-rates/", {"period": "2026-10", "currency": "EUR", "rate": "1"}
    )
    assert reporting.json()["errors"] == {
        "currency": ["The reporting currency needs no rate: it converts at 1."]
    }
    without = finance_api.post("/api/v1/exchange-rates/", {"period": "2026-10", "rate": "1"})
    assert without.json()["errors"] == {"currency": ["This field is required."]}
    url = created.headers["Location"]
    assert finance_api.patch(url, {"rate": "0.95"}).json()["rate"] == "0.9500000000"
    assert finance_api.delete(url).status_code == 204


def test_exchange_rate_sync_refuses_what_the_single_write_refuses(finance_api):
    ExchangeRateFactory(period=PeriodFactory(year=2026, month=10), currency="USD")
    rates = [
        {"external_id": "usd", "period": "2026-10", "currency": "USD", "rate": "0.9"},
        {"external_id": "gbp", "period": "2026-10", "currency": "GBP", "rate": "1.1"},
        {"external_id": "gbp-2", "period": "2026-10", "currency": "GBP", "rate": "1.2"},
        {"external_id": "eur", "period": "2026-10", "currency": "EUR", "rate": "1"},
        {"external_id": "chf", "period": "2026-10", "rate": "1"},
    ]
    response = sync(finance_api, "exchange-rates", rates, source="erp")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "items.0.currency": ["USD already has a rate in this period."],
        "items.2.currency": ["Item 1 has the same currency."],
        "items.3.currency": ["The reporting currency needs no rate: it converts at 1."],
        "items.4.currency": ["This field is required."],
    }
    good = [rates[1], {**rates[0], "period": "2026-11"}]
    assert outcomes(sync(finance_api, "exchange-rates", good, source="erp")) == ["created"] * 2
    assert outcomes(sync(finance_api, "exchange-rates", good, source="erp")) == ["unchanged"] * 2
    assert ExchangeRate.objects.filter(source="erp").count() == 2


# --- Rights --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["portfolio_manager", "finance_user"])
def test_finance_and_portfolio_managers_write(request, api_for, role):
    api = api_for(request.getfixturevalue(role))
    ServiceFactory(source="erp", external_id="hosting")
    assert api.post("/api/v1/cost-pools/", {"name": "Desk"}).status_code == 201
    assert outcomes(sync(api, "cost-items", [cost_line(1)], source="erp")) == ["created"]


def test_viewers_and_read_only_tokens_only_read(viewer, finance_user, api_for):
    ServiceFactory(source="erp", external_id="hosting")
    item = CostItemFactory()
    for api in (api_for(viewer), api_for(finance_user, write=False)):
        for resource in (*WRITABLE, *READ_ONLY):
            assert api.get(f"/api/v1/{resource}/").status_code == 200
        assert api.get(f"/api/v1/cost-items/{item.pk}/").status_code == 200
        assert api.post("/api/v1/cost-pools/", {"name": "Desk"}).status_code == 403
        assert api.patch(f"/api/v1/cost-items/{item.pk}/", {"amount": "1"}).status_code == 403
        assert api.delete(f"/api/v1/cost-items/{item.pk}/").status_code == 403
        assert sync(api, "cost-items", [cost_line(1)], source="erp").status_code == 403
    assert not Period.objects.filter(year=2026, month=10).exists()
    assert CostItem.objects.get().amount == item.amount


def test_a_service_owner_may_not_write_cost_data(service_owner, api_for):
    api = api_for(service_owner)
    ServiceFactory(source="erp", external_id="hosting", owner=service_owner)
    assert api.post("/api/v1/cost-items/", cost_line(1)).status_code == 403
    assert sync(api, "cost-items", [cost_line(1)], source="erp").status_code == 403


# --- Read-only resources -------------------------------------------------------------------------


def test_read_only_resources_refuse_writes_with_405(pm_api):
    records = {
        "periods": PeriodFactory(),
        "tco-results": TcoResultFactory(),
        "tco-unallocated": TcoUnallocatedFactory(),
        "customer-statements": finance_factories.CustomerStatementFactory(),
        "value-stream-costs": finance_factories.ValueStreamCostFactory(),
    }
    for resource, record in records.items():
        assert pm_api.post(f"/api/v1/{resource}/", {}).status_code == 405
        detail = f"/api/v1/{resource}/{record.pk}/"
        for method in ("put", "patch"):
            response = getattr(pm_api, method)(detail, {})
            assert response.status_code == 405
            assert response.json()["status"] == 405
        assert pm_api.delete(detail).status_code == 405
        assert (
            pm_api.post(f"/api/v1/sync/{resource}/", {"source": "x", "items": []}).status_code
            == 404
        )
        assert pm_api.get(detail).status_code == 200
    root = pm_api.get("/api/v1/").json()["resources"]
    assert "sync" not in root["tco-results"] and "sync" in root["cost-items"]
    assert TcoResult.objects.count() == 1


def test_schema_lists_only_reads_for_read_only_resources(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    paths, components = schema["paths"], schema["components"]["schemas"]
    for resource in READ_ONLY:
        assert set(paths[f"/api/v1/{resource}/"]) == {"get"}
        assert set(paths[f"/api/v1/{resource}/{{id}}/"]) == {"get"}
        assert f"/api/v1/sync/{resource}/" not in paths
    assert set(paths["/api/v1/tco-results/{id}/lineage/"]) == {"get"}
    for name in ("TcoResult", "TcoUnallocated", "Period", "CustomerStatement", "ValueStreamCost"):
        assert f"{name}Write" not in components and f"{name}SyncRequest" not in components
        assert all(p.get("readOnly") for p in components[name]["properties"].values())
    for resource in WRITABLE:
        assert {"get", "post"} <= set(paths[f"/api/v1/{resource}/"])
        assert f"/api/v1/sync/{resource}/" in paths
    period_ref = components["CostItemWrite"]["properties"]["period"]["oneOf"]
    assert {"type": "string", "example": "2026-10", "pattern": r"^\d{4}-\d{2}$"} in period_ref
    assert "TcoResultLineage" in components and "PeriodRef" in components
    changes = next(
        p for p in paths["/api/v1/changes/"]["get"]["parameters"] if p["name"] == "resource"
    )
    assert "periods" in changes["schema"]["enum"]
    assert "tco-results" not in changes["schema"]["enum"]


def test_tco_results_show_every_figure_and_filter_by_period_and_version(pm_api):
    march = PeriodFactory(year=2026, month=3, status=PeriodStatus.CLOSED, current_version=2)
    old = TcoResultFactory(period=march, version=1)
    new = TcoResultFactory(period=march, version=2, service=old.service, tco=Decimal("120.00"))
    TcoResultFactory(period=PeriodFactory(year=2026, month=4))
    rows = pm_api.get("/api/v1/tco-results/", period="2026-03").json()["results"]
    assert [(r["id"], r["version"], r["current"]) for r in rows] == [
        (old.pk, 1, False),
        (new.pk, 2, True),
    ]
    current = pm_api.get("/api/v1/tco-results/", period="2026-03", current="true").json()
    assert [r["id"] for r in current["results"]] == [new.pk]
    row = rows[1]
    assert row["period"] == {"id": march.pk, "label": "2026-03"}
    assert row["service"]["id"] == old.service_id
    assert row["tco"] == "120.00" and row["kept"] == "100.00" and row["currency"] == "EUR"
    assert row["breakdown"] == {
        "tco": {"development": {"opex": 10000}},
        "kept": {"development": {"opex": 10000}},
    }
    assert row["unit_cost"] is None and row["consumed_units"] == "0.0000"
    assert row["negative"] is False
    assert "updated_at" not in row and "source" not in row
    for name in ("direct", "received_applications", "received_contracts", "received_pools",
                 "received_services", "passed_on", "unallocated", "tco_capex", "revenue",
                 "margin", "recovery_ratio", "unit_name", "computed_at"):  # fmt: skip
        assert name in row
    # Paged by id, without updated_since.
    assert pm_api.get("/api/v1/tco-results/", updated_since="2026-01-01").status_code == 400
    first = pm_api.get("/api/v1/tco-results/", page_size=2).json()
    second = pm_api.get(first["next"]).json()
    assert [r["id"] for r in first["results"] + second["results"]] == sorted(
        TcoResult.objects.values_list("pk", flat=True)
    )


def test_tco_results_flag_a_negative_cost(pm_api):
    credited = TcoResultFactory(tco=Decimal("-5.00"), kept=Decimal("-5.00"), breakdown={})
    passing = TcoResultFactory(
        period=credited.period, tco=Decimal("-5.00"), kept=0, passed_on=Decimal("-5.00")
    )
    TcoResultFactory(period=credited.period)
    rows = pm_api.get("/api/v1/tco-results/").json()["results"]
    assert {row["id"]: row["negative"] for row in rows if row["negative"]} == {
        credited.pk: True,
        passing.pk: True,
    }


def test_tco_unallocated_lists_each_line_with_its_reason(pm_api):
    line = TcoUnallocatedFactory(period=PeriodFactory(year=2026, month=5))
    TcoUnallocatedFactory(
        period=line.period, reason="no_rate", amount=None, original_currency="CHF",
        original_amount=Decimal("10.00"), breakdown={},
    )  # fmt: skip
    rows = pm_api.get("/api/v1/tco-unallocated/", reason="no_target").json()["results"]
    assert rows == [
        {
            "id": line.pk,
            "period": {"id": line.period_id, "label": "2026-05"},
            "version": 1,
            "source_kind": "pool",
            "source_id": line.source_id,
            "source_label": line.source_label,
            "reason": "no_target",
            "detail": line.detail,
            "amount": "50.00",
            "original_currency": "",
            "original_amount": None,
            "breakdown": {"infrastructure": {"opex": 5000}},
            "current": True,
            "currency": "EUR",
        }
    ]
    no_rate = pm_api.get("/api/v1/tco-unallocated/", reason="no_rate").json()["results"]
    assert no_rate[0]["amount"] is None and no_rate[0]["original_amount"] == "10.00"


# --- Lineage -------------------------------------------------------------------------------------


@pytest.fixture
def rolled_up():
    """Claims depends on Hosting; Hosting carries a pool, a contract and its own capex;
    Claims an application and an item in USD (with its rate)."""
    march = PeriodFactory(year=2026, month=3)
    claims = ServiceFactory(name="Claims", source="cmdb", external_id="claims")
    hosting = ServiceFactory(name="Hosting", source="cmdb", external_id="hosting")
    dependency = ServiceDependencyFactory(consumer=claims, provider=hosting, weight=1)
    application = ApplicationFactory(name="Claims app")
    support = ApplicationSupportFactory(application=application, service=claims)
    pool = CostPoolFactory(name="Data centre")
    allocation = PoolAllocationFactory(pool=pool, service=hosting, source="erp", external_id="a-1")
    contract = ContractFactory(supplier=SupplierFactory(), annual_value=Decimal("1200.00"))
    ContractCoverageFactory(contract=contract, service=hosting)
    CostItemFactory(period=march, pool=pool, amount=Decimal("600.00"), category="infrastructure")
    CostItemFactory(
        period=PeriodFactory(year=2026, month=1), service=hosting, amount=Decimal("1200.00"),
        expenditure="capex", spread_months=12, source="erp", external_id="capex-1",
    )  # fmt: skip
    CostItemFactory(period=march, application=application, amount=Decimal("300.00"))
    CostItemFactory(period=march, service=claims, amount=Decimal("50.00"), currency="USD")
    ExchangeRateFactory(period=march, currency="USD", rate=Decimal("0.9"))
    services.recompute_tco(period=march)
    return {
        "march": march,
        "claims": claims,
        "hosting": hosting,
        "dependency": dependency,
        "support": support,
        "allocation": allocation,
    }


def test_lineage_endpoint_matches_the_selector(pm_api, rolled_up):
    claims, march = rolled_up["claims"], rolled_up["march"]
    result = TcoResult.objects.get(service=claims, period=march)
    response = pm_api.get(f"/api/v1/tco-results/{result.pk}/lineage/")
    assert response.status_code == 200, response.json()
    body = response.json()
    expected = selectors.lineage(service=claims, period=march, limit=1000)
    assert body["tco"] == str(expected["gross"]) == str(result.tco) == "1145.00"
    assert body["stored_tco"] == "1145.00" and body["differs"] is False
    assert body["traced"] == str(expected["traced"])
    assert body["period"] == {"id": march.pk, "label": "2026-03"}
    assert body["service"] == {"id": claims.pk, "source": "cmdb", "external_id": "claims"}
    assert body["item_count"] == expected["line_count"] == 5
    assert [(i["label"], i["contribution"], i["amount"], i["currency"]) for i in body["items"]] == [
        (line.label, str(to_cents(line.contribution)), str(to_cents(line.original)), line.currency)
        for line in expected["lines"]
    ]
    assert sum(Decimal(i["contribution"]) for i in body["items"]) == Decimal("1145.00")
    capex = next(i for i in body["items"] if i["cost_item"] and i["cost_item"]["external_id"])
    assert capex["cost_item"]["source"] == "erp" and capex["amount"] == "100.00"
    assert capex["recorded_against"] == {"kind": "service", "id": rolled_up["hosting"].pk,
                                         "label": "Hosting"}  # fmt: skip
    contract_line = next(i for i in body["items"] if i["kind"] == "contract value")
    assert contract_line["cost_item"] is None and contract_line["contribution"] == "100.00"
    assert body["edge_count"] == expected["edge_count"]
    edges = {(e["resource"], e["record"]["id"]): e for e in body["edges"]}
    assert [(e["contribution"], e["flow"]) for e in body["edges"]] == [
        (str(to_cents(edge.contribution)), str(to_cents(edge.flow))) for edge in expected["edges"]
    ]
    assert edges[("service-dependencies", rolled_up["dependency"].pk)]["flow"] == "800.00"
    assert edges[("application-supports", rolled_up["support"].pk)]["flow"] == "300.00"
    allocation = edges[("pool-allocations", rolled_up["allocation"].pk)]
    assert allocation["record"]["external_id"] == "a-1" and allocation["contribution"] == "600.00"


def test_lineage_limit_and_refusals(pm_api, rolled_up, viewer, api_for):
    result = TcoResult.objects.get(service=rolled_up["claims"], period=rolled_up["march"])
    url = f"/api/v1/tco-results/{result.pk}/lineage/"
    limited = pm_api.get(url, limit=2).json()
    assert len(limited["items"]) == 2 and limited["item_count"] == 5
    assert pm_api.get(url, limit=0).json()["errors"] == {
        "limit": ["Give a whole number from 1 to 10000."]
    }
    assert pm_api.get(url, depth=3).json()["errors"] == {"depth": ["Unknown query parameter."]}
    assert pm_api.get("/api/v1/tco-results/999999/lineage/").status_code == 404
    assert api_for(viewer, write=False).get(url).status_code == 200


def test_lineage_says_when_the_data_changed_since_the_result(pm_api, rolled_up):
    claims, march = rolled_up["claims"], rolled_up["march"]
    result = TcoResult.objects.get(service=claims, period=march)
    CostItemFactory(period=march, service=claims, amount=Decimal("5.00"))
    body = pm_api.get(f"/api/v1/tco-results/{result.pk}/lineage/").json()
    assert body["stored_tco"] == "1145.00" and body["tco"] == "1150.00" and body["differs"]


# --- Lists: query counts, detail = list row ------------------------------------------------------

CURRENCIES = ("USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD", "AUD")


def next_rate():
    return ExchangeRateFactory(
        period=PeriodFactory(year=2026, month=1),
        currency=CURRENCIES[ExchangeRate.objects.count()],
    )


FACTORIES = {
    "periods": lambda: PeriodFactory(year=2000 + Period.objects.count(), month=1),
    "cost-pools": CostPoolFactory,
    "pool-allocations": PoolAllocationFactory,
    "cost-items": lambda: CostItemFactory(period=PeriodFactory(year=2026, month=1)),
    "exchange-rates": next_rate,
    "tco-results": TcoResultFactory,
    "tco-unallocated": TcoUnallocatedFactory,
    "customer-statements": finance_factories.CustomerStatementFactory,
    "value-stream-costs": finance_factories.ValueStreamCostFactory,
    "drivers": finance_factories.DriverFactory,
    "driver-quantities": finance_factories.DriverQuantityFactory,
}


def test_cost_item_sync_makes_a_constant_number_of_queries(pm_api):
    ServiceFactory(source="erp", external_id="hosting")
    PeriodFactory(year=2026, month=10)
    sync(pm_api, "cost-items", [cost_line(0)], source="erp")
    counts = []
    for first, size, months in ((100, 3, ("2026-10", "2026-11", "2026-12")),
                                (200, 300, ("2027-01", "2027-02", "2027-03"))):  # fmt: skip
        items = [cost_line(n, period=months[n % 3]) for n in range(first, first + size)]
        response, count = sync_counting_queries(pm_api, "cost-items", items, source="erp")
        assert response.json()["created"] == size
        counts.append(count)
    assert counts[0] == counts[1]


# --- A sync schedules the recomputation --------------------------------------------------------


def test_cost_item_sync_marks_its_months_dirty_and_enqueues_one_run(
    pm_api, settle, enqueued, django_capture_on_commit_callbacks
):
    ServiceFactory(source="erp", external_id="hosting")
    months = {m: PeriodFactory(year=2026, month=m) for m in range(1, 7)}
    Period.objects.filter(pk=months[5].pk).update(status=PeriodStatus.CLOSED)
    settle()
    items = [
        cost_line(1, period="2026-02"),
        cost_line(2, period="2026-03", expenditure="capex", spread_months=3),
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert outcomes(sync(pm_api, "cost-items", items, source="erp")) == ["created"] * 2
    # Cost booked on a service: known node by node, so a short wait for an incremental run.
    assert len(callbacks) == 1 and enqueued == [{"countdown": services.QUICK_COALESCE_SECONDS}]
    assert dirty_labels() == ["2026-02", "2026-03", "2026-04"]  # 2026-05 is closed
    settle()
    # An unchanged resend writes nothing and schedules nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert outcomes(sync(pm_api, "cost-items", items, source="erp")) == ["unchanged"] * 2
    assert callbacks == [] and dirty_labels() == []
    # Moving an item marks the month it left and the month it went to.
    with django_capture_on_commit_callbacks(execute=True):
        sync(pm_api, "cost-items", [{"external_id": "gl-1", "period": "2026-06"}], source="erp")
    assert dirty_labels() == ["2026-02", "2026-06"]
    settle()
    # A full sync that deletes an item marks its month.
    with django_capture_on_commit_callbacks(execute=True):
        response = sync(pm_api, "cost-items", items[1:], source="erp", mode="full",
                        allow_mass_retire=True)  # fmt: skip
    assert response.json()["deleted"] == 1 and dirty_labels() == ["2026-06"]
    assert len(enqueued) == 1


def test_rate_sync_marks_its_month_and_the_later_ones(
    pm_api, settle, enqueued, django_capture_on_commit_callbacks
):
    for m in range(1, 5):
        PeriodFactory(year=2026, month=m)
    settle()
    rate = {"external_id": "usd", "period": "2026-02", "currency": "USD", "rate": "0.9"}
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(sync(pm_api, "exchange-rates", [rate], source="erp")) == ["created"]
    assert dirty_labels() == ["2026-02", "2026-03", "2026-04"] and len(enqueued) == 1


def edge_batches():
    """Per edge resource: a set-up, then the items of a sync that creates one edge."""

    def pool():
        CostPoolFactory(source="erp", external_id="dc")
        return "pool-allocations", [
            {"pool": {"external_id": "dc"}, "service": {"external_id": "a"}}
        ]

    def dependency():
        return "service-dependencies", [
            {"consumer": {"external_id": "a"}, "provider": {"external_id": "b"}}
        ]

    def support():
        ApplicationFactory(source="erp", external_id="app")
        return "application-supports", [
            {"application": {"external_id": "app"}, "service": {"external_id": "a"}}
        ]

    def coverage():
        ContractFactory(source="erp", external_id="k")
        return "contract-coverages", [
            {"contract": {"external_id": "k"}, "service": {"external_id": "a"}}
        ]

    def contract():
        SupplierFactory(source="erp", external_id="acme")
        return "contracts", [
            {"external_id": "k-2", "supplier": {"external_id": "acme"}, "reference": "K-2",
             "title": "Hosting", "start_date": "2026-01-01", "annual_value": "1200.00"}
        ]  # fmt: skip

    def cost_pool():
        return "cost-pools", [{"external_id": "desk", "name": "Service desk"}]

    return [pool, dependency, support, coverage, contract, cost_pool]


@pytest.mark.parametrize("make", edge_batches(), ids=lambda make: make.__name__)
def test_edge_sync_marks_every_open_period_dirty(
    make, pm_api, settle, enqueued, django_capture_on_commit_callbacks
):
    ServiceFactory(source="erp", external_id="a")
    ServiceFactory(source="erp", external_id="b")
    for m in range(1, 4):
        PeriodFactory(year=2026, month=m)
    Period.objects.filter(month=1).update(status=PeriodStatus.CLOSED)
    resource, items = make()
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        response = sync(pm_api, resource, items, source="erp")
    assert outcomes(response) == ["created"], response.json()
    assert dirty_labels() == ["2026-02", "2026-03"] and len(enqueued) == 1
    settle()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sync(pm_api, resource, items, source="erp")
    assert callbacks == [] and dirty_labels() == []


def test_edge_removed_by_a_full_sync_marks_every_open_period_dirty(
    pm_api, settle, enqueued, django_capture_on_commit_callbacks
):
    PeriodFactory(year=2026, month=2)
    ServiceDependencyFactory(source="erp")
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        response = sync(pm_api, "service-dependencies", [], source="erp", mode="full",
                        allow_mass_retire=True)  # fmt: skip
    assert response.json()["deleted"] == 1
    assert dirty_labels() == ["2026-02"] and len(enqueued) == 1


def test_irrelevant_portfolio_sync_schedules_nothing(
    pm_api, settle, enqueued, django_capture_on_commit_callbacks
):
    PeriodFactory(year=2026, month=2)
    ServiceFactory(source="erp", external_id="a", lifecycle="pipeline")
    settle()
    with django_capture_on_commit_callbacks(execute=True):
        sync(pm_api, "services", [{"external_id": "a", "summary": "New words"}], source="erp")
    assert dirty_labels() == [] and enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        sync(pm_api, "services", [{"external_id": "a", "lifecycle": "retired"}], source="erp")
    assert dirty_labels() == ["2026-02"] and len(enqueued) == 1
