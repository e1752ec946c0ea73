"""The cloud API's two actions beside its resources: importing FOCUS files and testing a tag
rule against a file before saving it. Both take multipart/form-data (a file), answer JSON and
refuse bad input as every other address does (core.api.errors)."""

import json

from django.db import transaction
from django.urls import path
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cloud import services
from cloud.models import BillingImport
from cloud.models import TagRule
from core import context
from core.api import schema
from core.api import writes
from core.api.errors import Invalid
from core.api.resources import registry
from core.api.views import ApiView
from core.choices import Channel

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
FILE_BODY = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}


def uploaded_files(request) -> list:
    files = request.FILES.getlist("file")
    if not files:
        raise Invalid(errors={"file": ["Send a FOCUS file (CSV or Parquet) as `file`."]})
    return files


class FocusImportView(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
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
    def post(self, request):
        writes.require(request.user, "add", BillingImport)
        results = []
        # All the files or none: a refused file undoes the ones before it.
        with transaction.atomic(), context.change_context(user=request.user, channel=Channel.API):
            for upload in uploaded_files(request):
                results += services.import_focus(
                    stream=upload, name=upload.name or "", user=request.user
                )
        return Response({"results": [result.as_json() for result in results]})


class TagRuleTestView(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="test_tag_rule",
        summary="Test a tag rule against a file before saving it",
        description=(
            "How many lines of the file, and how much EffectiveCost, each rule would take "
            "with the candidate (`rule`: a tag rule as JSON, as POST /tag-rules/ takes it; "
            "`id` in it tests an edit of that rule) in its place by priority. Saves nothing."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "rule": {"type": "string", "description": "The candidate rule, JSON."},
                },
                "required": ["file"],
            }
        },
        responses={200: OpenApiResponse(RULE_TEST), **schema.errors(400, 401, 403, 404, 413)},
        tags=["tag-rules"],
    )
    def post(self, request):
        writes.require(request.user, "add", TagRule)
        (upload,) = uploaded_files(request)[:1]
        candidate = None
        text = request.data.get("rule")
        if text:
            try:
                body = json.loads(text)
            except ValueError:
                raise Invalid(errors={"rule": ["Give the rule as a JSON object."]}) from None
            if not isinstance(body, dict):
                raise Invalid(errors={"rule": ["Give the rule as a JSON object."]})
            candidate = TagRule()
            rule_id = body.pop("id", None)
            if rule_id is not None:
                stored = (
                    TagRule.objects.filter(pk=rule_id).first() if isinstance(rule_id, int) else None
                )
                if stored is None:
                    raise Invalid(errors={"rule": [f"There is no tag rule {rule_id!r}."]})
                # Testing an edit asks what the edit page asks: the right to change the rule.
                writes.require(request.user, "change", stored)
                candidate = stored
            writes.apply_body(
                registry["tag-rules"],
                user=request.user,
                data=body,
                instance=candidate,
                partial=rule_id is not None,
            )
        outcome = services.try_rules(stream=upload, name=upload.name or "", candidate=candidate)
        return Response(outcome.as_json())


urlpatterns = [
    path("billing-imports/import/", FocusImportView.as_view(), name="billing-imports-import"),
    path("tag-rules/test/", TagRuleTestView.as_view(), name="tag-rules-test"),
]
