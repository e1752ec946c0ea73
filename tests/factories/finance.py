"""Factories of cost data: periods, cost items, pools and their allocations, rates."""

from decimal import Decimal

import factory
from django.utils.text import slugify

from finance.choices import CostCategory, Expenditure
from finance.models import CostItem, CostPool, ExchangeRate, Period, PoolAllocation
from tests.factories.portfolio import ServiceFactory


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
