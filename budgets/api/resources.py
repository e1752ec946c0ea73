"""The budget resources: versions (created, named and synced here; built and approved by
the actions in budgets.api.views), their lines (CRUD and bulk sync, through the same rules as
the browser) and the budget results (read-only, written by the roll-up). Budget against
actual per service is budgets.api.views' ``budget-results``. Scenarios and their changes are
written here one record at a time (no sync: no source owns them), through budgets.scenarios as
in the browser; a scenario's ``effect`` is the difference its page shows."""

from decimal import Decimal

from django.db.models import CharField
from django.db.models import F
from django.db.models import Value
from django.db.models.functions import Cast
from django.db.models.functions import Concat
from django.db.models.functions import LPad

from budgets import filtersets
from budgets import scenarios
from budgets import services
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core.api.resources import Extra
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from finance.services.whatif import BUCKETS

MONTH = {"type": "string", "example": "2026-04", "description": "The month, YYYY-MM."}
MONEY = {"type": "string", "format": "decimal", "example": "1250.00"}
BUCKET_FIGURES = {
    "type": "object",
    "description": "`tco` and its five categories (`tco_development` … `tco_support`).",
    "properties": dict.fromkeys(BUCKETS, MONEY),
    "required": list(BUCKETS),
}
EFFECT = {
    "type": "object",
    "properties": {
        "scenario": {"type": "integer"},
        "base": {"type": "integer", "description": "The budget version it is a what-if on."},
        "fiscal_year": {"type": "integer"},
        "services": {
            "type": "array",
            "description": "Every service whose budgeted TCO of the year changes, largest "
            "change first.",
            "items": {
                "type": "object",
                "properties": {
                    "service": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "slug": {"type": "string"},
                        },
                    },
                    "base": BUCKET_FIGURES,
                    "scenario": BUCKET_FIGURES,
                    "delta": BUCKET_FIGURES,
                },
            },
        },
    },
}


def _figures(buckets: dict[str, Decimal]) -> dict[str, str]:
    return {bucket: f"{buckets[bucket]:.2f}" for bucket in BUCKETS}


def scenario_effect(scenario: Scenario) -> dict:
    """The scenario page's table as JSON: per service, base, scenario and difference."""
    effect = scenarios.scenario_effect(scenario)
    return {
        "scenario": scenario.pk,
        "base": scenario.base_id,
        "fiscal_year": scenario.base.fiscal_year,
        "services": [
            {
                "service": {"id": row.service_id, "name": row.name, "slug": row.slug},
                "base": _figures(row.before),
                "scenario": _figures(row.after),
                "delta": _figures(row.delta),
            }
            for row in effect.services
        ],
    }


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

register(
    Resource(
        "scenarios",
        model=Scenario,
        fields=("name", "base", "note", "created_by"),
        read_only=("created_by",),
        description=(
            "A named what-if on a budget version (draft or approved: it never writes it). Its "
            "changes are `scenario-changes`; `GET …/effect/` gives the difference they make to "
            "the base's budgeted TCO of the year per service and category, as its page shows. "
            "Written one at a time (no sync)."
        ),
        reads=Reads(
            filterset=filtersets.ScenarioFilterSet,
            extras=(
                Extra(
                    "effect",
                    answer=scenario_effect,
                    schema=EFFECT,
                    summary="The difference a scenario makes to its base's budget",
                    description=(
                        "Computed now, in memory (budgets.scenarios.scenario_effect): the base "
                        "version's lines rolled up through the graph of each month of its "
                        "fiscal year, as they are (`base`) and with the scenario's changes "
                        "(`scenario`), summed over the year in the reporting currency; "
                        "`delta` = scenario − base. Nothing is written."
                    ),
                    queryset=lambda queryset: queryset.select_related("base"),
                ),
            ),
        ),
        writes=Writes(
            save=lambda scenario, user: scenarios.save_scenario(scenario=scenario, user=user),
            remove=lambda scenario: scenarios.remove_scenario(scenario=scenario),
        ),
    )
)

register(
    Resource(
        "scenario-changes",
        model=ScenarioChange,
        fields=("scenario", "kind", "contract", "dependency", "service", "provider", "value"),
        description=(
            "One change of a scenario. `kind` says what it names: `contract_value` a contract "
            "and its new annual value; `edge_weight` a dependency and its new weight; "
            "`new_dependency` a service (the consumer), its provider and the weight; "
            "`retired_service` a service; `retired_dependency` a dependency (no value for "
            "either retirement). A field its kind does not name is refused."
        ),
        reads=Reads(filterset=filtersets.ScenarioChangeFilterSet),
        writes=Writes(
            save=lambda change, user: scenarios.save_scenario_change(change=change, user=user),
            remove=lambda change: scenarios.remove_scenario_change(change=change),
        ),
    )
)
