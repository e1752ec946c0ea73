"""Factories of cost data: periods, cost items, pools and their allocations, rates; and the
fixtures that watch the recomputations changes schedule (import them where needed)."""

from decimal import Decimal

import factory
import pytest
from django.db import connection
from django.utils.text import slugify

from finance import services
from finance import tasks
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import NodeKind
from finance.choices import ReportFormat
from finance.choices import ReportPeriodSelector
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import ReportDefinition
from finance.models import StageCost
from finance.models import StatementLine
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.models import ValueStreamCost
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory


class PeriodFactory(factory.django.DjangoModelFactory):
    """An open calendar month; ``PeriodFactory(year=2025, month=3)`` is 2025-03."""

    class Meta:
        model = Period
        django_get_or_create = ("year", "month")

    year = 2025
    month = factory.Sequence(lambda n: n % 12 + 1)


class CostPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostPool

    name = factory.Sequence(lambda n: f"Cost pool {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    owner = None


class PoolAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PoolAllocation

    pool = factory.SubFactory(CostPoolFactory)
    service = factory.SubFactory(ServiceFactory)
    weight = Decimal(1)


class DriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Driver

    name = factory.Sequence(lambda n: f"Driver {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    unit = "site"


class DriverQuantityFactory(factory.django.DjangoModelFactory):
    """A service's quantity of a driver in a period."""

    class Meta:
        model = DriverQuantity

    driver = factory.SubFactory(DriverFactory)
    period = factory.SubFactory(PeriodFactory)
    service = factory.Maybe(
        factory.LazyAttribute(lambda o: o.application is None),
        yes_declaration=factory.SubFactory(ServiceFactory),
        no_declaration=None,
    )
    application = None
    quantity = Decimal(1)


class CostItemFactory(factory.django.DjangoModelFactory):
    """1,000.00 EUR of development opex against a new service, unless told otherwise."""

    class Meta:
        model = CostItem

    description = factory.Sequence(lambda n: f"Cost line {n}")
    period = factory.SubFactory(PeriodFactory)
    amount = Decimal("1000.00")
    currency = "EUR"
    category = CostCategory.DEVELOPMENT
    expenditure = Expenditure.OPEX
    spread_months = 1
    service = factory.Maybe(
        factory.LazyAttribute(lambda o: not (o.application or o.contract or o.pool)),
        yes_declaration=factory.SubFactory(ServiceFactory),
        no_declaration=None,
    )
    application = None
    contract = None
    pool = None


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    period = factory.SubFactory(PeriodFactory)
    currency = "USD"
    rate = Decimal("0.9")


class TcoResultFactory(factory.django.DjangoModelFactory):
    """A stored result (as the roll-up writes them), 100.00 kept by a new service."""

    class Meta:
        model = TcoResult

    period = factory.SubFactory(PeriodFactory)
    version = 1
    service = factory.SubFactory(ServiceFactory)
    direct = Decimal("100.00")
    tco = Decimal("100.00")
    kept = Decimal("100.00")
    tco_development = Decimal("100.00")
    tco_opex = Decimal("100.00")
    breakdown = factory.LazyFunction(
        lambda: {"tco": {"development": {"opex": 10000}}, "kept": {"development": {"opex": 10000}}}
    )


class CustomerStatementFactory(factory.django.DjangoModelFactory):
    """A stored statement (as the roll-up writes them): one subscription of a new customer,
    125.00 of revenue against 100.00 of cost to serve."""

    class Meta:
        model = CustomerStatement
        skip_postgeneration_save = True

    period = factory.SubFactory(PeriodFactory)
    version = 1
    customer = factory.SubFactory(CustomerFactory)
    revenue = Decimal("125.00")
    cost_to_serve = Decimal("100.00")
    margin = Decimal("25.00")
    recovery_ratio = Decimal("1.2500")

    @factory.post_generation
    def lines(self, create, extracted, **kwargs):
        if create:
            subscription = SubscriptionFactory(customer=self.customer)
            StatementLine.objects.create(
                statement=self,
                subscription=subscription,
                service=subscription.service,
                units=subscription.units,
                unit_name=subscription.unit_name,
                revenue=self.revenue,
                cost_to_serve=self.cost_to_serve,
            )


class ValueStreamCostFactory(factory.django.DjangoModelFactory):
    """A stored stream cost: 100.00 on the one stage of a new current-state stream."""

    class Meta:
        model = ValueStreamCost
        skip_postgeneration_save = True

    period = factory.SubFactory(PeriodFactory)
    version = 1
    value_stream = factory.SubFactory("tests.factories.valuestreams.ValueStreamFactory")
    cost = Decimal("100.00")
    what_if = False

    @factory.post_generation
    def stages(self, create, extracted, **kwargs):
        if create:
            from tests.factories.valuestreams import StageFactory

            stage = StageFactory(value_stream=self.value_stream)
            StageCost.objects.create(stream_cost=self, stage=stage, cost=self.cost)


class TcoUnallocatedFactory(factory.django.DjangoModelFactory):
    """50.00 of a cost pool that is allocated to nothing."""

    class Meta:
        model = TcoUnallocated

    period = factory.SubFactory(PeriodFactory)
    version = 1
    source_kind = NodeKind.POOL
    source_id = factory.Sequence(lambda n: n + 1)
    source_label = factory.Sequence(lambda n: f"Cost pool {n}")
    reason = UnallocatedReason.NO_TARGET
    detail = "It supports, covers or is allocated to nothing."
    amount = Decimal("50.00")
    breakdown = factory.LazyFunction(lambda: {"infrastructure": {"opex": 5000}})


class ReportDefinitionFactory(factory.django.DjangoModelFactory):
    """A monthly report in every format to two recipients, saved through the services, so
    its beat schedule exists too."""

    class Meta:
        model = ReportDefinition

    name = factory.Sequence(lambda n: f"Finance report {n}")
    period_selector = ReportPeriodSelector.LAST_MONTH
    scope = factory.LazyFunction(dict)
    formats = factory.LazyFunction(lambda: list(ReportFormat.values))
    recipients = factory.LazyFunction(lambda: ["cfo@example.org", "controller@example.org"])
    minute = "0"
    hour = "7"
    day_of_month = "3"
    month_of_year = "*"
    day_of_week = "*"
    enabled = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from finance.services import save_report_definition

        return save_report_definition(definition=model_class(*args, **kwargs))


# --- Scheduled recomputations ----------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    """The recomputation tasks sent to the broker (nothing is really sent)."""
    sent = []
    monkeypatch.setattr(
        tasks.recompute_dirty_periods, "apply_async", lambda *args, **kwargs: sent.append(kwargs)
    )
    return sent


@pytest.fixture
def settle(enqueued):
    """Run what the set-up scheduled (the test's transaction never commits), then start
    clean: no period dirty, nothing enqueued."""

    def run():
        for _savepoints, callback, _robust in list(connection.run_on_commit):
            if isinstance(callback, services.PendingRecompute) and not callback.done:
                callback()
        Period.objects.update(recompute_requested_at=None, changed_nodes=[])
        enqueued.clear()

    return run
