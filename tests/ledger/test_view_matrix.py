"""Who may do what on the general ledger's pages, and their queries (tests/views.py, with the
specs every file import shares: tests/uploads.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from tests.factories import ledger
from tests.uploads import imports_spec
from tests.uploads import lines_spec
from tests.uploads import rules_spec
from tests.views import add
from tests.views import fresh
from tests.views import read
from tests.views import view_tests

ONE_LINE_FILE = (
    b"account,cost centre,vendor,amount,currency,period\n8888,CC-9,Acme,1.25,EUR,2025-04\n"
)


# --- Imported periods, lines and the upload ----------------------------------------------------


def imported(record, user=None, response=None) -> None:
    line = LedgerLine.objects.get(account="8888")
    assert line.amount == 1.25 and line.unmapped and line.ledger_import.period.label == "2025-04"


LEDGER_IMPORT = imports_spec(
    name="ledger imports",
    make=ledger.make_import,
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
    detail_line=ledger.make_line,
    detail_bound=14,
)
test_ledger_import_views = view_tests(LEDGER_IMPORT)


LEDGER_LINE = lines_spec(
    name="ledger lines",
    url_name="ledger:ledgerline_list",
    make=ledger.make_line,
    label=lambda line: line.account,
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


LEDGER_RULE = rules_spec(
    name="ledger rules",
    prefix="ledger:ledgerrule",
    make=ledger.make_rule,
    data=rule_data,
    added=rule_added,
    changed=rule_changed,
)
test_ledger_rule_views = view_tests(LEDGER_RULE)
