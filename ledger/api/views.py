"""The ledger API's two actions beside its resources: importing ledger files and testing the
rules (with a candidate among them) against a file before saving. Both take
multipart/form-data (a file), answer JSON and refuse bad input as every other address does
(core.api.errors)."""

import json

from django.db import transaction
from django.urls import path
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core import context
from core.api import schema
from core.api import writes
from core.api.errors import Invalid
from core.api.resources import registry
from core.api.views import ApiView
from core.choices import Channel
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
        raise Invalid(errors={"file": ["Send a ledger file (CSV or XLSX) as `file`."]})
    return files


class LedgerImportView(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
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
    def post(self, request):
        writes.require(request.user, "add", LedgerImport)
        results = []
        # All the files or none: a refused file undoes the ones before it.
        with transaction.atomic(), context.change_context(user=request.user, channel=Channel.API):
            for upload in uploaded_files(request):
                results += services.import_ledger(
                    stream=upload, name=upload.name or "", user=request.user
                )
        return Response({"results": [result.as_json() for result in results]})


class LedgerRuleTestView(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="test_ledger_rules",
        summary="Test the ledger rules against a file before saving a rule",
        description=(
            "How many lines of the file, and how much money, each rule would take, and what "
            "would stay unmapped; with a candidate (`rule`: a ledger rule as JSON, as POST "
            "/ledger-rules/ takes it; `id` in it tests an edit of that rule) in its place by "
            "priority. Saves nothing."
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
        tags=["ledger-rules"],
    )
    def post(self, request):
        writes.require(request.user, "view", LedgerRule)
        (upload,) = uploaded_files(request)[:1]
        candidate = None
        text = request.data.get("rule")
        if text:
            # Testing a candidate asks what its form asks: the right to add or change rules.
            writes.require(request.user, "add", LedgerRule)
            try:
                body = json.loads(text)
            except ValueError:
                raise Invalid(errors={"rule": ["Give the rule as a JSON object."]}) from None
            if not isinstance(body, dict):
                raise Invalid(errors={"rule": ["Give the rule as a JSON object."]})
            candidate = LedgerRule()
            rule_id = body.pop("id", None)
            if rule_id is not None:
                stored = (
                    LedgerRule.objects.filter(pk=rule_id).first()
                    if isinstance(rule_id, int)
                    else None
                )
                if stored is None:
                    raise Invalid(errors={"rule": [f"There is no ledger rule {rule_id!r}."]})
                writes.require(request.user, "change", stored)
                candidate = stored
            writes.apply_body(
                registry["ledger-rules"],
                user=request.user,
                data=body,
                instance=candidate,
                partial=rule_id is not None,
            )
        outcome = services.try_rules(stream=upload, name=upload.name or "", candidate=candidate)
        return Response(outcome.as_json())


urlpatterns = [
    path("ledger-imports/import/", LedgerImportView.as_view(), name="ledger-imports-import"),
    path("ledger-rules/test/", LedgerRuleTestView.as_view(), name="ledger-rules-test"),
]
