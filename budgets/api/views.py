"""The budget API's addresses beside its resources: a version's build and approval, and the
read-only budget results (budget, actual, forecast and variance per service, for a fiscal
year or per month). Bad input is refused as every other address refuses it
(core.api.errors)."""

from decimal import Decimal

from django.db import transaction
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from budgets import selectors
from budgets import services
from budgets.models import BudgetResult
from budgets.models import BudgetVersion
from core import context
from core.api import schema
from core.api import writes
from core.api.errors import Invalid
from core.api.resources import registry
from core.api.views import ApiView
from core.api.views import refuse_unknown
from core.choices import Channel
from portfolio.models import Service

MONEY = {"type": "string", "format": "decimal", "example": "1250.00"}
RESULT = {
    "type": "object",
    "properties": {
        "service": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "category": {
            "type": "string",
            "description": "A TCO category, or `total` for the service's whole TCO.",
        },
        "month": {"type": "string", "example": "2026-04", "description": "With by=month."},
        "closed": {"type": "boolean", "description": "With by=month: the period is closed."},
        "budget": MONEY,
        "actual": {**MONEY, "nullable": True},
        "forecast": MONEY,
        "variance": {**MONEY, "nullable": True},
        "budget_ytd": MONEY,
        "actual_ytd": MONEY,
        "variance_ytd": MONEY,
        "flagged": {"type": "boolean"},
    },
}
RESULTS = {
    "type": "object",
    "properties": {
        "fiscal_year": {"type": "integer"},
        "version": {"type": "integer", "nullable": True},
        "by": {"type": "string", "enum": ["year", "month"]},
        "results": {"type": "array", "items": RESULT},
    },
}
BUILD = {
    "type": "object",
    "properties": {
        "version": {"$ref": "#/components/schemas/BudgetVersion"},
        "lines": {
            "type": "object",
            "description": "The version's lines by origin after the build.",
            "additionalProperties": {"type": "integer"},
        },
    },
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _version(request, pk: int) -> BudgetVersion:
    version = BudgetVersion.objects.restrict(request.user, "view").filter(pk=pk).first()
    if version is None:
        raise Http404
    writes.require(request.user, "change", version)
    return version


def _represent(request, version: BudgetVersion) -> dict:
    resource = registry["budget-versions"]
    return resource.representation.rows(resource.base_queryset(request.user).filter(pk=version.pk))[
        0
    ]


class BuildView(ApiView):
    @extend_schema(
        operation_id="build_budget_version",
        summary="Build a draft budget from contracts and the run rate",
        description=(
            "Replaces the version's contract and run-rate lines by those today's data gives "
            "(the same data, the same lines) and keeps its planned and manual lines; its "
            "roll-up follows as a background task. An approved version is refused."
        ),
        request=None,
        responses={200: OpenApiResponse(BUILD), **schema.errors(400, 401, 403, 404)},
        tags=["budget-versions"],
    )
    def post(self, request, id: int):
        version = _version(request, id)
        with context.change_context(user=request.user, channel=Channel.API):
            counts = services.build_budget(version, user=request.user)
        return Response({"version": _represent(request, version), "lines": counts})


class ApproveView(ApiView):
    @extend_schema(
        operation_id="approve_budget_version",
        summary="Approve a draft budget",
        description=(
            "Rolls the draft up once more and locks it: its lines and figures no longer "
            "change, whatever the data does. Start a new draft from it in the browser."
        ),
        request=None,
        responses={
            200: OpenApiResponse({"$ref": "#/components/schemas/BudgetVersion"}),
            **schema.errors(400, 401, 403, 404),
        },
        tags=["budget-versions"],
    )
    def post(self, request, id: int):
        version = _version(request, id)
        with transaction.atomic(), context.change_context(user=request.user, channel=Channel.API):
            services.approve(version, user=request.user)
        return Response(_represent(request, version))


def _integer(params, name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise Invalid(errors={name: ["Give a whole number."]}) from None


class BudgetResultsView(ApiView):
    @extend_schema(
        operation_id="list_budget_results",
        summary="Budget against actual per service",
        description=(
            "Per service and category (and `total`) of a fiscal year: the budget of the "
            "version (default: the year's latest approved version, else its latest draft), "
            "the actual (each period's current version, closed and open), the forecast "
            "(actuals of closed months, budget of the others) and the variance (year: "
            "forecast − budget; month: actual − budget). `by=month` gives a row per month "
            "with the year to date. `flagged`: beyond both variance thresholds."
        ),
        parameters=[
            OpenApiParameter("fiscal_year", int, required=True),
            OpenApiParameter("version", int, description="Budget version id."),
            OpenApiParameter("service", int, description="Service id."),
            OpenApiParameter("by", str, enum=["year", "month"], description="Default: year."),
        ],
        responses={200: OpenApiResponse(RESULTS), **schema.errors(400, 401, 403)},
        tags=["budget-results"],
    )
    def get(self, request):
        params = request.query_params
        refuse_unknown(params, ("fiscal_year", "version", "service", "by"))
        writes.require(request.user, "view", BudgetResult)
        fiscal_year = _integer(params, "fiscal_year")
        if fiscal_year is None or not 1900 <= fiscal_year <= 9999:
            raise Invalid(errors={"fiscal_year": ["Give the fiscal year, such as 2026."]})
        by = params.get("by") or "year"
        if by not in ("year", "month"):
            raise Invalid(errors={"by": ["Give year or month."]})
        version = None
        version_id = _integer(params, "version")
        if version_id is not None:
            version = (
                BudgetVersion.objects.restrict(request.user, "view").filter(pk=version_id).first()
            )
            if version is None:
                raise Invalid(errors={"version": [f"There is no budget version {version_id}."]})
            if version.fiscal_year != fiscal_year:
                raise Invalid(
                    errors={"version": [f"This version budgets fiscal year {version.fiscal_year}."]}
                )
        else:
            version = selectors.default_version(fiscal_year)
        service = None
        service_id = _integer(params, "service")
        if service_id is not None:
            service = Service.objects.restrict(request.user, "view").filter(pk=service_id).first()
            if service is None:
                raise Invalid(errors={"service": [f"There is no service {service_id}."]})
        rows = selectors.budget_vs_actual(fiscal_year, version=version, service=service)
        if by == "month":
            results = [
                {
                    "service": {"id": row.service_id, "name": row.service},
                    "category": row.category,
                    "month": row.month,
                    "closed": row.closed,
                    "budget": _text(row.budget),
                    "actual": _text(row.actual),
                    "forecast": _text(row.forecast),
                    "variance": _text(row.variance),
                    "budget_ytd": _text(row.budget_ytd),
                    "actual_ytd": _text(row.actual_ytd),
                    "variance_ytd": _text(row.variance_ytd),
                    "flagged": row.flagged,
                }
                for row in rows
            ]
        else:
            results = [
                {
                    "service": {"id": year.service_id, "name": year.service},
                    "category": year.category,
                    "budget": _text(year.budget),
                    "actual": _text(year.actual),
                    "forecast": _text(year.forecast),
                    "variance": _text(year.variance),
                    "flagged": year.flagged,
                }
                for year in selectors.year_figures(rows)
            ]
        return Response(
            {
                "fiscal_year": fiscal_year,
                "version": version.pk if version else None,
                "by": by,
                "results": results,
            }
        )


urlpatterns = [
    path("budget-versions/<int:id>/build/", BuildView.as_view(), name="budget-versions-build"),
    path(
        "budget-versions/<int:id>/approve/",
        ApproveView.as_view(),
        name="budget-versions-approve",
    ),
    path("budget-results/", BudgetResultsView.as_view(), name="budget-results"),
]
