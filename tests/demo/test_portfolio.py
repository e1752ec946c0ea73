"""The demo organisation's portfolio: its sizes and shape, each row in the change log, and a
second load that creates and changes nothing, even over an edited demo record."""

import pytest
from django.db.models import F
from django.utils import timezone

from core.models import ObjectChange
from performance.selectors import statuses_of_items
from performance.selectors import statuses_of_outcomes
from portfolio import demo as portfolio_demo
from portfolio import selectors
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier
from tests.demo import load_demo

PORTFOLIO_MODELS = (
    Service,
    SpecificationItem,
    ServiceDependency,
    Customer,
    Subscription,
    Outcome,
    Supplier,
    Contract,
    ContractCoverage,
    Application,
    ApplicationSupport,
)

pytestmark = pytest.mark.django_db


def demo_rows(model):
    return model.objects.filter(source=portfolio_demo.SOURCE)


def snapshot() -> dict:
    """Every demo row of the portfolio with all its fields (timestamps included), and the
    services' delegates."""
    rows = {
        model._meta.label: list(demo_rows(model).order_by("pk").values())
        for model in PORTFOLIO_MODELS
    }
    rows["delegates"] = list(
        Service.delegates.through.objects.order_by("pk").values("service_id", "user_id")
    )
    return rows


def test_load_demo_second_run_creates_and_changes_nothing(demo):
    before = snapshot()
    changes = ObjectChange.objects.count()

    output = load_demo()

    assert snapshot() == before
    assert ObjectChange.objects.count() == changes
    assert "Demo portfolio: 0 created" in output


def test_load_demo_records_each_created_row_in_the_change_log(demo):
    created = sum(demo_rows(model).count() for model in PORTFOLIO_MODELS)
    summary = next(line for line in demo.splitlines() if line.startswith("Demo portfolio:"))
    assert summary.startswith(f"Demo portfolio: {created} created")
    logged = ObjectChange.objects.filter(
        source="demo", action="create", content_type__app_label="portfolio"
    )
    assert logged.count() == created


def test_load_demo_has_the_portfolio_sizes(demo):
    assert demo_rows(Service).count() == 30
    assert demo_rows(Customer).count() == 8
    assert demo_rows(Supplier).count() == 10
    assert demo_rows(Contract).count() == 14
    assert demo_rows(Application).count() == 25
    assert 55 <= demo_rows(ServiceDependency).count() <= 70
    assert 28 <= demo_rows(Subscription).count() <= 34
    assert 22 <= demo_rows(Outcome).count() <= 30


def test_load_demo_services_match_the_organisation(demo):
    services = {s.slug: s for s in demo_rows(Service).select_related("owner")}
    assert services["online-claims"].owner.username == "vera"
    assert services["hosting-platform"].owner.username == "bob"
    assert services["finance-ledger"].kind == ServiceKind.INTERNAL
    kinds = [s.kind for s in services.values()]
    assert kinds.count(ServiceKind.CUSTOMER_FACING) == 12
    assert kinds.count(ServiceKind.SUPPORTING) == 14
    assert kinds.count(ServiceKind.INTERNAL) == 4
    lifecycles = [s.lifecycle for s in services.values()]
    assert lifecycles.count(ServiceLifecycle.RETIRED) == 1
    assert 2 <= lifecycles.count(ServiceLifecycle.PIPELINE) <= 3
    assert all(s.live_on for s in services.values() if s.lifecycle == ServiceLifecycle.LIVE)
    assert Service.delegates.through.objects.filter(service__source="demo").exists()


def test_load_demo_most_services_fully_specified_four_deliberately_not(demo):
    services = selectors.with_completeness(demo_rows(Service))
    incomplete = {s.slug for s in services if not s.is_complete}
    assert len(incomplete) == 4
    all_quadrants = [s for s in services if len(selectors.filled_quadrants(s)) == 4]
    assert len(all_quadrants) >= 26


def test_load_demo_functioning_items_have_a_year_of_figures_some_missed_one_stale(demo):
    live = demo_rows(SpecificationItem).filter(
        dimension="functioning", service__lifecycle=ServiceLifecycle.LIVE
    )
    statuses = list(statuses_of_items(live, timezone.localdate()).values())
    assert statuses.count("met") > statuses.count("missed") > 5
    assert statuses.count("stale") == 1
    assert "not_measured" in statuses
    measured = live.filter(measurements__isnull=False).distinct()
    assert measured.count() >= 100
    months = {item.measurements.count() for item in measured}
    assert months == {12}
    outcomes = statuses_of_outcomes(demo_rows(Outcome), timezone.localdate())
    assert {"met", "at_risk", "missed"} <= set(outcomes.values())


def test_load_demo_dependencies_include_a_cycle(demo):
    hub = Service.objects.get(slug="integration-hub")
    crm = Service.objects.get(slug="crm-platform")
    assert selectors.in_dependency_cycle(hub) and selectors.in_dependency_cycle(crm)
    assert not ServiceDependency.objects.filter(consumer=F("provider")).exists()


def test_load_demo_customer_facing_services_depend_on_supporting_ones(demo):
    links = demo_rows(ServiceDependency).select_related("consumer", "provider")
    customer_facing = [link for link in links if link.consumer.kind == ServiceKind.CUSTOMER_FACING]
    assert customer_facing
    assert all(link.provider.kind == ServiceKind.SUPPORTING for link in customer_facing)


def test_load_demo_outcomes_mostly_measurable_some_linked(demo):
    outcomes = list(demo_rows(Outcome).select_related("subscription", "specification_item"))
    measurable = [outcome for outcome in outcomes if outcome.is_measurable]
    assert len(measurable) > len(outcomes) / 2
    assert len(measurable) < len(outcomes)  # a few are not yet measurable
    linked = [outcome for outcome in outcomes if outcome.specification_item]
    assert len(linked) >= 10
    for outcome in linked:
        assert outcome.specification_item.service_id == outcome.subscription.service_id


def test_load_demo_subscriptions_are_priced_in_euro(demo):
    subscriptions = list(demo_rows(Subscription))
    assert {s.currency for s in subscriptions} == {"EUR"}
    assert all(s.annual_revenue > 0 for s in subscriptions)
    assert any(s.annual_charge is not None for s in subscriptions)
    assert any(s.price_per_unit is not None for s in subscriptions)


def test_load_demo_two_or_three_contracts_within_the_notice_window(demo):
    due = [c for c in selectors.contracts_near_notice(days=90) if c.source == "demo"]
    assert 2 <= len(due) <= 3


def test_load_demo_suppliers_contracts_and_applications_have_owners(demo):
    assert not demo_rows(Supplier).filter(owner=None).exists()
    assert not demo_rows(Contract).filter(owner=None).exists()
    assert not demo_rows(Application).filter(owner=None).exists()
    coverages = demo_rows(ContractCoverage)
    assert coverages.filter(service__isnull=False).exists()
    assert coverages.filter(application__isnull=False).exists()
    assert demo_rows(ApplicationSupport).count() >= 25
    assert demo_rows(Application).exclude(disposition="").count() == 25


def test_load_demo_keeps_an_edited_demo_record(demo):
    service = Service.objects.get(slug="online-claims")
    service.name = "Claims Online"
    service.save()
    changes = ObjectChange.objects.count()

    load_demo()

    service.refresh_from_db()
    assert service.name == "Claims Online"
    assert ObjectChange.objects.count() == changes
