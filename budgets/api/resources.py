"""The budget resources: versions (created, named and synced here; built and approved by
the actions in budgets.api.views), their lines (CRUD and bulk sync, through the same rules as
the browser) and the budget results (read-only, written by the roll-up). Budget against
actual per service is budgets.api.views' ``budget-results``."""

from django.db.models import CharField
from django.db.models import F
from django.db.models import Value
from django.db.models.functions import Cast
from django.db.models.functions import Concat
from django.db.models.functions import LPad

from budgets import filtersets
from budgets import services
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register

MONTH = {"type": "string", "example": "2026-04", "description": "The month, YYYY-MM."}


def _month_label(serial: str):
    """SQL for the YYYY-MM label of a month serial (year × 12 + month − 1)."""
    text = CharField()
    return Concat(
        LPad(Cast(F(serial) / 12, text), 4, Value("0")),
        Value("-"),
        LPad(Cast(F(serial) % 12 + 1, text), 2, Value("0")),
        output_field=text,
    )


register(
    Resource(
        "budget-versions",
        model=BudgetVersion,
        fields=(
            "fiscal_year",
            "name",
            "status",
            "based_on",
            "run_rate_months",
            "built_at",
            "rolled_up_at",
            "approved_at",
            "approved_by",
            "input_total",
            "kept_total",
            "unallocated_total",
            "created_by",
        ),
        read_only=(
            "status",
            "based_on",
            "built_at",
            "rolled_up_at",
            "approved_at",
            "approved_by",
            "input_total",
            "kept_total",
            "unallocated_total",
            "created_by",
        ),
        description=(
            "A budget of a fiscal year: a draft is built (POST …/build/) and edited, then "
            "approved (POST …/approve/), which locks its lines and figures. The totals are "
            "those of its last roll-up: input = kept + unallocated."
        ),
        reads=Reads(filterset=filtersets.BudgetVersionFilterSet),
        writes=Writes(
            save=lambda version, user: services.save_version(version=version, user=user),
            remove=lambda version: services.delete_version(version=version),
        ),
    )
)

register(
    Resource(
        "budget-lines",
        model=BudgetLine,
        fields=(
            "version",
            "serial",
            "amount",
            "currency",
            "category",
            "expenditure",
            "spread_months",
            "pool_type",
            "service",
            "application",
            "contract",
            "pool",
            "note",
            "origin",
            "origin_contract",
        ),
        read_only=("origin_contract",),
        schemas={
            "serial": {
                "type": "integer",
                "example": 24315,
                "description": "The month as year × 12 + month − 1 (2026-04 is 24315); "
                "`month` shows it as YYYY-MM.",
            },
        },
        description=(
            "An amount budgeted in a month of its version's fiscal year against exactly one "
            "service, application, contract or cost pool, with its origin. Lines entered here "
            "are planned (or manual); contract and run-rate lines come from the build, and "
            "one edited turns manual. An approved version's lines are refused."
        ),
        reads=Reads(
            filterset=filtersets.BudgetLineFilterSet,
            queryset=lambda queryset: queryset.annotate(month=_month_label("serial")),
            computed={"month": MONTH},
        ),
        writes=Writes(
            required=("version", "serial", "amount", "category"),
            save=lambda line, user: services.save_line(line=line, user=user),
            remove=lambda line: services.delete_line(line=line),
            retire=lambda line: services.delete_line(line=line),
            error_names={"month": "serial"},
        ),
    )
)
