"""Effective-dated edges: an application support, a contract coverage, a pool allocation or a
dependency counts in a month when it is in force on the 15th, like a contract; a roll-up and
a restatement of a month read the edges of that month; two edges of one pair never overlap;
changing an edge from a month ends it and starts its successor."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction

from finance import selectors
from finance import services
from finance import tco
from finance.models import PoolAllocation
from finance.models import TcoResult
from portfolio import services as portfolio_services
from portfolio.models import ApplicationSupport
from portfolio.models import ContractCoverage
from portfolio.models import ServiceDependency
from tests.factories import UserFactory
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

pytestmark = pytest.mark.django_db

day = datetime.date


def tco_of(period, service, version=1) -> Decimal:
    found = TcoResult.objects.filter(period=period, service=service, version=version).first()
    return found.tco if found is not None else Decimal(0)


# --- The roll-up reads the edges of the period's month ------------------------------------


def test_edge_in_force_on_the_15th_is_one_rule_for_every_kind_of_edge():
    march = PeriodFactory(year=2025, month=3)
    pool, contract = CostPoolFactory(), ContractFactory()
    application, consumer = ApplicationFactory(), ServiceFactory()
    spans = {
        "ended on the 14th": (None, day(2025, 3, 14)),
        "ends on the 15th": (None, day(2025, 3, 15)),
        "starts on the 15th": (day(2025, 3, 15), None),
        "starts on the 16th": (day(2025, 3, 16), None),
        "open": (None, None),
        "March only": (day(2025, 3, 1), day(2025, 3, 31)),
    }
    counted = {"ends on the 15th", "starts on the 15th", "open", "March only"}
    edges = {}
    for name, (valid_from, valid_to) in spans.items():
        dates = {"valid_from": valid_from, "valid_to": valid_to}
        service = ServiceFactory(name=name)
        edges[name] = [
            ((tco.POOL, pool.pk), PoolAllocationFactory(pool=pool, service=service, **dates)),
            (
                (tco.CONTRACT, contract.pk),
                ContractCoverageFactory(contract=contract, service=service, **dates),
            ),
            (
                (tco.APPLICATION, application.pk),
                ApplicationSupportFactory(application=application, service=service, **dates),
            ),
            (
                (tco.SERVICE, service.pk),
                ServiceDependencyFactory(provider=service, consumer=consumer, **dates),
            ),
        ]
    loaded = {(e.source, e.target) for e in selectors.load_inputs(period=march).inputs.edges}
    for name, kinds in edges.items():
        for source, edge in kinds:
            target = (
                (tco.SERVICE, consumer.pk)
                if isinstance(edge, ServiceDependency)
                else (tco.SERVICE, edge.service_id)
            )
            assert ((source, target) in loaded) == (name in counted), (name, type(edge))


@pytest.fixture
def shared_pool():
    """A pool of 120.00 a month in March and June 2025, allocated to Old until the end of
    March (last quarter, seen from June), to Current from April, and to Next from July."""
    march, june = PeriodFactory(year=2025, month=3), PeriodFactory(year=2025, month=6)
    pool = CostPoolFactory()
    old, current, upcoming = (ServiceFactory(name=n) for n in ("Old", "Current", "Next"))
    ended = PoolAllocationFactory(pool=pool, service=old, valid_to=day(2025, 3, 31))
    PoolAllocationFactory(pool=pool, service=current, valid_from=day(2025, 4, 1))
    PoolAllocationFactory(pool=pool, service=upcoming, valid_from=day(2025, 7, 1))
    for period in (march, june):
        CostItemFactory(period=period, pool=pool, amount=Decimal("120.00"))
    return {
        "march": march,
        "june": june,
        "old": old,
        "current": current,
        "next": upcoming,
        "ended": ended,
    }


def test_edge_ended_last_quarter_carries_nothing_now_and_one_starting_next_month_neither(
    shared_pool,
):
    june = shared_pool["june"]
    services.recompute_tco(period=june)
    assert tco_of(june, shared_pool["current"]) == Decimal("120.00")
    assert tco_of(june, shared_pool["old"]) == 0
    assert tco_of(june, shared_pool["next"]) == 0


def test_restatement_of_a_closed_month_uses_the_edges_of_that_month(shared_pool, finance_user):
    march = shared_pool["march"]
    services.close_period(period=march, user=finance_user)
    assert tco_of(march, shared_pool["old"]) == Decimal("120.00")
    # Today's structure: the old allocation is gone since April, Current took over.
    services.restate_period(period=march, user=finance_user, reason="Late invoice")
    assert tco_of(march, shared_pool["old"], version=2) == Decimal("120.00")
    assert tco_of(march, shared_pool["current"], version=2) == 0
    # And the lineage of March explains March with March's edges.
    traced = selectors.lineage(service=shared_pool["old"], period=march)
    assert traced["gross"] == Decimal("120.00")
    assert [(e.source_label, e.target_label) for e in traced["edges"]] == [
        (shared_pool["ended"].pool.name, "Old")
    ]


def test_an_ended_dependency_passes_nothing_on():
    june = PeriodFactory(year=2025, month=6)
    provider, consumer = ServiceFactory(), ServiceFactory()
    ServiceDependencyFactory(provider=provider, consumer=consumer, valid_to=day(2025, 3, 31))
    CostItemFactory(period=june, service=provider, amount=Decimal("50.00"))
    services.recompute_tco(period=june)
    assert tco_of(june, consumer) == 0
    assert TcoResult.objects.get(period=june, service=provider).kept == Decimal("50.00")


# --- The rules ------------------------------------------------------------------------------


def test_an_edge_cannot_end_before_it_starts_on_any_path():
    backwards = {"valid_from": day(2025, 5, 1), "valid_to": day(2025, 4, 30)}
    saves = [
        lambda: portfolio_services.save_dependency(
            dependency=ServiceDependency(
                consumer=ServiceFactory(), provider=ServiceFactory(), **backwards
            )
        ),
        lambda: portfolio_services.save_application_support(
            support=ApplicationSupport(
                application=ApplicationFactory(), service=ServiceFactory(), **backwards
            )
        ),
        lambda: portfolio_services.save_coverage(
            coverage=ContractCoverage(
                contract=ContractFactory(), service=ServiceFactory(), **backwards
            )
        ),
        lambda: services.save_allocation(
            allocation=PoolAllocation(pool=CostPoolFactory(), service=ServiceFactory(), **backwards)
        ),
    ]
    for save in saves:
        with pytest.raises(ValidationError) as refused:
            save()
        assert list(refused.value.message_dict) == ["valid_to"]
        assert "cannot end before it starts" in refused.value.message_dict["valid_to"][0]


def test_overlapping_edges_of_one_pair_are_refused_and_consecutive_ones_allowed():
    pool, service = CostPoolFactory(), ServiceFactory()
    services.save_allocation(
        allocation=PoolAllocation(pool=pool, service=service, valid_to=day(2025, 3, 31))
    )
    # The next day on is free.
    services.save_allocation(
        allocation=PoolAllocation(
            pool=pool, service=service, weight=Decimal(2), valid_from=day(2025, 4, 1)
        )
    )
    with pytest.raises(ValidationError) as refused:
        services.save_allocation(
            allocation=PoolAllocation(pool=pool, service=service, valid_from=day(2025, 9, 1))
        )
    assert refused.value.message_dict == {
        "service": [
            "This pool is already allocated to this service from 2025-04-01: the days overlap."
        ]
    }
    # Moving an edge's own days is no overlap with itself.
    first = PoolAllocation.objects.get(valid_to=day(2025, 3, 31))
    first.valid_to = day(2025, 2, 28)
    services.save_allocation(allocation=first)

    coverage = ContractCoverageFactory(valid_from=day(2025, 1, 1), valid_to=day(2025, 6, 30))
    with pytest.raises(ValidationError) as refused:
        portfolio_services.save_coverage(
            coverage=ContractCoverage(
                contract=coverage.contract, service=coverage.service, valid_to=day(2025, 1, 1)
            )
        )
    assert refused.value.message_dict == {
        "service": [
            "This contract already covers this service from 2025-01-01 to 2025-06-30: the "
            "days overlap."
        ]
    }


def test_the_database_refuses_overlapping_edges_too():
    dependency = ServiceDependencyFactory(valid_from=day(2025, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDependency.objects.create(
            consumer=dependency.consumer,
            provider=dependency.provider,
            valid_from=day(2025, 6, 1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDependency.objects.create(
            consumer=dependency.consumer,
            provider=dependency.provider,
            valid_to=day(2024, 6, 1),
            valid_from=day(2024, 7, 1),
        )
    # One statement may end an edge and start its successor.
    ServiceDependency.objects.create(
        consumer=dependency.consumer, provider=dependency.provider, valid_to=day(2024, 12, 31)
    )


# --- Changing an edge from a month ----------------------------------------------------------


def test_change_from_a_month_ends_the_edge_and_starts_its_successor(portfolio_manager):
    allocation = PoolAllocationFactory(weight=Decimal(1), valid_to=day(2025, 12, 31))
    successor = services.change_allocation_from_month(
        allocation=allocation, month=day(2025, 5, 1), weight=Decimal(3), user=portfolio_manager
    )
    allocation.refresh_from_db()
    assert (allocation.valid_from, allocation.valid_to, allocation.weight) == (
        None,
        day(2025, 4, 30),
        Decimal(1),
    )
    assert (successor.valid_from, successor.valid_to, successor.weight) == (
        day(2025, 5, 1),
        day(2025, 12, 31),
        Decimal(3),
    )
    assert (successor.pool_id, successor.service_id) == (allocation.pool_id, allocation.service_id)
    april, may = PeriodFactory(year=2025, month=4), PeriodFactory(year=2025, month=5)
    weights = {
        period.month: [e.weight for e in selectors.load_inputs(period=period).inputs.edges]
        for period in (april, may)
    }
    assert weights == {4: [Decimal(1)], 5: [Decimal(3)]}


def test_change_from_a_month_is_refused_outside_the_edge_and_without_the_right(viewer):
    dependency = ServiceDependencyFactory(
        valid_from=day(2025, 3, 10), valid_to=day(2025, 8, 31), weight=Decimal(1)
    )
    for month in (day(2025, 3, 1), day(2025, 9, 1)):
        with pytest.raises(ValidationError) as refused:
            portfolio_services.change_dependency_from_month(
                dependency=dependency,
                month=month,
                weight=Decimal(2),
                user=UserFactory(role="Portfolio manager"),
            )
        assert list(refused.value.message_dict) == ["month"]
    with pytest.raises(PermissionDenied):
        portfolio_services.change_dependency_from_month(
            dependency=dependency, month=day(2025, 5, 1), weight=Decimal(2), user=viewer
        )
    assert ServiceDependency.objects.count() == 1
    dependency.refresh_from_db()
    assert dependency.valid_to == day(2025, 8, 31)
