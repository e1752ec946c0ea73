"""Who may do what on the budget pages, and their queries (tests/views.py): every role reads
budgets and their scenarios; Finance and Portfolio managers write them (a Viewer is refused
with 403)."""

from decimal import Decimal

from budgets.choices import BudgetOrigin
from budgets.choices import BudgetStatus
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core import roles
from tests.factories.budgets import BudgetLineFactory
from tests.factories.budgets import ScenarioChangeFactory
from tests.factories.budgets import ScenarioFactory
from tests.factories.portfolio import ContractFactory
from tests.views import GRANTS
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import gone
from tests.views import listing
from tests.views import post
from tests.views import read
from tests.views import view_tests

BUDGET_GRANTS = {
    **GRANTS,
    "add": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "change": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "delete": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
}
OTHER_ROLES = (roles.FINANCE, roles.SERVICE_OWNER)


def budget_spec(**options) -> ViewSpec:
    return ViewSpec(**{"grants": BUDGET_GRANTS, "other_roles": OTHER_ROLES, **options})


def version_added(record) -> None:
    assert BudgetVersion.objects.get(name="Reforecast").run_rate_months == 2


def version_changed(version) -> None:
    assert fresh(version).name == "Reforecast"


def built(version) -> None:
    assert fresh(version).built_at is not None


def approved(version) -> None:
    assert fresh(version).status == BudgetStatus.APPROVED


def drafted(version) -> None:
    draft = BudgetVersion.objects.get(name="Second draft")
    assert draft.based_on_id == version.pk and draft.lines.count() == version.lines.count()


def with_line(owner):
    return BudgetLineFactory().version


def more_versions(record, owner):
    for _ in range(10):
        BudgetLineFactory()


VERSION = budget_spec(
    name="budget versions",
    make=with_line,
    label=lambda version: version.name,
    actions={
        "list": listing("budgets:budgetversion_list", query="q="),
        "detail": read("budgets:budgetversion_detail"),
        "add": add(
            "budgets:budgetversion_add",
            data=lambda v: {"fiscal_year": "2026", "name": "Reforecast", "run_rate_months": "2"},
            done=version_added,
        ),
        "edit": edit(
            "budgets:budgetversion_edit",
            data=lambda v: {"fiscal_year": "2026", "name": "Reforecast", "run_rate_months": "3"},
            done=version_changed,
        ),
        "build": post("budgets:build", done=built, watch=(BudgetVersion, BudgetLine)),
        "approve": post("budgets:approve", done=approved, watch=(BudgetVersion,)),
        "new draft": post(
            "budgets:new_draft",
            needs="add",
            data=lambda v: {"name": "Second draft"},
            done=drafted,
            watch=(BudgetVersion, BudgetLine),
        ),
    },
    queries={
        "list": Queries(bound=12, populate=more_versions, rows=11),
        "detail": Queries(
            bound=30,
            populate=lambda version, owner: [BudgetLineFactory(version=version) for _ in range(10)],
        ),
    },
)
test_budget_version_views = view_tests(VERSION)


def line_data(line) -> dict:
    return {
        "month": "2026-06",
        "amount": "2400.00",
        "currency": "EUR",
        "category": "development",
        "expenditure": "capex",
        "spread_months": "12",
        "service": line.service.slug,
    }


def line_added(line) -> None:
    added = BudgetLine.objects.get(amount=Decimal("2400.00"))
    assert added.origin == BudgetOrigin.PLANNED and added.month == "2026-06"
    assert added.version_id == line.version_id


def line_changed(line) -> None:
    assert fresh(line).amount == Decimal("2400.00") and fresh(line).spread_months == 12


LINE = budget_spec(
    name="budget lines",
    make=lambda owner: BudgetLineFactory(),
    label=lambda line: line.month,
    actions={
        "add": add(
            "budgets:line_add",
            args=lambda line: [line.version_id],
            data=line_data,
            done=line_added,
        ),
        "edit": edit("budgets:line_edit", data=line_data, done=line_changed),
        "delete": delete("budgets:line_delete"),
    },
)
test_budget_line_views = view_tests(LINE)


# --- Scenarios and their changes -----------------------------------------------------------


def scenario_added(scenario) -> None:
    added = Scenario.objects.get(name="Dearer hosting")
    assert added.base_id == scenario.base_id and added.note == "K-1 at twice the price"


def scenario_changed(scenario) -> None:
    assert fresh(scenario).name == "Dearer hosting"


def drafted(scenario) -> None:
    draft = BudgetVersion.objects.get(based_on=scenario.base, status=BudgetStatus.DRAFT)
    assert draft.name == f"{scenario.name} (scenario)"


SCENARIO_DATA = {"name": "Dearer hosting", "note": "K-1 at twice the price"}

SCENARIO = budget_spec(
    name="budget scenarios",
    make=lambda owner: ScenarioFactory(),
    label=lambda scenario: scenario.name,
    actions={
        "detail": read("budgets:scenario_detail"),
        "add": add(
            "budgets:scenario_add",
            args=lambda scenario: [scenario.base_id],
            data=lambda scenario: SCENARIO_DATA,
            done=scenario_added,
        ),
        "edit": edit(
            "budgets:scenario_edit", data=lambda scenario: SCENARIO_DATA, done=scenario_changed
        ),
        "delete": delete("budgets:scenario_delete"),
        "draft": post(
            "budgets:scenario_draft", done=drafted, watch=(Scenario, BudgetVersion, BudgetLine)
        ),
    },
)
test_scenario_views = view_tests(SCENARIO)


def change_added(change) -> None:
    added = ScenarioChange.objects.get(scenario=change.scenario, kind="contract_value")
    assert added.value == Decimal("2400.00") and added.contract is not None


SCENARIO_CHANGE = budget_spec(
    name="scenario changes",
    make=lambda owner: ScenarioChangeFactory(),
    url_args=lambda change: [change.scenario_id, change.pk],
    label=lambda change: change.service.name,
    actions={
        "add": add(
            "budgets:scenario_change_add",
            args=lambda change: [change.scenario_id],
            data=lambda change: {
                "kind": "contract_value",
                "contract": str(ContractFactory().pk),
                "value": "2400.00",
            },
            done=change_added,
        ),
        "remove": post("budgets:scenario_change_remove", needs="delete", done=gone),
    },
)
test_scenario_change_views = view_tests(SCENARIO_CHANGE)
