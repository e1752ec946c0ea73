"""The cloud API's two actions beside its resources: importing FOCUS files and testing a tag
rule against a file before saving it. Both take multipart/form-data (a file), answer JSON and
refuse bad input as every other address does (core.api.errors)."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view

from cloud import services
from cloud.models import BillingImport
from cloud.models import TagRule
from core.api import schema
from core.uploads import FILE_BODY
from core.uploads import RULE_TEST_BODY
from core.uploads import FileImportApiView
from core.uploads import RuleTestApiView

TAKE = {
    "type": "object",
    "properties": {
        "rule": {"type": "integer", "nullable": True, "description": "null: untagged"},
        "name": {"type": "string"},
        "lines": {"type": "integer"},
        "effective_cost": {
            "type": "object",
            "description": "EffectiveCost per BillingCurrency, to the cent.",
            "additionalProperties": {"type": "string", "format": "decimal"},
        },
    },
}
RULE_TEST = {
    "type": "object",
    "properties": {
        "lines": {"type": "integer"},
        "rules": {"type": "array", "items": TAKE, "description": "By priority."},
        "candidate": {**TAKE, "nullable": True},
        "untagged": TAKE,
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
                    "account": {"type": "integer"},
                    "provider_name": {"type": "string"},
                    "billing_account_id": {"type": "string"},
                    "period": {"type": "string", "example": "2024-09"},
                    "outcome": {"type": "string", "enum": ["imported", "replaced", "unchanged"]},
                    "lines": {"type": "integer"},
                    "untagged_lines": {"type": "integer"},
                    "totals": {"type": "object"},
                },
            },
        }
    },
}


@extend_schema_view(
    post=extend_schema(
        operation_id="import_focus_files",
        summary="Import FOCUS cloud bills",
        description=(
            "Each billing account's billing period in the files (CSV or Parquet, one or "
            "several `file` parts) replaces what was imported for it before; the same lines "
            "under the same rules write nothing (`unchanged`)."
        ),
        request=FILE_BODY,
        responses={200: OpenApiResponse(IMPORT_RESULT), **schema.errors(400, 401, 403, 413)},
        tags=["billing-imports"],
    )
)
class FocusImportView(FileImportApiView):
    model = BillingImport
    import_function = services.import_focus
    missing_file = "Send a FOCUS file (CSV or Parquet) as `file`."


@extend_schema_view(
    post=extend_schema(
        operation_id="test_tag_rule",
        summary="Test a tag rule against a file before saving it",
        description=(
            "How many lines of the file, and how much EffectiveCost, each rule would take "
            "with the candidate (`rule`: a tag rule as JSON, as POST /tag-rules/ takes it; "
            "`id` in it tests an edit of that rule) in its place by priority. Saves nothing."
        ),
        request=RULE_TEST_BODY,
        responses={200: OpenApiResponse(RULE_TEST), **schema.errors(400, 401, 403, 404, 413)},
        tags=["tag-rules"],
    )
)
class TagRuleTestView(RuleTestApiView):
    model = TagRule
    resource = "tag-rules"
    noun = "tag rule"
    # Testing even the stored rules asks the right their form asks: to add or change rules.
    right = "add"
    try_rules = services.try_rules
    missing_file = "Send a FOCUS file (CSV or Parquet) as `file`."


urlpatterns = [
    path("billing-imports/import/", FocusImportView.as_view(), name="billing-imports-import"),
    path("tag-rules/test/", TagRuleTestView.as_view(), name="tag-rules-test"),
]
