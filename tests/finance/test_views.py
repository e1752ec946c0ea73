"""The finance pages: Fund services, lineage, cost data, periods and runs (who may do what, and
the lists' query counts, are in test_view_matrix.py)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from finance import selectors
from finance import services
from finance.choices import PeriodStatus
from finance.choices import RunTrigger
from finance.models import CostItem
from finance.models import CostPool
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import TcoResult
from finance.models import TcoRun
from portfolio.choices import ServiceKind
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rolled_up(service_owner):
    """March 2025 rolled up: a platform passing cost to two customer-facing services, an
    application that supports nothing, and February for the change."""
    february = PeriodFactory(year=2025, month=2)
    march = PeriodFactory(year=2025, month=3)
    claims = ServiceFactory(name="Claims", kind=ServiceKind.CUSTOMER_FACING, owner=service_owner)
    quotes = ServiceFactory(name="Quotes", kind=ServiceKind.CUSTOMER_FACING)
    platform = ServiceFactory(name="Platform", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=platform, consumer=claims, weight=1)
    ServiceDependencyFactory(provider=platform, consumer=quotes, weight=3)
    orphan = ApplicationFactory(name="Orphan app")
    CostItemFactory(period=march, service=platform, amount=Decimal("400.00"))
    CostItemFactory(period=march, application=orphan, amount=Decimal("25.00"))
    CostItemFactory(period=february, service=claims, amount=Decimal("50.00"))
    customer = CustomerFactory(name="Retail", slug="retail")
    SubscriptionFactory(customer=customer, service=claims)
    for period in (february, march):
        services.recompute_tco(period=period)
    return {"march": march, "claims": claims, "quotes": quotes, "platform": platform}


def test_overview_shows_services_flow_and_unallocated(client, viewer, rolled_up):
    client.force_login(viewer)
    response = client.get(reverse("finance:overview"), {"period": "2025-03"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fund services · 2025-03" in page
    assert "Claims" in page and "Quotes" in page and "Platform" in page
    assert "<svg" in page and "Recorded on services" in page
    assert "Orphan app" in page and "Allocated to nothing" in page
    rows = {row.service.name: row for row in response.context["page"].object_list}
    assert rows["Claims"].kept == Decimal("100.00")
    assert rows["Claims"].change == Decimal("50.00")  # 50.00 in February
    assert rows["Quotes"].kept == Decimal("300.00")
    assert response.context["totals"]["input"] == Decimal("425.00")


def test_overview_flags_a_service_whose_cost_is_negative_with_the_reason(client, viewer):
    """A credit note larger than the month's cost: the service keeps −40.00 and the page says
    so beside it; a service with a positive cost is not flagged."""
    march = PeriodFactory(year=2025, month=3)
    credited = ServiceFactory(name="Credited")
    CostItemFactory(period=march, service=credited, amount=Decimal("60.00"))
    CostItemFactory(period=march, service=credited, amount=Decimal("-100.00"))
    CostItemFactory(period=march, service=ServiceFactory(name="Ordinary"))
    services.recompute_tco(period=march)
    client.force_login(viewer)
    response = client.get(reverse("finance:overview"), {"period": "2025-03"})
    page = response.content.decode()
    assert page.count("Negative cost</span>") == 1
    assert (
        "It keeps a negative cost, -40.00: credits booked on it or upstream of it this month "
        "exceed its cost."
    ) in page
    rows = {row.service.name: row for row in response.context["page"].object_list}
    assert rows["Credited"].kept == Decimal("-40.00") and rows["Credited"].negative
    assert rows["Ordinary"].negative == ""
    assert response.context["totals"]["input"] == Decimal("960.00")


def test_overview_defaults_to_the_latest_period(client, viewer, rolled_up):
    client.force_login(viewer)
    response = client.get(reverse("finance:overview"))
    assert response.context["period"] == rolled_up["march"]


def test_overview_filters_by_kind_owner_and_customer(client, viewer, rolled_up, service_owner):
    client.force_login(viewer)
    url = reverse("finance:overview")

    def names(**params):
        response = client.get(url, {"period": "2025-03", **params})
        return sorted(row.service.name for row in response.context["page"].object_list)

    assert names(kind="supporting") == ["Platform"]
    assert names(owner=service_owner.username) == ["Claims"]
    assert names(customer="retail") == ["Claims"]
    assert names(q="quo") == ["Quotes"]
    stage = StageFactory(value_stream=ValueStreamFactory(slug="settle-a-claim"))
    stage.services.add(rolled_up["claims"], rolled_up["platform"])
    assert names(value_stream="settle-a-claim") == ["Claims", "Platform"]


def test_overview_htmx_filter_answers_the_table_partial(client, viewer, rolled_up):
    client.force_login(viewer)
    response = client.get(
        reverse("finance:overview"),
        {"period": "2025-03", "kind": "customer_facing"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="services">')
    assert "<svg" not in page


def test_overview_without_results_explains_what_to_do(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("finance:overview"))
    assert response.status_code == 200
    assert "No period has results yet" in response.content.decode()


def test_overview_unknown_period_is_404(client, viewer, rolled_up):
    client.force_login(viewer)
    assert client.get(reverse("finance:overview"), {"period": "2031-01"}).status_code == 404
    assert client.get(reverse("finance:overview"), {"period": "March"}).status_code == 404


def test_lineage_traces_a_service_in_html_and_json(client, viewer, rolled_up):
    client.force_login(viewer)
    url = reverse("finance:service_lineage", args=[rolled_up["quotes"].slug])
    response = client.get(url, {"period": "2025-03"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="lineage">')
    assert "Platform" in page and "300.00" in page

    data = json.loads(client.get(url, {"period": "2025-03", "format": "json"}).content)
    assert data["tco"] == data["stored_tco"] == "300.00"
    assert [item["contribution"] for item in data["items"]] == ["300.00"]
    assert data["edges"][0]["source"]["label"] == "Platform"


def test_service_page_has_the_tco_panel_with_completeness(client, viewer, rolled_up):
    client.force_login(viewer)
    response = client.get(rolled_up["claims"].get_absolute_url())
    page = response.content.decode()
    assert "Total cost of ownership" in page
    assert "Fully-loaded TCO, 2025-03" in page
    assert "Cost completeness, 2025-03" in page
    assert reverse("finance:service_lineage", args=[rolled_up["claims"].slug]) in page


# --- Cost items -------------------------------------------------------------------------------


def test_cost_item_list_filters_by_period_and_target(client, viewer):
    client.force_login(viewer)
    march, april = PeriodFactory(year=2025, month=3), PeriodFactory(year=2025, month=4)
    CostItemFactory(period=march, description="March line")
    CostItemFactory(period=april, description="April line", pool=CostPoolFactory())
    url = reverse("finance:costitem_list")

    def descriptions(**params):
        response = client.get(url, params)
        return [row.record.description for row in response.context["table"].rows]

    assert descriptions(period="2025-03") == ["March line"]
    assert descriptions(target="pool") == ["April line"]


def test_cost_item_form_needs_exactly_one_target(client, finance_user):
    client.force_login(finance_user)
    service, pool = ServiceFactory(), CostPoolFactory()
    data = {
        "description": "Two places",
        "period_label": "2025-03",
        "amount": "1.00",
        "currency": "EUR",
        "category": "vendor",
        "expenditure": "opex",
        "spread_months": "1",
        "service": service.slug,
        "pool": pool.name,
    }
    response = client.post(reverse("finance:costitem_add"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Choose one target only" in response.content.decode()
    data.pop("service"), data.pop("pool")
    response = client.post(reverse("finance:costitem_add"), data)
    assert response.status_code == 422
    assert "Choose what the cost is for" in response.content.decode()
    data.update(pool=pool.name, expenditure="opex", spread_months="12")
    response = client.post(reverse("finance:costitem_add"), data)
    assert "Only capex is spread" in response.content.decode()
    data.update(period_label="03/2025", spread_months="1")
    response = client.post(reverse("finance:costitem_add"), data)
    assert "2025-03" in response.content.decode() and response.status_code == 422
    assert not CostItem.objects.exists()


def test_cost_item_form_takes_a_credit_note(client, finance_user):
    client.force_login(finance_user)
    service = ServiceFactory()
    data = {
        "description": "Credit note",
        "period_label": "2025-03",
        "amount": "-250.50",
        "currency": "EUR",
        "category": "vendor",
        "expenditure": "capex",
        "spread_months": "3",
        "service": service.slug,
    }
    response = client.post(reverse("finance:costitem_add"), data)
    assert response.status_code == 302, response.content.decode()
    item = CostItem.objects.get()
    assert item.amount == Decimal("-250.50") and item.spread_months == 3


def test_cost_item_edit_in_a_closed_period_warns(client, finance_user):
    item = CostItemFactory(period=PeriodFactory(year=2025, month=3, status=PeriodStatus.CLOSED))
    client.force_login(finance_user)
    response = client.get(reverse("finance:costitem_edit", args=[item.pk]))
    assert "closed: its figures stay frozen" in response.content.decode()


# --- Pools and allocations ----------------------------------------------------------------------


def test_pool_allocation_added_in_place_and_bad_slug_refused(client, finance_user):
    pool = CostPoolFactory(slug="data-centre")
    ServiceFactory(slug="hosting")
    url = reverse("finance:allocation_add", args=[pool.slug])
    client.force_login(finance_user)
    response = client.post(url, {"service": "hosting", "weight": "2"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="allocations">')
    assert PoolAllocation.objects.get().weight == 2
    response = client.post(url, {"service": "nowhere", "weight": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "No service named" in response.content.decode()
    response = client.post(url, {"service": "hosting", "weight": "1"}, HTTP_HX_REQUEST="true")
    assert "already allocated" in response.content.decode()


def test_pool_allocation_changed_from_a_month_in_one_step(client, finance_user, viewer):
    pool = CostPoolFactory(slug="data-centre")
    allocation = PoolAllocationFactory(pool=pool, service=ServiceFactory(slug="hosting"), weight=1)
    PoolAllocationFactory(pool=pool, weight=1)
    change = reverse("finance:allocation_change_from_month", args=[allocation.pk])
    client.force_login(viewer)
    assert client.get(change).status_code == 403
    client.force_login(finance_user)
    assert change in client.get(pool.get_absolute_url()).content.decode()
    assert client.post(change, {"month": "2025-13", "weight": "2"}).status_code == 422
    assert client.post(change, {"month": "2025-07", "weight": "-2"}).status_code == 422
    response = client.post(change, {"month": "2025-07", "weight": "2"})
    assert response.status_code == 302
    assert response["Location"] == f"{pool.get_absolute_url()}#allocations"
    mine = PoolAllocation.objects.filter(service=allocation.service).order_by("pk")
    assert [(a.valid_from, a.valid_to, a.weight) for a in mine] == [
        (None, datetime.date(2025, 6, 30), Decimal(1)),
        (datetime.date(2025, 7, 1), None, Decimal(2)),
    ]
    # June has the old weight, July the new one.
    june, july = PeriodFactory(year=2025, month=6), PeriodFactory(year=2025, month=7)
    CostItemFactory(period=june, pool=pool, amount=Decimal("100.00"))
    CostItemFactory(period=july, pool=pool, amount=Decimal("90.00"))
    for period in (june, july):
        services.recompute_tco(period=period)
    kept = dict(
        TcoResult.objects.filter(service=allocation.service).values_list("period__month", "kept")
    )
    assert kept == {6: Decimal("50.00"), 7: Decimal("60.00")}
    # The same month again overlaps nothing of the old edge but starts where the new one does.
    again = client.post(change, {"month": "2025-07", "weight": "5"})
    assert again.status_code == 422
    assert "ended on 2025-06-30" in again.content.decode()
    # The form for a new allocation has the days, and refuses an overlap with them.
    add = reverse("finance:allocation_add", args=[pool.slug])
    response = client.post(
        add,
        {"service": "hosting", "weight": "1", "valid_from": "2025-01-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "already allocated to this service until 2025-06-30" in response.content.decode()


def test_pool_page_shares_weights_as_the_other_edge_pages_do(client, viewer):
    """Shares among the allocations in force today, as on a contract's or an application's
    page: none when their weights add up to nothing (the pool's cost stays unallocated)."""
    pool = CostPoolFactory()
    PoolAllocationFactory(pool=pool, service=ServiceFactory(name="Hosting"), weight=3)
    PoolAllocationFactory(pool=pool, service=ServiceFactory(name="Mail"), weight=1)
    PoolAllocationFactory(
        pool=pool, service=ServiceFactory(name="Fax"), weight=4, valid_to=datetime.date(2020, 1, 31)
    )
    nothing = CostPoolFactory()
    PoolAllocationFactory(pool=nothing, weight=0)
    client.force_login(viewer)
    page = client.get(pool.get_absolute_url()).content.decode()
    assert "75.0%" in page and "25.0%" in page and "50.0%" not in page
    assert "0.0%" not in client.get(nothing.get_absolute_url()).content.decode()


def test_pool_allocation_edited_and_removed(client, finance_user):
    pool = CostPoolFactory(slug="data-centre")
    allocation = PoolAllocationFactory(pool=pool, service=ServiceFactory(slug="hosting"), weight=1)
    edit = reverse("finance:allocation_edit", args=[allocation.pk])
    remove = reverse("finance:allocation_remove", args=[allocation.pk])
    client.force_login(finance_user)
    assert 'value="hosting"' in client.get(edit).content.decode()
    assert client.post(edit, {"service": "hosting", "weight": "-1"}).status_code == 422
    response = client.post(edit, {"service": "hosting", "weight": "3"})
    assert response.status_code == 302 and response.url.endswith("#allocations")
    assert PoolAllocation.objects.get().weight == 3
    response = client.post(remove, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="allocations">')
    assert not PoolAllocation.objects.exists()


def test_pool_detail_and_removal_retires_a_pool_with_cost(client, finance_user):
    pool = CostPoolFactory(name="Service desk", slug="service-desk")
    CostItemFactory(pool=pool)
    client.force_login(finance_user)
    assert "Service desk" in client.get(pool.get_absolute_url()).content.decode()
    client.post(reverse("finance:pool_delete", args=[pool.slug]))
    pool.refresh_from_db()
    assert pool.is_retired
    empty = CostPoolFactory(slug="empty")
    client.post(reverse("finance:pool_delete", args=[empty.slug]))
    assert not CostPool.objects.filter(slug="empty").exists()


def test_pool_create_makes_a_slug(client, finance_user):
    client.force_login(finance_user)
    response = client.post(reverse("finance:pool_add"), {"name": "Data centre", "pool_type": ""})
    assert response.status_code == 302
    assert CostPool.objects.get().slug == "data-centre"


# --- Rates -------------------------------------------------------------------------------------


def test_rate_add_refuses_the_reporting_currency_and_duplicates(client, finance_user):
    client.force_login(finance_user)
    url = reverse("finance:rate_add")
    response = client.post(url, {"period_label": "2025-03", "currency": "EUR", "rate": "1"})
    assert response.status_code == 422
    assert "needs no rate" in response.content.decode()
    assert (
        client.post(url, {"period_label": "2025-03", "currency": "USD", "rate": "0.91"}).status_code
        == 302
    )
    response = client.post(url, {"period_label": "2025-03", "currency": "USD", "rate": "0.92"})
    assert "already has a rate" in response.content.decode()
    assert ExchangeRate.objects.get().rate == Decimal("0.91")


# --- Periods and runs ---------------------------------------------------------------------------


def test_period_close_restate_and_recompute(client, finance_user, rolled_up):
    march = rolled_up["march"]
    close = reverse("finance:period_close", args=["2025-03"])
    client.force_login(finance_user)
    assert client.post(close).status_code == 302
    march.refresh_from_db()
    assert march.is_closed and march.closed_by == finance_user

    CostItemFactory(period=march, service=rolled_up["claims"], amount=Decimal("10.00"))
    restate = reverse("finance:period_restate", args=["2025-03"])
    assert client.post(restate, {"reason": " "}).status_code == 422
    assert client.post(restate, {"reason": "Late invoice"}).status_code == 302
    page = client.get(march.get_absolute_url()).content.decode()
    assert "What version 2 changed against version 1" in page
    assert "Late invoice" in page

    open_period = PeriodFactory(year=2025, month=4)
    client.post(reverse("finance:period_recompute", args=["2025-04"]))
    assert TcoRun.objects.filter(period=open_period, trigger=RunTrigger.MANUAL).exists()


def test_recompute_of_a_closed_period_says_restate_and_runs_nothing(
    client, finance_user, rolled_up
):
    march = rolled_up["march"]
    services.close_period(period=march)
    runs = TcoRun.objects.count()
    client.force_login(finance_user)
    response = client.post(reverse("finance:period_recompute", args=["2025-03"]), follow=True)
    assert "is closed: its results are frozen" in response.content.decode()
    assert TcoRun.objects.count() == runs


def test_period_detail_compares_the_chosen_version(client, viewer, rolled_up):
    march = rolled_up["march"]
    services.close_period(period=march)
    for reason in ("Late invoice", "Another late invoice"):
        CostItemFactory(period=march, service=rolled_up["claims"], amount=Decimal("10.00"))
        services.restate_period(period=march, reason=reason)
    client.force_login(viewer)
    page = client.get(march.get_absolute_url()).content.decode()
    assert "What version 3 changed against version 2" in page
    page = client.get(march.get_absolute_url() + "?compare=1").content.decode()
    assert "What version 3 changed against version 1" in page
    page = client.get(march.get_absolute_url() + "?compare=7").content.decode()
    assert "What version 3 changed against version 2" in page


def test_period_add(client, finance_user):
    client.force_login(finance_user)
    response = client.post(reverse("finance:period_add"), {"label": "2026-01"})
    assert response.status_code == 302
    assert Period.objects.get().label == "2026-01"
    response = client.post(reverse("finance:period_add"), {"label": "2026-01"})
    assert response.status_code == 422
    assert "exists already" in response.content.decode()


def test_period_list_shows_fiscal_year(client, viewer, settings):
    settings.PORTICO_FISCAL_YEAR_START_MONTH = 4
    PeriodFactory(year=2025, month=4)
    client.force_login(viewer)
    assert "FY2026 Q1 M1" in client.get(reverse("finance:period_list") + "?q=").content.decode()


def test_list_pages_without_a_query_list_their_rows(client, viewer):
    """The lists show every row before any filter is touched (no query string at all)."""
    client.force_login(viewer)
    CostItemFactory(description="Visible line")
    assert "Visible line" in client.get(reverse("finance:costitem_list")).content.decode()


def test_lineage_does_not_mistake_the_rounding_cent_for_a_change(client, viewer):
    """100.00 shared by three: stored 33.34, 33.33, 33.33 (largest remainder); traced, each
    is 33.333…: all three agree with what is stored. A real change shows."""
    period = PeriodFactory(year=2025, month=4)
    pool = CostPoolFactory(name="Desk")
    shares = [ServiceFactory(name=f"Share {n}") for n in range(3)]
    for service in shares:
        PoolAllocationFactory(pool=pool, service=service, weight=1)
    item = CostItemFactory(period=period, pool=pool, amount=Decimal("100.00"))
    services.recompute_tco(period=period)
    stored = sorted(r.tco for r in period.results.all())
    assert stored == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert not any(
        selectors.lineage(service=service, period=period)["differs"] for service in shares
    )
    CostItem.objects.filter(pk=item.pk).update(amount=Decimal("100.06"))
    assert all(selectors.lineage(service=service, period=period)["differs"] for service in shares)


def test_rates_are_shown_as_people_write_them(client, viewer):
    rate = ExchangeRateFactory(currency="JPY", rate=Decimal("100"))
    client.force_login(viewer)
    page = client.get(reverse("finance:rate_list")).content.decode()
    assert ">100<" in page and "1E+2" not in page
    assert str(rate).endswith(": 100")


def test_overview_filters_by_a_node_of_the_flow_chart(client, viewer, rolled_up):
    """Each node of the chart links to the table filtered by it: a service, a cost category,
    a road; the link works as a plain link and the table says which node it shows."""
    client.force_login(viewer)
    url = reverse("finance:overview")
    platform = rolled_up["platform"]

    def names(node):
        response = client.get(url, {"period": "2025-03", "node": node})
        assert response.status_code == 200
        return sorted(row.service.name for row in response.context["page"].object_list)

    page = client.get(url, {"period": "2025-03"}).content.decode()
    assert f'&amp;node=service%3A{platform.pk}#services-title"' in page
    assert '&amp;node=road%3Aservice#services-title"' in page
    assert names(f"service:{platform.pk}") == ["Platform"]
    # The platform's cost was recorded on it, and reaches the other two through it.
    assert names("road:service") == ["Platform"]
    assert names("category:development") == ["Claims", "Platform", "Quotes"]
    assert names("category:vendor") == []
    response = client.get(url, {"period": "2025-03", "node": f"service:{platform.pk}"})
    page = response.content.decode()
    assert "The services of the flow chart's node <strong>Platform</strong>" in page
    assert 'class="sankey-node chosen"' in page


@pytest.mark.parametrize("node", ["service:x", "category:nothing", "road:", "elsewhere"])
def test_a_bad_flow_chart_node_names_the_field_and_shows_no_rows(client, viewer, rolled_up, node):
    client.force_login(viewer)
    response = client.get(reverse("finance:overview"), {"period": "2025-03", "node": node})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    page = response.content.decode()
    assert "<strong>Flow chart node</strong>: Choose a node of the flow chart" in page
