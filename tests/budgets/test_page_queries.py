"""The budget version page and the scenario page read a fixed number of queries whatever the
number of their rows: 2 against 20 lines of every target kind and scenarios on the version
page, 2 against 20 changes of every kind on the scenario page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets import services as budget_services
from budgets.choices import BudgetOrigin
from budgets.choices import ScenarioChangeKind
from budgets.models import Scenario
from budgets.models import ScenarioChange
from tests.factories.budgets import BudgetLineFactory
from tests.factories.budgets import BudgetVersionFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
    assert answer.status_code == 200
    return len(captured)


def add_lines_and_scenarios(version, count: int, start: int) -> None:
    """``count`` lines, each kind of target in turn (a contract line naming its contract), and
    as many scenarios on the version."""
    for n in range(start, start + count):
        kind = n % 4
        if kind == 0:
            BudgetLineFactory(version=version)
        elif kind == 1:
            BudgetLineFactory(version=version, service=None, application=ApplicationFactory())
        elif kind == 2:
            contract = ContractFactory()
            BudgetLineFactory(
                version=version,
                service=None,
                contract=contract,
                origin=BudgetOrigin.CONTRACT,
                origin_contract=contract,
            )
        else:
            BudgetLineFactory(version=version, service=None, pool=CostPoolFactory())
        Scenario.objects.create(name=f"What if {n}", base=version)


def test_the_version_page_reads_as_many_queries_for_20_rows_as_for_2(client, viewer):
    version = BudgetVersionFactory()
    add_lines_and_scenarios(version, 2, 0)
    client.force_login(viewer)
    url = reverse("budgets:budgetversion_detail", args=[version.pk])
    client.get(url)  # caches warmed (content types, the user's rights)

    few = queries_of(client, url)
    add_lines_and_scenarios(version, 18, 2)
    many = queries_of(client, url)

    assert many == few, f"{few} queries at 2 rows, {many} at 20"


def add_changes(scenario: Scenario, count: int) -> None:
    """``count`` changes, each kind in turn."""
    for n in range(count):
        kind = list(ScenarioChangeKind)[n % len(ScenarioChangeKind)]
        targets: dict = {}
        value: Decimal | None = Decimal(2)
        if kind == ScenarioChangeKind.CONTRACT_VALUE:
            targets = {"contract": ContractFactory()}
        elif kind == ScenarioChangeKind.EDGE_WEIGHT:
            targets = {"dependency": ServiceDependencyFactory()}
        elif kind == ScenarioChangeKind.NEW_DEPENDENCY:
            targets = {"service": ServiceFactory(), "provider": ServiceFactory()}
        elif kind == ScenarioChangeKind.RETIRED_SERVICE:
            targets, value = {"service": ServiceFactory()}, None
        else:
            targets, value = {"dependency": ServiceDependencyFactory()}, None
        ScenarioChange.objects.create(scenario=scenario, kind=kind, value=value, **targets)


def test_the_scenario_page_reads_as_many_queries_for_20_changes_as_for_2(client, viewer):
    plan = budget_services.create_version(fiscal_year=2025, name="Plan", user=None)
    scenario = Scenario.objects.create(name="Cheaper hosting", base=plan)
    add_changes(scenario, 2)
    client.force_login(viewer)
    url = reverse("budgets:scenario_detail", args=[scenario.pk])
    client.get(url)  # caches warmed (content types, the user's rights)

    few = queries_of(client, url)
    add_changes(scenario, 18)
    many = queries_of(client, url)

    assert many == few, f"{few} queries at 2 changes, {many} at 20"
