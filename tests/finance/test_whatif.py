"""What-if before saving (finance.services.whatif and the forms' "Preview the effect" step):
the figures a preview shows are those the roll-up computes once the write is saved, the
preview writes nothing, and it applies the save's rules and rights."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from benchmarks import harness
from benchmarks import whatif as whatif_benchmark
from core.models import ObjectChange
from finance import services as finance_services
from finance.choices import CostCategory
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import TcoResult
from finance.services import whatif
from portfolio import services as portfolio_services
from portfolio.choices import ServiceKind
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import ServiceDependency
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def portfolio(db):
    """March 2025: Hosting (900.00 infrastructure, 300.00 maintenance) serves Claims
    (weight 1); a contract of 12,000.00 a year covers Hosting; the Data centre pool
    (600.00) is allocated to Hosting; the Claims app (1,200.00) supports Claims. Computed."""
    march = PeriodFactory(year=2025, month=3)
    hosting = ServiceFactory(name="Hosting", slug="hosting", kind=ServiceKind.SUPPORTING)
    claims = ServiceFactory(name="Claims", slug="claims")
    portal = ServiceFactory(name="Portal", slug="portal")
    CostItemFactory(
        period=march, service=hosting, amount=Decimal("900.00"), category="infrastructure"
    )
    CostItemFactory(period=march, service=hosting, amount=Decimal("300.00"), category="maintenance")
    ServiceDependencyFactory(consumer=claims, provider=hosting, weight=Decimal(1))
    contract = ContractFactory(reference="C-1", title="Hosting support")
    ContractCoverageFactory(contract=contract, service=hosting)
    pool = CostPoolFactory(name="Data centre", slug="data-centre")
    PoolAllocationFactory(pool=pool, service=hosting)
    CostItemFactory(period=march, pool=pool, service=None, amount=Decimal("600.00"))
    app = ApplicationFactory(name="Claims app", slug="claims-app")
    ApplicationSupportFactory(application=app, service=claims)
    CostItemFactory(period=march, application=app, service=None, amount=Decimal("1200.00"))
    finance_services.recompute_tco(period=march)
    march.refresh_from_db()
    return {
        "march": march,
        "hosting": hosting,
        "claims": claims,
        "portal": portal,
        "contract": contract,
        "pool": pool,
        "app": app,
    }


def stored(period: Period) -> dict[int, dict[str, Decimal]]:
    return {
        row[0]: dict(zip(whatif.BUCKETS, row[1:], strict=True))
        for row in TcoResult.objects.filter(
            period=period, version=period.current_version
        ).values_list("service_id", *whatif.BUCKETS)
    }


def assert_preview_is_the_saved_outcome(preview: whatif.Preview, period: Period) -> None:
    """Recompute the period after the save: every service the preview lists has exactly
    its 'after' figures, and every other service kept its figures."""
    before = stored(period)
    finance_services.recompute_tco(period=period)
    period.refresh_from_db()
    after = stored(period)
    listed = {row.service_id: row for row in preview.services}
    assert listed, "the preview lists no service"
    for pk, figures in after.items():
        if pk in listed:
            assert figures == listed[pk].after
            assert before[pk] == listed[pk].before
        else:
            assert figures == before[pk]


def test_a_new_dependency_previews_what_the_roll_up_computes_after_the_save(portfolio):
    march, hosting, portal = portfolio["march"], portfolio["hosting"], portfolio["portal"]
    changes, dependencies = ObjectChange.objects.count(), ServiceDependency.objects.count()

    def add():
        return portfolio_services.save_dependency(
            dependency=ServiceDependency(consumer=portal, provider=hosting, weight=Decimal(2))
        )

    preview = whatif.preview(add, period=march)
    assert preview.period == march and preview.before_source == "stored"
    # Hosting's 2,800.00 (900.00 + 300.00 of its own, 1,000.00 of the contract, 600.00 of
    # the pool) is now shared 1 : 2 between Claims and Portal.
    rows = {row.slug: row for row in preview.services}
    assert set(rows) == {"claims", "portal"}
    assert rows["portal"].before["tco"] == 0
    assert rows["portal"].after["tco"] == Decimal("1866.67")
    assert rows["claims"].delta["tco"] == Decimal("-1866.67")
    assert rows["claims"].delta["tco_vendor"] == Decimal("-666.67")
    assert rows["portal"].after["tco_infrastructure"] == Decimal("600.00")
    # Nothing was written: no edge, no change record, no recomputation requested.
    assert ServiceDependency.objects.count() == dependencies
    assert ObjectChange.objects.count() == changes
    march.refresh_from_db()
    assert march.recompute_requested_at is None

    add()
    assert_preview_is_the_saved_outcome(preview, march)


def test_a_contract_value_previews_what_the_roll_up_computes_after_the_save(portfolio):
    march, contract = portfolio["march"], portfolio["contract"]

    def change():
        stored_contract = Contract.objects.get(pk=contract.pk)
        stored_contract.annual_value = Decimal("18000.01")
        return portfolio_services.save_contract(contract=stored_contract)

    preview = whatif.preview(change, period=march)
    rows = {row.slug: row for row in preview.services}
    # Hosting passes everything on to Claims: both move by the 500.00 of the twelfth (and
    # March gets no odd cent: one cent over twelve months goes to January).
    assert rows["hosting"].delta["tco"] == Decimal("500.00")
    assert rows["claims"].delta["tco_vendor"] == Decimal("500.00")
    assert Contract.objects.get(pk=contract.pk).annual_value == Decimal("12000.00")
    change()
    assert_preview_is_the_saved_outcome(preview, march)


def test_coverage_support_and_allocation_previews_match_the_saved_outcome(portfolio):
    march = portfolio["march"]
    claims, portal = portfolio["claims"], portfolio["portal"]

    def cover():
        portfolio_services.save_coverage(
            coverage=ContractCoverage(contract=portfolio["contract"], service=portal, weight=3)
        )

    def support():
        edge = ApplicationSupport.objects.get(application=portfolio["app"], service=claims)
        edge.weight = Decimal(1)
        edge.save()  # unchanged, then a new support beside it
        portfolio_services.save_application_support(
            support=ApplicationSupport(application=portfolio["app"], service=portal, weight=1)
        )

    def allocate():
        finance_services.save_allocation(
            allocation=PoolAllocation(pool=portfolio["pool"], service=portal, weight=1)
        )

    for apply in (cover, support, allocate):
        preview = whatif.preview(apply, period=march)
        assert {row.slug for row in preview.services} >= {"portal"}
        apply()
        assert_preview_is_the_saved_outcome(preview, march)
    # The last, a share of the pool for Portal, takes it from Hosting and so from Claims.
    assert {row.slug for row in preview.services} == {"hosting", "claims", "portal"}


def test_a_refused_write_raises_its_rule_and_writes_nothing(portfolio):
    march, hosting = portfolio["march"], portfolio["hosting"]
    with pytest.raises(ValidationError) as refused:
        whatif.preview(
            lambda: portfolio_services.save_dependency(
                dependency=ServiceDependency(consumer=hosting, provider=hosting)
            ),
            period=march,
        )
    assert "cannot depend on itself" in str(refused.value)
    assert ServiceDependency.objects.count() == 1


def test_with_results_out_of_date_the_figures_before_are_computed(portfolio):
    """A change waiting for its recomputation is not counted as the previewed write's."""
    march, hosting, portal = portfolio["march"], portfolio["hosting"], portfolio["portal"]
    CostItemFactory(period=march, service=hosting, amount=Decimal("300.00"))  # not computed
    finance_services.mark_period_dirty(march.pk)
    preview = whatif.preview(
        lambda: portfolio_services.save_dependency(
            dependency=ServiceDependency(consumer=portal, provider=hosting, weight=Decimal(1))
        ),
        period=march,
    )
    assert preview.before_source == "computed"
    rows = {row.slug: row for row in preview.services}
    # Hosting's 3,100.00 now (300.00 more), shared half and half.
    assert rows["portal"].after["tco"] == Decimal("1550.00")
    assert rows["claims"].before["tco"] == Decimal("4300.00")  # not the stored 4,000.00
    assert rows["claims"].delta["tco"] == Decimal("-1550.00")


def test_the_open_period_is_the_current_month_else_the_latest_before_it(db):
    assert whatif.open_period() is None
    later = PeriodFactory(year=2031, month=1)
    assert whatif.open_period(datetime.date(2026, 12, 7)) == later
    earlier = PeriodFactory(year=2026, month=11)
    assert whatif.open_period(datetime.date(2026, 12, 7)) == earlier
    current = PeriodFactory(year=2026, month=12)
    assert whatif.open_period(datetime.date(2026, 12, 7)) == current
    current.status = "closed"
    current.save()
    assert whatif.open_period(datetime.date(2026, 12, 7)) == earlier


def test_an_edge_outside_the_period_changes_nothing_there(portfolio):
    preview = whatif.preview(
        lambda: portfolio_services.save_dependency(
            dependency=ServiceDependency(
                consumer=portfolio["portal"],
                provider=portfolio["hosting"],
                valid_from=datetime.date(2025, 4, 1),
            )
        ),
        period=portfolio["march"],
    )
    assert not preview.changed


# --- The forms' "Preview the effect" step ------------------------------------------------------


def test_the_dependency_form_previews_then_saves(client, portfolio, portfolio_manager):
    client.force_login(portfolio_manager)
    url = reverse("portfolio:dependency_add", args=["portal"])
    data = {"provider": "hosting", "weight": "2", "preview": "1"}
    response = client.post(url, data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "The effect on 2025-03" in body
    assert 'data-whatif-service="portal"' in body and "+1,866.67" in body
    assert "-1,866.67" in body and "Add dependency" in body
    assert 'value="hosting"' in body  # the form keeps what was sent
    assert not ServiceDependency.objects.filter(consumer__slug="portal").exists()

    del data["preview"]
    response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert ServiceDependency.objects.get(consumer__slug="portal").weight == 2


def test_a_preview_shows_the_rules_refusal_as_form_errors(client, portfolio, portfolio_manager):
    client.force_login(portfolio_manager)
    url = reverse("portfolio:dependency_add", args=["hosting"])
    response = client.post(url, {"provider": "hosting", "weight": "1", "preview": "1"}, **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "cannot depend on itself" in body and "data-whatif" not in body
    response = client.post(url, {"provider": "claims", "weight": "-1", "preview": "1"}, **HTMX)
    assert response.status_code == 422


def test_a_preview_asks_the_saves_rights(client, portfolio, viewer):
    client.force_login(viewer)
    url = reverse("portfolio:dependency_add", args=["portal"])
    response = client.post(url, {"provider": "hosting", "weight": "1", "preview": "1"}, **HTMX)
    assert response.status_code == 403
    assert not ServiceDependency.objects.filter(consumer__slug="portal").exists()


def test_without_javascript_the_preview_is_a_page_with_a_save_button(
    client, portfolio, portfolio_manager
):
    client.force_login(portfolio_manager)
    url = reverse("portfolio:dependency_add", args=["portal"])
    response = client.post(url, {"provider": "hosting", "weight": "2", "preview": "1"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "The effect on 2025-03" in body and "+1,866.67" in body
    assert '<button type="submit">Save</button>' in body
    response = client.post(url, {"provider": "hosting", "weight": "2"})
    assert response.status_code == 302
    assert ServiceDependency.objects.filter(consumer__slug="portal").exists()


@pytest.mark.parametrize("form", ["coverage", "support", "allocation", "allocation_edit"])
def test_each_edge_form_previews(client, portfolio, portfolio_manager, form):
    client.force_login(portfolio_manager)
    if form == "coverage":
        url = reverse("portfolio:coverage_add", args=[portfolio["contract"].pk])
        data = {"service": "portal", "weight": "1"}
    elif form == "support":
        url = reverse("portfolio:support_add", args=["claims-app"])
        data = {"service": "portal", "weight": "1"}
    elif form == "allocation":
        url = reverse("finance:allocation_add", args=["data-centre"])
        data = {"service": "portal", "weight": "1"}
    else:
        allocation = PoolAllocation.objects.get()
        PoolAllocationFactory(pool=portfolio["pool"], service=portfolio["portal"])
        url = reverse("finance:allocation_edit", args=[allocation.pk])
        data = {"service": "hosting", "weight": "3"}
    before = ObjectChange.objects.count()
    response = client.post(url, {**data, "preview": "1"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200, body
    assert 'data-whatif-service="portal"' in body
    assert ObjectChange.objects.count() == before


def test_the_contract_form_previews_a_new_annual_value(client, portfolio, portfolio_manager):
    client.force_login(portfolio_manager)
    contract = portfolio["contract"]
    url = reverse("portfolio:contract_edit", args=[contract.pk])
    form = client.get(url).content.decode()
    assert "Preview the effect" in form
    data = {
        "supplier": contract.supplier.slug,
        "reference": "C-1",
        "title": "Hosting support",
        "start_date": "2024-01-01",
        "notice_period_days": "90",
        "annual_value": "24000.00",
        "currency": "EUR",
        "escalation_percent": "0",
        "preview": "1",
    }
    response = client.post(url, data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200, body
    assert 'data-whatif-service="hosting"' in body and "+1,000.00" in body
    assert Contract.objects.get(pk=contract.pk).annual_value == Decimal("12000.00")


def test_the_category_columns_follow_the_cost_categories(portfolio):
    preview = whatif.preview(
        lambda: portfolio_services.save_dependency(
            dependency=ServiceDependency(
                consumer=portfolio["portal"], provider=portfolio["hosting"]
            )
        ),
        period=portfolio["march"],
    )
    assert preview.category_labels == [str(label) for _, label in CostCategory.choices]
    row = next(row for row in preview.services if row.slug == "portal")
    assert sum(row.category_deltas) == row.delta["tco"]


def test_the_whatif_benchmark_runs_on_tiny_data(db):
    """A smoke test of the benchmark's own code: no timing is asserted, but its check that
    the preview equals the saved outcome must hold."""
    bench = harness.Bench("whatif", whatif_benchmark.TITLE, scale=0.01, stdout=StringIO())
    whatif_benchmark.run(bench)
    check = bench.figures[-1]
    assert check.label.startswith("Previewed TCO = stored TCO") and check.met is True
