"""The budget API: versions with their build and approval, lines written singly and in bulk
through the same rules (an approved version refused), budget against actual on the
hand-computed fiscal year of tests.budgets.scenario, and scenarios with their changes and
effect."""

from decimal import Decimal

import pytest

from budgets import scenarios
from budgets import services as budget_services
from budgets.choices import BudgetOrigin
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from finance.models import month_serial
from tests.api.helpers import sync
from tests.budgets.scenario import CLAIMS_ACTUAL
from tests.budgets.scenario import CLAIMS_BUDGET
from tests.budgets.scenario import build_year
from tests.factories.budgets import BudgetLineFactory
from tests.factories.budgets import BudgetVersionFactory
from tests.factories.budgets import ScenarioChangeFactory
from tests.factories.budgets import ScenarioFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db

# A record of each resource, for the lists' and the schema's tests (tests/api/test_lists.py).
FACTORIES = {
    "budget-versions": BudgetVersionFactory,
    "budget-lines": BudgetLineFactory,
    "scenarios": ScenarioFactory,
    "scenario-changes": ScenarioChangeFactory,
}
APRIL = month_serial(2026, 4)


@pytest.fixture
def finance_api(finance_user, api_for):
    return api_for(finance_user)


def by_service(body):
    return {(row["service"]["name"], row["category"]): row for row in body["results"]}


def test_budget_results_by_year_and_by_month_to_the_cent(finance_api):
    year = build_year()
    response = finance_api.get("/api/v1/budget-results/", fiscal_year=2026)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == year.version.pk and body["by"] == "year"
    rows = by_service(body)
    assert rows[("Claims", "total")] == {
        "service": {"id": year.claims.pk, "name": "Claims"},
        "category": "total",
        "budget": "10225.01",
        "actual": "7120.01",
        "forecast": "13845.01",
        "variance": "3620.00",
        "flagged": True,
    }
    hosting = rows[("Hosting", "total")]
    assert (hosting["budget"], hosting["actual"], hosting["forecast"], hosting["variance"]) == (
        "15075.04", "4000.00", "15075.01", "-0.03"
    )  # fmt: skip
    assert rows[("Hosting", "infrastructure")]["budget"] == "12000.04"

    monthly = finance_api.get(
        "/api/v1/budget-results/", fiscal_year=2026, by="month", service=year.claims.pk
    ).json()
    totals = [row for row in monthly["results"] if row["category"] == "total"]
    assert [row["month"] for row in totals] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [row["budget"] for row in totals] == CLAIMS_BUDGET
    assert [row["actual"] for row in totals[:4]] == CLAIMS_ACTUAL
    assert [row["actual"] for row in totals[4:]] == [None] * 8
    march = totals[2]
    assert (march["variance"], march["budget_ytd"], march["actual_ytd"], march["closed"]) == (
        "2000.00", "2250.01", "5870.01", True
    )  # fmt: skip
    assert {row["service"]["name"] for row in monthly["results"]} == {"Claims"}


def test_budget_results_refuse_bad_queries_by_field(finance_api):
    version = BudgetVersionFactory(fiscal_year=2025)
    cases = [
        ({}, "fiscal_year"),
        ({"fiscal_year": "next"}, "fiscal_year"),
        ({"fiscal_year": 2026, "by": "week"}, "by"),
        ({"fiscal_year": 2026, "version": version.pk}, "version"),
        ({"fiscal_year": 2026, "service": 999999}, "service"),
        ({"fiscal_year": 2026, "colour": "red"}, "colour"),
    ]
    for params, field in cases:
        response = finance_api.get("/api/v1/budget-results/", **params)
        assert response.status_code == 400, params
        assert field in response.json()["errors"], (params, response.json())


def test_build_and_approve_through_the_api(finance_api, viewer, api_for):
    year = build_year()
    url = f"/api/v1/budget-versions/{year.version.pk}/"
    assert api_for(viewer).post(url + "build/").status_code == 403
    built = finance_api.post(url + "build/")
    assert built.status_code == 200, built.json()
    assert built.json()["lines"] == {"contract": 12, "run_rate": 12, "planned": 1, "manual": 0}
    approved = finance_api.post(url + "approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["kept_total"] == "25300.05"
    again = finance_api.post(url + "build/")
    assert again.status_code == 400 and "approved" in again.json()["errors"]["version"][0]
    assert finance_api.post("/api/v1/budget-versions/999999/approve/").status_code == 404


def test_create_a_version_and_write_lines_singly(finance_api):
    created = finance_api.post("/api/v1/budget-versions/", {"fiscal_year": 2026, "name": "Plan"})
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft" and created.json()["run_rate_months"] == 3
    duplicate = finance_api.post("/api/v1/budget-versions/", {"fiscal_year": 2026, "name": "Plan"})
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]
    version = created.json()["id"]
    service = ServiceFactory()
    line = {
        "version": version,
        "serial": APRIL,
        "amount": "1200.00",
        "category": "development",
        "expenditure": "capex",
        "spread_months": 12,
        "service": service.pk,
        "origin": "contract",
    }
    response = finance_api.post("/api/v1/budget-lines/", line)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["month"] == "2026-04" and body["origin"] == "planned"
    outside = finance_api.post("/api/v1/budget-lines/", {**line, "serial": APRIL + 12})
    assert outside.status_code == 400
    assert "is not in fiscal year 2026" in outside.json()["errors"]["serial"][0]
    two = finance_api.post("/api/v1/budget-lines/", {**line, "application": 1})
    assert two.status_code == 400


def test_lines_sync_in_bulk_and_an_approved_version_is_refused(finance_api):
    version = BudgetVersionFactory()
    services = [ServiceFactory() for _ in range(3)]
    items = [
        {"external_id": f"plan-{n}", "version": version.pk, "serial": APRIL + n,
         "amount": "100.00", "category": "support", "service": service.pk}
        for n, service in enumerate(services)
    ]  # fmt: skip
    response = sync(finance_api, "budget-lines", items, source="erp")
    assert response.status_code == 200, response.json()
    assert BudgetLine.objects.filter(version=version, origin=BudgetOrigin.PLANNED).count() == 3

    BudgetVersion.objects.filter(pk=version.pk).update(status="approved")
    changed = [{**items[0], "amount": "999.00"}, {**items[1], "serial": APRIL + 20}]
    refused = sync(finance_api, "budget-lines", changed, source="erp")
    assert refused.status_code == 400
    assert "approved" in refused.json()["errors"]["items.0.version"][0]
    assert (
        sorted(BudgetLine.objects.filter(version=version).values_list("amount", flat=True))
        == [Decimal("100.00")] * 3
    )
    full = sync(finance_api, "budget-lines", items[:1], source="erp", mode="full",
                allow_mass_retire=True)  # fmt: skip
    assert full.status_code == 400 and BudgetLine.objects.filter(version=version).count() == 3


def test_scenarios_and_their_changes_round_trip_with_their_effect(finance_api, viewer, api_for):
    year = build_year()
    portal = ServiceFactory(name="Portal")
    ServiceDependencyFactory(consumer=year.claims, provider=year.hosting)
    to_portal = ServiceDependencyFactory(consumer=portal, provider=year.hosting)
    budget_services.approve(year.version, user=None)  # a scenario never writes its base
    created = finance_api.post(
        "/api/v1/scenarios/", {"name": "Leaner", "base": year.version.pk, "note": "Q3 review"}
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["base"]["id"] == year.version.pk and body["created_by"].startswith("finance")
    scenario = body["id"]
    again = finance_api.post("/api/v1/scenarios/", {"name": "Leaner", "base": year.version.pk})
    assert (
        again.status_code == 400 and "already has a scenario" in again.json()["errors"]["name"][0]
    )
    other = ScenarioFactory()
    listed = finance_api.get("/api/v1/scenarios/", base=year.version.pk).json()["results"]
    assert [row["id"] for row in listed] == [scenario]
    assert finance_api.get("/api/v1/sync/scenarios/").status_code == 404  # no sync

    url = "/api/v1/scenario-changes/"
    changes = [
        {"kind": "contract_value", "contract": year.contract.pk, "value": "24000.02"},
        {"kind": "edge_weight", "dependency": to_portal.pk, "value": "3"},
        {"kind": "new_dependency", "service": portal.pk, "provider": year.claims.pk, "value": "1"},
        {"kind": "retired_dependency", "dependency": to_portal.pk},
        {"kind": "retired_service", "service": portal.pk},
    ]
    for change in changes:
        response = finance_api.post(url, {"scenario": scenario, **change})
        assert response.status_code == 201, response.json()
        assert response.json()["kind"] == change["kind"]
    wrong = [
        ({"kind": "contract_value", "contract": year.contract.pk, "value": "-1"}, "value"),
        ({"kind": "contract_value", "value": "1"}, "contract"),
        ({"kind": "retired_service", "service": portal.pk, "value": "1"}, "value"),
        ({"kind": "new_dependency", "service": portal.pk, "value": "1"}, "provider"),
        ({"kind": "edge_weight", "dependency": to_portal.pk, "value": "abc"}, "value"),
        ({"kind": "nope"}, "kind"),
        ({"kind": "retired_service", "service": 999999}, "service"),
    ]
    for change, field in wrong:
        response = finance_api.post(url, {"scenario": scenario, **change})
        assert response.status_code == 400, (change, response.status_code)
        assert field in response.json()["errors"], (change, response.json())
    assert ScenarioChange.objects.filter(scenario_id=scenario).count() == 5

    effect = finance_api.get(f"/api/v1/scenarios/{scenario}/effect/")
    assert effect.status_code == 200, effect.json()
    body = effect.json()
    assert (body["scenario"], body["base"], body["fiscal_year"]) == (
        scenario,
        year.version.pk,
        2026,
    )
    expected = scenarios.scenario_effect(Scenario.objects.get(pk=scenario)).services
    assert expected, "the changes move some service's budget"
    assert [row["service"]["id"] for row in body["services"]] == [r.service_id for r in expected]
    for shown, row in zip(body["services"], expected, strict=True):
        assert shown["base"]["tco"] == f"{row.before['tco']:.2f}"
        assert shown["scenario"]["tco"] == f"{row.after['tco']:.2f}"
        assert {k: Decimal(v) for k, v in shown["delta"].items()} == row.delta

    # A viewer reads scenarios and their effect and writes none.
    viewer_api = api_for(viewer)
    assert viewer_api.get(f"/api/v1/scenarios/{scenario}/effect/").status_code == 200
    assert viewer_api.get(url, scenario=scenario).json()["results"]
    refused = [
        viewer_api.post("/api/v1/scenarios/", {"name": "Mine", "base": year.version.pk}),
        viewer_api.patch(f"/api/v1/scenarios/{scenario}/", {"name": "Mine"}),
        viewer_api.delete(f"/api/v1/scenarios/{scenario}/"),
        viewer_api.post(url, {"scenario": scenario, **changes[0]}),
    ]
    assert [response.status_code for response in refused] == [403] * 4

    renamed = finance_api.patch(f"/api/v1/scenarios/{scenario}/", {"name": "Leaner still"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Leaner still"
    first = ScenarioChange.objects.filter(scenario_id=scenario).order_by("pk").first()
    assert finance_api.delete(f"{url}{first.pk}/").status_code == 204
    assert finance_api.delete(f"/api/v1/scenarios/{scenario}/").status_code == 204
    assert not ScenarioChange.objects.filter(scenario_id=scenario).exists()
    assert BudgetVersion.objects.filter(pk=year.version.pk, status="approved").exists()
    assert Scenario.objects.filter(pk=other.pk).exists()
