"""The general ledger's resources: imports and their lines (read-only: written by the import)
and the mapping rules (read, written one by one and synced in bulk). The import and the rule
test are ledger.api.views."""

from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import register
from core.uploads import imported_file_fields
from core.uploads import largest_schema
from core.uploads import lineage_fields
from core.uploads import rule_writes
from core.uploads import totals_schema
from ledger import filtersets
from ledger import services
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule

TOTALS = totals_schema(
    'Per currency, exact decimal strings: {"EUR": {"total": "…", "mapped": "…", '
    '"unmapped": "…"}}; total = mapped + unmapped.'
)
TOP_UNMAPPED = largest_schema(
    "The period's largest unmapped (account, cost centre, vendor), largest first.",
    {
        "account": {"type": "string"},
        "cost_centre": {"type": "string"},
        "vendor": {"type": "string"},
        "currency": {"type": "string"},
        "amount": {"type": "string", "format": "decimal"},
        "lines": {"type": "integer"},
    },
)

register(
    Resource(
        "ledger-imports",
        model=LedgerImport,
        fields=("period", *imported_file_fields(count="unmapped_count", largest="top_unmapped")),
        schemas={"totals": TOTALS, "top_unmapped": TOP_UNMAPPED},
        description=(
            "A period's general-ledger lines as last imported, with its totals (mapped + "
            "unmapped = the file) and its largest unmapped accounts."
        ),
        reads=Reads(filterset=filtersets.LedgerImportFilterSet),
    )
)

register(
    Resource(
        "ledger-lines",
        model=LedgerLine,
        fields=(
            "ledger_import",
            "row_number",
            "account",
            "cost_centre",
            "vendor",
            "description",
            "amount",
            "currency",
            "posting_date",
            *lineage_fields("unmapped"),
        ),
        description=(
            "A line of a general-ledger file, the ledger rule that took it (none: unmapped) "
            "and the cost item it is booked in."
        ),
        reads=Reads(filterset=filtersets.LedgerLineFilterSet),
    )
)

register(
    Resource(
        "ledger-rules",
        model=LedgerRule,
        fields=(
            "name",
            "priority",
            "account",
            "account_match",
            "cost_centre",
            "cost_centre_match",
            "vendor",
            "vendor_match",
            "service",
            "application",
            "contract",
            "pool",
            "category",
            "expenditure",
            "pool_type",
        ),
        description=(
            "Maps general-ledger lines to a service, an application, a contract or a cost "
            "pool: the first rule by priority whose every given criterion (exact, prefix or "
            "regex) matches takes a line. Test the rules against a file before saving them: "
            "POST /api/v1/ledger-rules/test/."
        ),
        reads=Reads(filterset=filtersets.LedgerRuleFilterSet),
        writes=rule_writes(services.save_rule, services.remove_rule),
    )
)
