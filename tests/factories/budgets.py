"""Factories of budgets: a draft version of fiscal year 2026, a planned line in it, and a
scenario on it with a change."""

from decimal import Decimal

import factory

from budgets.choices import BudgetOrigin
from budgets.choices import ScenarioChangeKind
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
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


class ScenarioFactory(factory.django.DjangoModelFactory):
    """A scenario on a new draft of 2026, with no change yet."""

    class Meta:
        model = Scenario

    name = factory.Sequence(lambda n: f"What if {n}")
    base = factory.SubFactory(BudgetVersionFactory)


class ScenarioChangeFactory(factory.django.DjangoModelFactory):
    """A new service retired in a new scenario."""

    class Meta:
        model = ScenarioChange

    scenario = factory.SubFactory(ScenarioFactory)
    kind = ScenarioChangeKind.RETIRED_SERVICE
    service = factory.SubFactory(ServiceFactory)
