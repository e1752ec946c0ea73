"""Who may do what on the cloud bills' pages, and their queries (tests/views.py, with the
specs every file import shares: tests/uploads.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cloud.models import BillingImport
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from tests.factories import cloud
from tests.uploads import imports_spec
from tests.uploads import lines_spec
from tests.uploads import rules_spec
from tests.views import add
from tests.views import fresh
from tests.views import read
from tests.views import view_tests

ONE_LINE_FILE = (
    b"BillingAccountId,BillingAccountName,ProviderName,BillingPeriodStart,BillingPeriodEnd,"
    b"ChargePeriodStart,ChargePeriodEnd,BilledCost,EffectiveCost,BillingCurrency,Tags\n"
    b"777,Matrix,AWS,2025-04-01 00:00:00,2025-05-01 00:00:00,2025-04-02 00:00:00,"
    b'2025-04-02 01:00:00,1.50,1.25,USD,"{""env"": ""prod""}"\n'
)


# --- Billing periods, lines and the upload -----------------------------------------------------


def imported(record, user=None, response=None) -> None:
    billing_import = BillingImport.objects.get(account__billing_account_id="777")
    assert (
        billing_import.line_count == 1
        and FocusLine.objects.filter(billing_import=billing_import).get().effective_cost == 1.25
    )


BILLING_IMPORT = imports_spec(
    name="cloud billing imports",
    make=cloud.make_billing_import,
    label=lambda billing_import: "web-1",
    actions={
        "overview": read("cloud:overview", args=lambda record: []),
        "detail": read("cloud:billingimport_detail"),
        "account": read(
            "cloud:account_detail",
            args=lambda record: [record.account.slug],
            shows=lambda record: record.account.billing_account_id,
        ),
        "import": add(
            "cloud:import",
            data=lambda record: {"file": SimpleUploadedFile("bill.csv", ONE_LINE_FILE)},
            done=imported,
            watch=(BillingImport, FocusLine),
        ),
    },
    detail_line=cloud.make_focus_line,
    detail_bound=12,
)
test_billing_import_views = view_tests(BILLING_IMPORT)


FOCUS_LINE = lines_spec(
    name="FOCUS lines",
    url_name="cloud:focusline_list",
    make=cloud.make_focus_line,
    label=lambda line: "web-1",
)
test_focus_line_views = view_tests(FOCUS_LINE)


# --- Tag rules and key synonyms ----------------------------------------------------------------


def rule_data(rule) -> dict:
    return {
        "name": "Claims platform",
        "priority": "5",
        "tag_key": " Application ",
        "tag_value": "claims",
        "service": rule.service_id,
        "category": "infrastructure",
        "expenditure": "opex",
    }


def rule_added(rule) -> None:
    added = TagRule.objects.get(name="Claims platform")
    assert added.tag_key == "application" and added.service_id == rule.service_id


def rule_changed(rule) -> None:
    assert fresh(rule).name == "Claims platform" and fresh(rule).priority == 5


TAG_RULE = rules_spec(
    name="tag rules",
    prefix="cloud:tagrule",
    make=cloud.make_tag_rule,
    data=rule_data,
    added=rule_added,
    changed=rule_changed,
)
test_tag_rule_views = view_tests(TAG_RULE)


def synonym_added(synonym) -> None:
    assert TagKeySynonym.objects.get(synonym="stage").key == "environment"


def synonym_changed(synonym) -> None:
    assert fresh(synonym).synonym == "stage"


SYNONYM = rules_spec(
    name="tag key synonyms",
    prefix="cloud:tagkeysynonym",
    make=cloud.make_synonym,
    label=lambda synonym: synonym.synonym,
    data=lambda synonym: {"synonym": "Stage", "key": "Environment"},
    edit_data=lambda synonym: {"synonym": "stage", "key": "environment"},
    added=synonym_added,
    changed=synonym_changed,
)
test_synonym_views = view_tests(SYNONYM)
