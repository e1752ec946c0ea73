"""Who may do what on the cloud bills' pages, and their queries (tests/views.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cloud.models import BillingImport
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core import roles
from tests.factories import cloud
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

CLOUD_GRANTS = {
    **GRANTS,
    "add": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "change": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "delete": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
}
OTHER_ROLES = (roles.FINANCE, roles.SERVICE_OWNER)
FILTERED = "q="
ONE_LINE_FILE = (
    b"BillingAccountId,BillingAccountName,ProviderName,BillingPeriodStart,BillingPeriodEnd,"
    b"ChargePeriodStart,ChargePeriodEnd,BilledCost,EffectiveCost,BillingCurrency,Tags\n"
    b"777,Matrix,AWS,2025-04-01 00:00:00,2025-05-01 00:00:00,2025-04-02 00:00:00,"
    b'2025-04-02 01:00:00,1.50,1.25,USD,"{""env"": ""prod""}"\n'
)


def cloud_spec(**options) -> ViewSpec:
    return ViewSpec(**{"grants": CLOUD_GRANTS, "other_roles": OTHER_ROLES, **options})


# --- Billing periods, lines and the upload -----------------------------------------------------


def imported(record, user=None, response=None) -> None:
    billing_import = BillingImport.objects.get(account__billing_account_id="777")
    assert (
        billing_import.line_count == 1
        and FocusLine.objects.filter(billing_import=billing_import).get().effective_cost == 1.25
    )


def more_imports(record, owner):
    for _ in range(10):
        cloud.make_billing_import()


BILLING_IMPORT = cloud_spec(
    name="cloud billing imports",
    make=lambda owner: cloud.make_billing_import(),
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
    queries={
        "overview": Queries(bound=12, populate=more_imports),
        "detail": Queries(
            bound=12,
            populate=lambda record, owner: [cloud.make_focus_line(record) for _ in range(10)],
        ),
    },
)
test_billing_import_views = view_tests(BILLING_IMPORT)


FOCUS_LINE = cloud_spec(
    name="FOCUS lines",
    make=lambda owner: cloud.make_focus_line(),
    label=lambda line: "web-1",
    actions={"list": listing("cloud:focusline_list", query=FILTERED)},
    queries={
        "list": Queries(
            bound=12,
            populate=lambda record, owner: [cloud.make_focus_line() for _ in range(10)],
            rows=11,
        )
    },
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


TAG_RULE = cloud_spec(
    name="tag rules",
    make=lambda owner: cloud.make_tag_rule(),
    label=lambda rule: rule.name,
    actions={
        "list": listing("cloud:tagrule_list", query=FILTERED),
        "add": add("cloud:tagrule_add", data=rule_data, done=rule_added),
        "edit": edit("cloud:tagrule_edit", data=rule_data, done=rule_changed),
        "delete": delete("cloud:tagrule_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            populate=lambda record, owner: [cloud.make_tag_rule() for _ in range(10)],
            rows=11,
        )
    },
)
test_tag_rule_views = view_tests(TAG_RULE)


def synonym_added(synonym) -> None:
    assert TagKeySynonym.objects.get(synonym="stage").key == "environment"


def synonym_changed(synonym) -> None:
    assert fresh(synonym).synonym == "stage"


SYNONYM = cloud_spec(
    name="tag key synonyms",
    make=lambda owner: cloud.make_synonym(),
    label=lambda synonym: synonym.synonym,
    actions={
        "list": listing("cloud:tagkeysynonym_list", query=FILTERED),
        "add": add(
            "cloud:tagkeysynonym_add",
            data=lambda s: {"synonym": "Stage", "key": "Environment"},
            done=synonym_added,
        ),
        "edit": edit(
            "cloud:tagkeysynonym_edit",
            data=lambda s: {"synonym": "stage", "key": "environment"},
            done=synonym_changed,
        ),
        "delete": delete("cloud:tagkeysynonym_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            populate=lambda record, owner: [cloud.make_synonym() for _ in range(10)],
            rows=11,
        )
    },
)
test_synonym_views = view_tests(SYNONYM)
