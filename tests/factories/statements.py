"""Factories of the rows the roll-up writes beside the results: customer statements and their
lines, value-stream costs and their stages."""

from decimal import Decimal

import factory

from finance.models import CustomerStatement
from finance.models import StageCost
from finance.models import StatementLine
from finance.models import ValueStreamCost
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import SubscriptionFactory


class CustomerStatementFactory(factory.django.DjangoModelFactory):
    """A statement of 150.00 revenue against 100.00 cost to serve, without lines."""

    class Meta:
        model = CustomerStatement

    period = factory.SubFactory(PeriodFactory)
    version = 1
    customer = factory.SubFactory(CustomerFactory)
    revenue = Decimal("150.00")
    cost_to_serve = Decimal("100.00")
    margin = factory.LazyAttribute(lambda o: o.revenue - o.cost_to_serve)
    recovery_ratio = factory.LazyAttribute(
        lambda o: (
            (o.revenue / o.cost_to_serve).quantize(Decimal("0.0001")) if o.cost_to_serve else None
        )
    )


class StatementLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatementLine

    statement = factory.SubFactory(CustomerStatementFactory)
    subscription = factory.SubFactory(
        SubscriptionFactory, customer=factory.SelfAttribute("..statement.customer")
    )
    service = factory.LazyAttribute(lambda o: o.subscription.service)
    units = factory.LazyAttribute(lambda o: o.subscription.units)
    unit_name = factory.LazyAttribute(lambda o: o.subscription.unit_name)
    revenue = Decimal("150.00")
    cost_to_serve = Decimal("100.00")


def statement_with_lines(*, period, customer, lines, version: int = 1) -> CustomerStatement:
    """A statement whose totals are its lines' sums: ``lines`` are (subscription, revenue,
    cost to serve)."""
    revenue = sum((Decimal(r) for _, r, _ in lines), Decimal(0))
    cost = sum((Decimal(c) for _, _, c in lines), Decimal(0))
    statement = CustomerStatementFactory(
        period=period, version=version, customer=customer, revenue=revenue, cost_to_serve=cost
    )
    for subscription, line_revenue, line_cost in lines:
        StatementLineFactory(
            statement=statement,
            subscription=subscription,
            revenue=Decimal(line_revenue),
            cost_to_serve=Decimal(line_cost),
        )
    return statement


class ValueStreamCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValueStreamCost

    period = factory.SubFactory(PeriodFactory)
    version = 1
    value_stream = None
    cost = Decimal("100.00")
    what_if = False


class StageCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageCost

    stream_cost = factory.SubFactory(ValueStreamCostFactory)
    stage = None
    cost = Decimal("100.00")
