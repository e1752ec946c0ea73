"""Who may do what on the general ledger's pages, and their queries (tests/views.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from core import roles
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from tests.factories import ledger
from tests.views import GRANTS
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import listing
from tests.views import read
from tests.views import view_tests

LEDGER_GRANTS = {
    **GRANTS,
    "add": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "change": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "delete": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
}
OTHER_ROLES = (roles.FINANCE, roles.SERVICE_OWNER)
FILTERED = "q="
ONE_LINE_FILE = (
    b"account,cost centre,vendor,amount,currency,period\n8888,CC-9,Acme,1.25,EUR,2025-04\n"
)


def ledger_spec(**options) -> ViewSpec:
    return ViewSpec(**{"grants": LEDGER_GRANTS, "other_roles": OTHER_ROLES, **options})


# --- Imported periods, lines and the upload ----------------------------------------------------


def imported(record, user=None, response=None) -> None:
    line = LedgerLine.objects.get(account="8888")
    assert line.amount == 1.25 and line.unmapped and line.ledger_import.period.label == "2025-04"


def more_imports(record, owner):
    for _ in range(10):
        ledger.make_import()


LEDGER_IMPORT = ledger_spec(
    name="ledger imports",
    make=lambda owner: ledger.make_import(),
    label=lambda ledger_import: ledger_import.period.label,
    actions={
        "overview": read("ledger:overview", args=lambda record: []),
        "detail": read("ledger:ledgerimport_detail"),
        "test": read("ledger:test", args=lambda record: [], shows=lambda record: ""),
        "import": add(
            "ledger:import",
            data=lambda record: {"file": SimpleUploadedFile("gl.csv", ONE_LINE_FILE)},
            done=imported,
            watch=(LedgerImport, LedgerLine),
        ),
    },
    queries={
        "overview": Queries(bound=12, populate=more_imports),
        "detail": Queries(
            bound=14,
            populate=lambda record, owner: [ledger.make_line(record) for _ in range(10)],
        ),
    },
)
test_ledger_import_views = view_tests(LEDGER_IMPORT)


LEDGER_LINE = ledger_spec(
    name="ledger lines",
    make=lambda owner: ledger.make_line(),
    label=lambda line: line.account,
    actions={"list": listing("ledger:ledgerline_list", query=FILTERED)},
    queries={
        "list": Queries(
            bound=12,
            populate=lambda record, owner: [ledger.make_line() for _ in range(10)],
            rows=11,
        )
    },
)
test_ledger_line_views = view_tests(LEDGER_LINE)


# --- Ledger rules -------------------------------------------------------------------------------


def rule_data(rule) -> dict:
    return {
        "name": "Cloud vendors",
        "priority": "5",
        "account": "",
        "account_match": "exact",
        "cost_centre": "",
        "cost_centre_match": "exact",
        "vendor": " amazon.* ",
        "vendor_match": "regex",
        "service": rule.service_id,
        "category": "vendor",
        "expenditure": "opex",
        "pool_type": "software",
    }


def rule_added(rule) -> None:
    added = LedgerRule.objects.get(name="Cloud vendors")
    assert added.vendor == "amazon.*" and added.service_id == rule.service_id


def rule_changed(rule) -> None:
    assert fresh(rule).name == "Cloud vendors" and fresh(rule).priority == 5


LEDGER_RULE = ledger_spec(
    name="ledger rules",
    make=lambda owner: ledger.make_rule(),
    label=lambda rule: rule.name,
    actions={
        "list": listing("ledger:ledgerrule_list", query=FILTERED),
        "add": add("ledger:ledgerrule_add", data=rule_data, done=rule_added),
        "edit": edit("ledger:ledgerrule_edit", data=rule_data, done=rule_changed),
        "delete": delete("ledger:ledgerrule_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            populate=lambda record, owner: [ledger.make_rule() for _ in range(10)],
            rows=11,
        )
    },
)
test_ledger_rule_views = view_tests(LEDGER_RULE)
