"""Scenarios on the hand-computed fiscal year (tests/budgets/scenario.py): the difference
per service and bucket against the base version, computed in memory, and a scenario turned
into a new draft version."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from budgets import scenarios
from budgets.choices import ScenarioChangeKind
from budgets.models import BudgetLine
from budgets.models import BudgetResult
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core.money import format_amount
from tests.budgets.scenario import CLAIMS_BUDGET
from tests.budgets.scenario import HOSTING_BUDGET
from tests.budgets.scenario import build_year

pytestmark = pytest.mark.django_db

D = Decimal
CLAIMS_YEAR = sum(map(D, CLAIMS_BUDGET))  # 10,225.01
HOSTING_YEAR = sum(map(D, HOSTING_BUDGET))  # 15,075.04
CONTRACT_YEAR = D("1000.01") + 5 * D("1000.00") + 6 * D("1050.00")  # 12,300.01


def scenario_with(year, *changes: dict) -> Scenario:
    scenario = scenarios.save_scenario(scenario=Scenario(name="What if", base=year.version))
    for change in changes:
        scenarios.save_scenario_change(change=ScenarioChange(scenario=scenario, **change))
    return scenario


def effect_by_name(scenario):
    return {row.name: row for row in scenarios.scenario_effect(scenario).services}


def test_a_new_dependency_moves_the_providers_budget_to_its_consumer():
    year = build_year()
    scenario = scenario_with(
        year,
        {"kind": "new_dependency", "service": year.claims, "provider": year.hosting, "value": 1},
    )
    rows = effect_by_name(scenario)
    # Hosting passes all of its budgeted TCO on to Claims: its own TCO stays as it was.
    assert set(rows) == {"Claims"}
    claims = rows["Claims"]
    assert claims.before["tco"] == CLAIMS_YEAR
    assert claims.delta["tco"] == HOSTING_YEAR
    assert claims.after["tco"] == CLAIMS_YEAR + HOSTING_YEAR
    # Hosting's budget is its run rate (infrastructure) and its contract share (vendor).
    assert claims.delta["tco_infrastructure"] == D("12000.04")
    assert claims.delta["tco_vendor"] == HOSTING_YEAR - D("12000.04")
    assert BudgetResult.objects.filter(version=year.version).count() > 0  # base untouched


def test_a_contract_value_scales_its_budget_and_a_draft_carries_it():
    year = build_year()
    scenario = scenario_with(
        year, {"kind": "contract_value", "contract": year.contract, "value": D("24000.02")}
    )
    rows = effect_by_name(scenario)
    assert set(rows) == {"Claims", "Hosting"}
    # Double the value: the contract's 12,300.01 of the year again, shared 3 : 1.
    assert rows["Claims"].delta["tco"] + rows["Hosting"].delta["tco"] == CONTRACT_YEAR
    assert rows["Claims"].delta["tco"] == rows["Claims"].delta["tco_vendor"]
    assert abs(rows["Claims"].delta["tco"] - CONTRACT_YEAR * 3 / 4) < D("0.12")

    draft = scenarios.scenario_to_draft(scenario, user=None, name="Doubled K-1")
    assert draft.based_on == year.version and draft.status == "draft"
    base_lines = BudgetLine.objects.filter(version=year.version, contract=year.contract)
    draft_lines = BudgetLine.objects.filter(version=draft, contract=year.contract)
    assert sorted(line.amount * 2 for line in base_lines) == sorted(
        line.amount for line in draft_lines
    )
    # Rolled up, the draft's figures are the scenario's, to the cent.
    for name, row in rows.items():
        service = year.claims if name == "Claims" else year.hosting
        total = sum(
            BudgetResult.objects.filter(version=draft, service=service).values_list(
                "tco", flat=True
            ),
            D(0),
        )
        assert total == row.after["tco"]
    # The base is as it was.
    assert {line.amount for line in base_lines} <= {D("1000.01"), D("1000.00"), D("1050.00")}


def test_a_retired_service_receives_nothing_and_graph_changes_stay_out_of_the_draft():
    year = build_year()
    scenario = scenario_with(year, {"kind": "retired_service", "service": year.claims})
    rows = effect_by_name(scenario)
    # The contract's share of Claims goes to Hosting, the contract's one other coverage.
    assert rows["Hosting"].delta["tco"] == -rows["Claims"].delta["tco"]
    assert rows["Hosting"].delta["tco_vendor"] > 0
    assert [c.kind for c in scenarios.graph_changes(scenario)] == ["retired_service"]
    lines = BudgetLine.objects.filter(version=year.version).count()
    draft = scenarios.scenario_to_draft(scenario, user=None, name="Without claims")
    assert BudgetLine.objects.filter(version=draft).count() == lines
    assert year.claims.lifecycle != "retired"


def test_a_change_names_what_its_kind_needs():
    year = build_year()
    scenario = scenario_with(year)
    with pytest.raises(ValidationError) as refused:
        scenarios.save_scenario_change(
            change=ScenarioChange(scenario=scenario, kind=ScenarioChangeKind.CONTRACT_VALUE)
        )
    assert set(refused.value.error_dict) == {"contract", "value"}
    with pytest.raises(ValidationError) as refused:
        scenarios.save_scenario_change(
            change=ScenarioChange(
                scenario=scenario,
                kind=ScenarioChangeKind.NEW_DEPENDENCY,
                service=year.claims,
                provider=year.claims,
                value=1,
            )
        )
    assert "cannot depend on itself" in str(refused.value)


def test_the_scenario_page_shows_the_difference_and_makes_a_draft(client, finance_user):
    year = build_year()
    scenario = scenario_with(
        year,
        {"kind": "new_dependency", "service": year.claims, "provider": year.hosting, "value": 1},
    )
    client.force_login(finance_user)
    budget = client.get(
        reverse("finance:overview"), {"period": "2026-04", "view": "budget", "fiscal_year": "2026"}
    ).content.decode()
    assert scenario.get_absolute_url() in budget  # linked from Fund services
    html = client.get(scenario.get_absolute_url()).content.decode()
    for row in scenarios.scenario_effect(scenario).services:
        assert f"data-after>{format_amount(row.after['tco'])}<" in html
        assert f"data-delta>+{format_amount(row.delta['tco'])}<" in html
    assert "make it on the services" in html
    response = client.post(reverse("finance:scenario_draft", args=[scenario.pk]))
    assert response.status_code == 302
    draft = BudgetVersion.objects.get(based_on=year.version)
    assert draft.name == "What if (scenario)" and draft.rolled_up_at is not None
