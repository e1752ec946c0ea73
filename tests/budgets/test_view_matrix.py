"""Who may do what on the budget pages, and their queries (tests/views.py): every role reads
budgets; Finance and Portfolio managers write them."""

from decimal import Decimal

from budgets.choices import BudgetOrigin
from budgets.choices import BudgetStatus
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from core import roles
from tests.factories.budgets import BudgetLineFactory
from tests.views import GRANTS
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
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
