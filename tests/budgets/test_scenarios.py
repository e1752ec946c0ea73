"""Scenarios on the hand-computed fiscal year (tests/budgets/scenario.py): the difference
per service and bucket against the base version, computed in memory, a scenario turned
into a new draft version, and scenarios made, changed and removed in the browser."""

import re
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
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

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
    response = client.post(reverse("budgets:scenario_draft", args=[scenario.pk]))
    assert response.status_code == 302
    draft = BudgetVersion.objects.get(based_on=year.version)
    assert draft.name == "What if (scenario)" and draft.rolled_up_at is not None


HTMX = {"HTTP_HX_REQUEST": "true"}


def shown_effect(html: str) -> dict[str, tuple[str, str]]:
    """The scenario page's table: service slug -> (scenario's TCO, Δ TCO) as shown."""
    return {
        slug: (after, delta)
        for slug, after, delta in re.findall(
            r'<tr data-service="([^"]+)">.*?data-after>([^<]*)<.*?data-delta>([^<]*)<', html
        )
    }


def test_a_scenario_is_made_changed_drafted_and_removed_in_the_browser(client, finance_user):
    year = build_year()
    portal = ServiceFactory(name="Portal", slug="portal")
    ServiceDependencyFactory(consumer=year.claims, provider=year.hosting)
    to_portal = ServiceDependencyFactory(consumer=portal, provider=year.hosting)
    client.force_login(finance_user)
    version_page = client.get(year.version.get_absolute_url()).content.decode()
    add_url = reverse("budgets:scenario_add", args=[year.version.pk])
    assert f'href="{add_url}"' in version_page
    budget = client.get(
        reverse("finance:overview"), {"period": "2026-04", "view": "budget", "fiscal_year": "2026"}
    ).content.decode()
    assert f'href="{add_url}"' in budget

    assert client.get(add_url).status_code == 200
    refused = client.post(add_url, {"name": ""})
    assert refused.status_code == 422 and 'id="id_name_error"' in refused.content.decode()
    made = client.post(add_url, {"name": "Leaner", "note": "Q3 review"})
    scenario = Scenario.objects.get(base=year.version, name="Leaner")
    assert made.status_code == 302 and made["Location"] == scenario.get_absolute_url()
    assert scenario.created_by == finance_user
    page = client.get(scenario.get_absolute_url()).content.decode()
    assert "No change yet" in page and "data-scenario-change-form" in page

    change_url = reverse("budgets:scenario_change_add", args=[scenario.pk])
    wrong = client.post(change_url, {"kind": "contract_value", "value": "1"}, **HTMX)
    assert wrong.status_code == 422
    assert 'id="id_contract_error"' in wrong.content.decode()
    wrong = client.post(
        change_url, {"kind": "retired_service", "service": "portal", "value": "2"}, **HTMX
    )
    assert wrong.status_code == 422 and "A retirement takes no value" in wrong.content.decode()
    for data in (
        {"kind": "contract_value", "contract": year.contract.pk, "value": "24000.02"},
        {"kind": "edge_weight", "dependency": to_portal.pk, "value": "3"},
        {"kind": "new_dependency", "service": "portal", "provider": year.claims.slug, "value": "1"},
        {"kind": "retired_dependency", "dependency": to_portal.pk},
        {"kind": "retired_service", "service": "portal"},
    ):
        section = client.post(change_url, data, **HTMX)
        assert section.status_code == 200, section.content.decode()[:2000]
        assert f'data-change="{data["kind"]}"' in section.content.decode()
    assert scenario.changes.count() == 5

    html = client.get(scenario.get_absolute_url()).content.decode()
    rows = scenarios.scenario_effect(scenario).services
    assert rows and shown_effect(html) == {
        row.slug: (
            format_amount(row.after["tco"]),
            ("+" if row.delta["tco"] > 0 else "") + format_amount(row.delta["tco"]),
        )
        for row in rows
    }
    assert "make them on the services" in html

    first = scenario.changes.order_by("pk").first()
    removed = client.post(reverse("budgets:scenario_change_remove", args=[scenario.pk, first.pk]))
    assert removed.status_code == 302 and scenario.changes.count() == 4

    edit_url = reverse("budgets:scenario_edit", args=[scenario.pk])
    assert client.post(edit_url, {"name": "Leaner still", "note": ""}).status_code == 302
    scenario.refresh_from_db()
    assert scenario.name == "Leaner still"

    drafted = client.post(reverse("budgets:scenario_draft", args=[scenario.pk]))
    assert drafted.status_code == 302
    assert BudgetVersion.objects.filter(name="Leaner still (scenario)").exists()

    delete_url = reverse("budgets:scenario_delete", args=[scenario.pk])
    assert client.get(delete_url).status_code == 200
    deleted = client.post(delete_url)
    assert deleted.status_code == 302 and deleted["Location"] == year.version.get_absolute_url()
    assert not Scenario.objects.filter(pk=scenario.pk).exists()
    assert not ScenarioChange.objects.filter(scenario_id=scenario.pk).exists()


def test_a_viewer_reads_a_scenario_and_changes_nothing(client, viewer):
    year = build_year()
    scenario = scenario_with(year, {"kind": "retired_service", "service": year.claims})
    client.force_login(viewer)
    page = client.get(scenario.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-scenario-change-form" not in html and "Turn into a new draft" not in html
    version_page = client.get(year.version.get_absolute_url()).content.decode()
    assert reverse("budgets:scenario_add", args=[year.version.pk]) not in version_page
    change = scenario.changes.get()
    refused = [
        client.post(reverse("budgets:scenario_add", args=[year.version.pk]), {"name": "Mine"}),
        client.post(reverse("budgets:scenario_edit", args=[scenario.pk]), {"name": "Mine"}),
        client.post(reverse("budgets:scenario_delete", args=[scenario.pk])),
        client.post(
            reverse("budgets:scenario_change_add", args=[scenario.pk]),
            {"kind": "retired_service", "service": year.hosting.slug},
        ),
        client.post(reverse("budgets:scenario_change_remove", args=[scenario.pk, change.pk])),
        client.post(reverse("budgets:scenario_draft", args=[scenario.pk])),
    ]
    assert [response.status_code for response in refused] == [403] * 6
    assert scenario.changes.count() == 1 and Scenario.objects.count() == 1
