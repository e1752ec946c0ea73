"""The finance API resources: one declaration each (see core.api.resources).

Cost pools, their allocations, cost items and exchange rates are read and written like the
portfolio's records (single writes and the bulk sync with the rules of finance.services).
Periods are read-only and named by their label (``"2026-10"``) wherever a
record refers to one; a label with no period yet opens it, as in the browser. TCO results
and the unallocated lines are read-only: only the roll-up writes them; a result's lineage is
computed on demand.
"""

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField
from django.db.models import CharField
from django.db.models import DecimalField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import Subquery
from django.db.models import Sum
from django.db.models import Value
from django.db.models.functions import Cast
from django.db.models.functions import Coalesce
from django.db.models.functions import Concat
from django.db.models.functions import JSONObject
from django.db.models.functions import LPad

from core.api.resources import Extra
from core.api.resources import NaturalKey
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from core.money import FIGURE_DIGITS
from finance import filtersets
from finance import selectors
from finance import services
from finance import tco
from finance.api import filtersets as api_filtersets
from finance.api import lineage
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import StageCost
from finance.models import StatementLine
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.models import ValueStreamCost
from finance.models import parse_label


def label_of(prefix: str = ""):
    """A period's label, ``YYYY-MM``, computed by the database."""

    def padded(name: str, width: int):
        return LPad(Cast(f"{prefix}{name}", CharField()), width, Value("0"))

    return Concat(padded("year", 4), Value("-"), padded("month", 2), output_field=CharField())


def current_version():
    return ExpressionWrapper(Q(version=F("period__current_version")), BooleanField())


def current_sum(figure: str):
    """The sum of a TcoResult figure over a period's current version, by the database."""
    return Coalesce(
        Subquery(
            TcoResult.objects.filter(period=OuterRef("pk"), version=OuterRef("current_version"))
            .order_by()
            .values("period")
            .annotate(total=Sum(figure))
            .values("total")
        ),
        Value(0),
        output_field=DecimalField(max_digits=FIGURE_DIGITS, decimal_places=2),
    )


def annotate_periods(queryset):
    return queryset.annotate(
        label=label_of(),
        not_charged=current_sum("not_charged"),
        in_no_value_stream=current_sum("in_no_value_stream"),
    )


MONEY_TOTAL = {"type": "string", "format": "decimal", "example": "1200.00"}


PERIOD_LABEL = NaturalKey(
    "label",
    fields=("year", "month"),
    parse=parse_label,
    format=lambda year, month: f"{year:04d}-{month:02d}",
    example="2026-10",
    pattern=r"^\d{4}-\d{2}$",
    create=services.open_periods,
)

# Registered first: the other resources refer to periods by their label.
register(
    Resource(
        "periods",
        model=Period,
        fields=(
            "year",
            "month",
            "status",
            "current_version",
            "closed_at",
            "closed_by",
            "recompute_requested_at",
        ),
        schemas={
            "current_version": {
                "type": "integer",
                "minimum": 1,
                "description": "The version of the figures shown; a restatement adds one.",
            },
            "recompute_requested_at": {
                "type": "string",
                "format": "date-time",
                "nullable": True,
                "description": (
                    "Set while the period's figures wait for a recomputation after a change."
                ),
            },
        },
        natural_key=PERIOD_LABEL,
        description=(
            "A calendar month of the ledger. Opened by the first cost item or rate booked in "
            "it; closed and restated in the browser."
        ),
        reads=Reads(
            computed={
                "label": {"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-10"},
                "not_charged": {
                    **MONEY_TOTAL,
                    "description": (
                        "Kept cost of the current version charged to no customer: the kept "
                        "cost of services with no subscription in force."
                    ),
                },
                "in_no_value_stream": {
                    **MONEY_TOTAL,
                    "description": (
                        "Kept cost of the current version that no stage of a current-state "
                        "value stream carries."
                    ),
                },
            },
            queryset=annotate_periods,
            filterset=api_filtersets.PeriodFilterSet,
        ),
    )
)

register(
    Resource(
        "cost-pools",
        model=CostPool,
        fields=("name", "slug", "description", "pool_type", "owner", "unit"),
        description="Shared cost (a data centre, a service desk) allocated to services by weight.",
        reads=Reads(
            filterset=filtersets.CostPoolFilterSet,
        ),
        writes=Writes(
            save=lambda pool, user: services.save_pool(pool=pool),
            remove=lambda pool: services.remove_pool(pool=pool),
        ),
    )
)

register(
    Resource(
        "drivers",
        model=Driver,
        fields=("name", "slug", "unit", "description"),
        description=(
            "A measure of consumption (sites, VM-hours, tickets, users, TB). An allocation "
            "edge driven by it shares its source's cost in proportion to the consumers' "
            'quantities of it in each month (docs/tco.md, "Consumption drivers").'
        ),
        reads=Reads(
            filterset=filtersets.DriverFilterSet,
        ),
        writes=Writes(
            save=lambda driver, user: services.save_driver(driver=driver),
            remove=lambda driver: services.remove_driver(driver=driver),
        ),
    )
)

register(
    Resource(
        "driver-quantities",
        model=DriverQuantity,
        fields=("driver", "period", "service", "application", "quantity"),
        description=(
            "How much of a driver one consumer, a service or an application, used in a period "
            "(at most one quantity per driver, period and consumer)."
        ),
        reads=Reads(
            filterset=api_filtersets.DriverQuantityFilterSet,
        ),
        writes=Writes(
            required=("driver", "period", "quantity"),
            save=lambda quantity, user: services.save_quantity(quantity=quantity),
            remove=lambda quantity: services.remove_quantity(quantity=quantity),
        ),
    )
)

register(
    Resource(
        "pool-allocations",
        model=PoolAllocation,
        fields=("pool", "service", "weight", "driver", "valid_from", "valid_to"),
        description=(
            "The pool's cost is shared among its services in proportion to the weights, or, "
            "when the allocations are driven, to the services' quantities of the driver."
        ),
        reads=Reads(
            filterset=api_filtersets.PoolAllocationFilterSet,
        ),
        writes=Writes(
            key=("pool", "service", "valid_from"),
            save=lambda allocation, user: services.save_allocation(allocation=allocation),
            remove=lambda allocation: services.remove_allocation(allocation=allocation),
        ),
    )
)

register(
    Resource(
        "cost-items",
        model=CostItem,
        fields=(
            "description",
            "period",
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
        ),
        description=(
            "An amount booked in a period against exactly one service, application, contract "
            "or cost pool. Opex is booked in its own month; capex is spread over "
            "`spread_months` months from its period."
        ),
        reads=Reads(
            filterset=filtersets.CostItemFilterSet,
        ),
        writes=Writes(
            save=lambda item, user: services.save_cost_item(item=item),
            remove=lambda item: services.remove_cost_item(item=item),
        ),
    )
)

register(
    Resource(
        "exchange-rates",
        model=ExchangeRate,
        fields=("period", "currency", "rate"),
        description=(
            "What one unit of a currency is worth in the reporting currency in a period; "
            "cost booked in that period converts at it."
        ),
        reads=Reads(
            filterset=filtersets.ExchangeRateFilterSet,
        ),
        writes=Writes(
            required=("currency",),
            save=lambda rate, user: services.save_rate(rate=rate),
            remove=lambda rate: services.remove_rate(rate=rate),
        ),
    )
)

RESULT_FIGURES = (
    *tco.FIGURES,
    *selectors.RESULT_SPLITS,
    "revenue",
    "consumed_units",
    "unit_name",
    "unit_cost",
    "recovery_ratio",
    "margin",
    "not_charged",
    "in_no_value_stream",
)
CELLS = {
    "type": "object",
    "description": 'Cents by category, then opex/capex: {"vendor": {"opex": 1200}}.',
    "additionalProperties": {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    },
}
CURRENT = {
    "type": "boolean",
    "description": "The period's current version: the figures the browser shows.",
}
CURRENCY = {"type": "string", "description": "The reporting currency the amounts are in."}


def annotate_results(queryset):
    return queryset.annotate(
        current=current_version(),
        negative=ExpressionWrapper(Q(kept__lt=0) | Q(tco__lt=0), BooleanField()),
        computed_at=F("run__finished_at"),
        currency=Value(settings.PORTICO_CURRENCY, output_field=CharField()),
    )


register(
    Resource(
        "tco-results",
        model=TcoResult,
        fields=("period", "version", "service", *RESULT_FIGURES, "breakdown"),
        schemas={
            "breakdown": {
                "type": "object",
                "description": (
                    "Every figure (tco, kept, direct, received_…, passed_on, unallocated) that "
                    "is not zero, by category and opex/capex, in cents."
                ),
                "additionalProperties": CELLS,
            }
        },
        description=(
            "The figures of one service in one period and version, as the roll-up computed "
            "them (docs/tco.md): the TCO by road and by category, what it keeps and passes on, "
            "revenue, unit cost, recovery ratio and margin."
        ),
        reads=Reads(
            computed={
                "current": CURRENT,
                "computed_at": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": True,
                    "description": "When the run that wrote these figures finished.",
                },
                "currency": CURRENCY,
                "negative": {
                    "type": "boolean",
                    "description": (
                        "The service's TCO or kept cost is below zero: credits (credit notes, "
                        "reversals) exceed its cost this month, as the Fund services page flags."
                    ),
                },
            },
            queryset=annotate_results,
            filterset=api_filtersets.TcoResultFilterSet,
            extras=(
                Extra(
                    "lineage",
                    answer=lambda result, limit: lineage.result_lineage(result, limit=limit),
                    schema=lineage.SCHEMA,
                    summary="Where a TCO result comes from: cost lines and edges",
                    description=(
                        "Computed now from today's data (finance.selectors.lineage): every cost "
                        "line and edge upstream of the service, with the part of it that reaches "
                        "the service."
                    ),
                    parameters=(lineage.LIMIT,),
                    queryset=lambda qs: qs.select_related("period", "service"),
                ),
            ),
        ),
    )
)

register(
    Resource(
        "tco-unallocated",
        model=TcoUnallocated,
        fields=(
            "period",
            "version",
            "source_kind",
            "source_id",
            "source_label",
            "reason",
            "detail",
            "amount",
            "original_currency",
            "original_amount",
            "breakdown",
        ),
        schemas={"breakdown": CELLS},
        description=(
            "Cost that reached no service in a period and version, with its source and the "
            "reason. `amount` is in the reporting currency, or null when no rate converts it "
            "(then see `original_amount` in `original_currency`)."
        ),
        reads=Reads(
            computed={"current": CURRENT, "currency": CURRENCY},
            queryset=lambda qs: qs.annotate(
                current=current_version(),
                currency=Value(settings.PORTICO_CURRENCY, output_field=CharField()),
            ),
            filterset=api_filtersets.TcoUnallocatedFilterSet,
        ),
    )
)


def synced_reference(name: str) -> JSONObject:
    """A reference to a synced record inside a JSON list, shaped as the API shows one."""
    return JSONObject(
        id=F(f"{name}_id"),
        source=F(f"{name}__source"),
        external_id=F(f"{name}__external_id"),
    )


def as_text(name: str):
    return Cast(name, CharField())


def statement_lines():
    return ArraySubquery(
        StatementLine.objects.filter(statement=OuterRef("pk"))
        .order_by("service__name", "service_id", "subscription_id")
        .values(
            json=JSONObject(
                subscription=synced_reference("subscription"),
                service=synced_reference("service"),
                units=as_text("units"),
                unit_name=F("unit_name"),
                revenue=as_text("revenue"),
                cost_to_serve=as_text("cost_to_serve"),
            )
        )
    )


def stage_costs():
    return ArraySubquery(
        StageCost.objects.filter(stream_cost=OuterRef("pk"))
        .order_by("stage__position", "stage_id")
        .values(json=JSONObject(stage=synced_reference("stage"), cost=as_text("cost")))
    )


REFERENCE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "source": {"type": "string"},
        "external_id": {"type": "string"},
    },
}
MONEY_TEXT = {"type": "string", "format": "decimal", "example": "1200.00"}

register(
    Resource(
        "customer-statements",
        model=CustomerStatement,
        fields=(
            "period",
            "version",
            "customer",
            "revenue",
            "cost_to_serve",
            "margin",
            "recovery_ratio",
        ),
        description=(
            "What one customer brought and cost in a period and version (docs/tco.md, "
            '"Cost to serve"): the revenue of its subscriptions in force, their share of the '
            "services' kept cost (cost to serve), the margin and the recovery ratio (null when "
            "the cost to serve is zero or negative), with a line per subscription."
        ),
        reads=Reads(
            computed={
                "lines": {
                    "type": "array",
                    "description": "One line per subscription in force.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "subscription": REFERENCE,
                            "service": REFERENCE,
                            "units": {"type": "string", "format": "decimal"},
                            "unit_name": {"type": "string"},
                            "revenue": MONEY_TEXT,
                            "cost_to_serve": MONEY_TEXT,
                        },
                    },
                },
                "current": CURRENT,
                "currency": CURRENCY,
            },
            annotated_as={"lines": "statement_lines"},
            queryset=lambda qs: qs.annotate(
                statement_lines=statement_lines(),
                current=current_version(),
                currency=Value(settings.PORTICO_CURRENCY, output_field=CharField()),
            ),
            filterset=api_filtersets.CustomerStatementFilterSet,
        ),
    )
)

register(
    Resource(
        "value-stream-costs",
        model=ValueStreamCost,
        fields=("period", "version", "value_stream", "cost", "what_if"),
        description=(
            "The kept cost a value stream's stages carry in a period and version (docs/tco.md, "
            "\"Value-stream cost\"), with each stage's cost. A future state's figure is a "
            "what-if (`what_if`: computed on its own stage links as if it replaced its current "
            "state) and is never part of the totals."
        ),
        reads=Reads(
            computed={
                "stages": {
                    "type": "array",
                    "description": "Each stage of the stream with the cost it carries.",
                    "items": {
                        "type": "object",
                        "properties": {"stage": REFERENCE, "cost": MONEY_TEXT},
                    },
                },
                "current": CURRENT,
                "currency": CURRENCY,
            },
            annotated_as={"stages": "stage_costs"},
            queryset=lambda qs: qs.annotate(
                stage_costs=stage_costs(),
                current=current_version(),
                currency=Value(settings.PORTICO_CURRENCY, output_field=CharField()),
            ),
            filterset=api_filtersets.ValueStreamCostFilterSet,
        ),
    )
)
