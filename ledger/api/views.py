"""The ledger API's two actions beside its resources: importing ledger files and testing the
rules (with a candidate among them) against a file before saving. Both take
multipart/form-data (a file), answer JSON and refuse bad input as every other address does
(core.api.errors)."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view

from core.api import schema
from core.uploads import FILE_BODY
from core.uploads import RULE_TEST_BODY
from core.uploads import FileImportApiView
from core.uploads import RuleTestApiView
from ledger import services
from ledger.models import LedgerImport
from ledger.models import LedgerRule

AMOUNTS = {
    "type": "object",
    "description": "Exact amount per currency.",
    "additionalProperties": {"type": "string", "format": "decimal"},
}
TAKE = {
    "type": "object",
    "properties": {
        "rule": {"type": "integer", "nullable": True, "description": "null: unmapped"},
        "name": {"type": "string"},
        "lines": {"type": "integer"},
        "amount": AMOUNTS,
    },
}
RULE_TEST = {
    "type": "object",
    "properties": {
        "lines": {"type": "integer"},
        "total": AMOUNTS,
        "rules": {"type": "array", "items": TAKE, "description": "By priority."},
        "candidate": {**TAKE, "nullable": True},
        "unmapped": TAKE,
    },
}
IMPORT_RESULT = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "ledger_import": {"type": "integer"},
                    "period": {"type": "string", "example": "2025-03"},
                    "outcome": {"type": "string", "enum": ["imported", "replaced", "unchanged"]},
                    "lines": {"type": "integer"},
                    "unmapped_lines": {"type": "integer"},
                    "totals": {"type": "object"},
                },
            },
        }
    },
}


@extend_schema_view(
    post=extend_schema(
        operation_id="import_ledger_files",
        summary="Import general-ledger files",
        description=(
            "Each period in the files (CSV or XLSX, one or several `file` parts) replaces "
            "what was imported for it before; the same lines under the same rules write "
            "nothing (`unchanged`). All the files or none."
        ),
        request=FILE_BODY,
        responses={200: OpenApiResponse(IMPORT_RESULT), **schema.errors(400, 401, 403, 413)},
        tags=["ledger-imports"],
    )
)
class LedgerImportView(FileImportApiView):
    model = LedgerImport
    import_function = services.import_ledger
    missing_file = "Send a ledger file (CSV or XLSX) as `file`."


@extend_schema_view(
    post=extend_schema(
        operation_id="test_ledger_rules",
        summary="Test the ledger rules against a file before saving a rule",
        description=(
            "How many lines of the file, and how much money, each rule would take, and what "
            "would stay unmapped; with a candidate (`rule`: a ledger rule as JSON, as POST "
            "/ledger-rules/ takes it; `id` in it tests an edit of that rule) in its place by "
            "priority. Saves nothing."
        ),
        request=RULE_TEST_BODY,
        responses={200: OpenApiResponse(RULE_TEST), **schema.errors(400, 401, 403, 404, 413)},
        tags=["ledger-rules"],
    )
)
class LedgerRuleTestView(RuleTestApiView):
    model = LedgerRule
    resource = "ledger-rules"
    noun = "ledger rule"
    right = "view"
    try_rules = services.try_rules
    missing_file = "Send a ledger file (CSV or XLSX) as `file`."


urlpatterns = [
    path("ledger-imports/import/", LedgerImportView.as_view(), name="ledger-imports-import"),
    path("ledger-rules/test/", LedgerRuleTestView.as_view(), name="ledger-rules-test"),
]
