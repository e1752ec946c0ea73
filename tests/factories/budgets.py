"""Factories of budgets: a draft version of fiscal year 2026 and a planned line in it."""

from decimal import Decimal

import factory

from budgets.choices import BudgetOrigin
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from finance.choices import CostCategory
from finance.models import month_serial
from tests.factories.portfolio import ServiceFactory


class BudgetVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetVersion

    fiscal_year = 2026
    name = factory.Sequence(lambda n: f"Budget {n}")


class BudgetLineFactory(factory.django.DjangoModelFactory):
    """1,000.00 EUR of planned development opex in 2026-04 against a new service."""

    class Meta:
        model = BudgetLine

    version = factory.SubFactory(BudgetVersionFactory)
    serial = month_serial(2026, 4)
    amount = Decimal("1000.00")
    currency = "EUR"
    category = CostCategory.DEVELOPMENT
    service = factory.SubFactory(ServiceFactory)
    origin = BudgetOrigin.PLANNED
