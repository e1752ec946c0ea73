"""The lineage of one TCO result as the API shows it: finance.selectors.lineage (computed
now, from today's data), with each cost item and each edge named by its record, so a ledger
or a CMDB can trace every figure back to the lines and links it sent."""

from decimal import Decimal

from django.conf import settings

from core.api.fields import FieldInvalid
from core.api.resources import QueryParameter
from core.money import to_cents
from core.numbers import whole_number
from finance import selectors
from finance import tco
from finance.models import CostItem
from finance.models import PoolAllocation
from portfolio.models import ApplicationSupport
from portfolio.models import ContractCoverage
from portfolio.models import ServiceDependency

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000

# Each kind of edge in the API: (resource, model, the fields of its source and its target).
EDGES = {
    (tco.APPLICATION, tco.SERVICE): (
        "application-supports", ApplicationSupport, "application_id", "service_id"
    ),
    (tco.CONTRACT, tco.SERVICE): (
        "contract-coverages", ContractCoverage, "contract_id", "service_id"
    ),
    (tco.CONTRACT, tco.APPLICATION): (
        "contract-coverages", ContractCoverage, "contract_id", "application_id"
    ),
    (tco.POOL, tco.SERVICE): ("pool-allocations", PoolAllocation, "pool_id", "service_id"),
    (tco.SERVICE, tco.SERVICE): (
        "service-dependencies", ServiceDependency, "provider_id", "consumer_id"
    ),
}  # fmt: skip


def convert_limit(text: str) -> int:
    limit = whole_number(text)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise FieldInvalid(f"Give a whole number from 1 to {MAX_LIMIT}.")
    return limit


LIMIT = QueryParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "At most this many cost lines and as many edges, the largest contributions first "
    f"(default {DEFAULT_LIMIT}); `item_count` and `edge_count` say how many there are.",
    convert_limit,
    DEFAULT_LIMIT,
)


def money(amount: Decimal) -> str:
    return str(to_cents(amount))


def node(value, label: str) -> dict:
    return {"kind": value[0], "id": value[1], "label": label}


def synced_ref(row) -> dict:
    pk, source, external_id = row
    return {"id": pk, "source": source, "external_id": external_id}


def _edge_records(edges, period) -> dict:
    """(source node, target node) -> the edge's record in force in ``period``, with one query
    per kind of edge."""
    wanted: dict[tuple, set] = {}
    for edge in edges:
        kinds = (edge.source[0], edge.target[0])
        if kinds in EDGES:
            wanted.setdefault(kinds, set()).add(edge.source[1])
    records = {}
    for kinds, sources in wanted.items():
        _resource, model, source_field, target_field = EDGES[kinds]
        lookup = {f"{source_field}__in": sources}
        if model is ContractCoverage:
            lookup[f"{target_field}__isnull"] = False
        in_force = model.objects.filter(selectors.edges_in_force(period), **lookup)
        for pk, src, target, source, external_id in in_force.values_list(
            "pk", source_field, target_field, "source", "external_id"
        ):
            key = ((kinds[0], src), (kinds[1], target))
            records.setdefault(key, synced_ref((pk, source, external_id)))
    return records


def result_lineage(result, *, limit: int = DEFAULT_LIMIT) -> dict:
    """The lineage of ``result``'s service in its period, beside ``result``'s figure."""
    period, service = result.period, result.service
    found = selectors.lineage(service=service, period=period, limit=limit)
    item_refs = {
        row[0]: synced_ref(row)
        for row in CostItem.objects.filter(
            pk__in=[line.item_id for line in found["lines"] if line.item_id is not None]
        ).values_list("pk", "source", "external_id")
    }
    edge_refs = _edge_records(found["edges"], period)
    return {
        "result": result.pk,
        "service": {"id": service.pk, "source": service.source, "external_id": service.external_id},
        "period": {"id": period.pk, "label": period.label},
        "version": result.version,
        "current_version": period.current_version,
        "currency": settings.PORTICO_CURRENCY,
        "stored_tco": str(result.tco),
        "tco": str(found["gross"]),
        "traced": str(found["traced"]),
        "differs": not tco.agrees_to_the_cent(result.tco, found["exact"]),
        "item_count": found["line_count"],
        "edge_count": found["edge_count"],
        "items": [
            {
                "kind": line.kind,
                "cost_item": item_refs.get(line.item_id),
                "label": line.label,
                "recorded_against": node(line.node, line.node_label),
                "category": line.category,
                "expenditure": line.expenditure,
                "amount": money(line.original),
                "currency": line.currency,
                "converted": line.converted,
                "contribution": money(line.contribution),
            }
            for line in found["lines"]
        ],
        "edges": [
            {
                "resource": EDGES[(edge.source[0], edge.target[0])][0],
                "record": edge_refs.get((edge.source, edge.target)),
                "source": node(edge.source, edge.source_label),
                "target": node(edge.target, edge.target_label),
                "weight": str(edge.weight),
                "share": str(round(edge.share, 6)),
                "driver": selectors.driven_share_json(edge.driven),
                "flow": money(edge.flow),
                "contribution": money(edge.contribution),
            }
            for edge in found["edges"]
        ],
    }


DRIVEN = {
    "type": "object",
    "nullable": True,
    "description": (
        "A driven edge's driver, its consumer's quantity this month and the quantities of "
        "all the source's consumers on it: the share is quantity over total. Null for a "
        "weighted edge."
    ),
    "required": ["id", "name", "unit", "quantity", "total"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "unit": {"type": "string"},
        "quantity": {"type": "string", "format": "decimal"},
        "total": {"type": "string", "format": "decimal"},
    },
}

NODE = {
    "type": "object",
    "required": ["kind", "id", "label"],
    "properties": {
        "kind": {"type": "string", "enum": [tco.SERVICE, tco.APPLICATION, tco.CONTRACT, tco.POOL]},
        "id": {"type": "integer", "format": "int64"},
        "label": {"type": "string"},
    },
}
MONEY = {"type": "string", "format": "decimal"}
SYNCED_REF = {
    "type": "object",
    "required": ["id", "source", "external_id"],
    "properties": {
        "id": {"type": "integer", "format": "int64"},
        "source": {"type": "string"},
        "external_id": {"type": "string"},
    },
}

SCHEMA = {
    "type": "object",
    "description": (
        "Where a service's TCO in a period comes from, computed now from today's data: each "
        "cost line (a cost item's share of the month, or a twelfth of a contract's annual "
        "value) and each edge, with the part of it that reaches the service (`contribution`, "
        "in the reporting currency). The contributions add up to `tco`, the figure traced now; "
        "`stored_tco` is the result's own, rounded so that totals add up to the cent. "
        "`differs` is true when the two are further apart than that rounding: the data "
        "changed since the result was computed (a closed period keeps its figures until it "
        "is restated)."
    ),
    "required": [
        "result", "service", "period", "version", "current_version", "currency",
        "stored_tco", "tco", "traced", "differs", "item_count", "edge_count", "items", "edges",
    ],
    "properties": {
        "result": {"type": "integer", "format": "int64"},
        "service": SYNCED_REF,
        "period": {"$ref": "#/components/schemas/PeriodRef"},
        "version": {"type": "integer"},
        "current_version": {"type": "integer"},
        "currency": {"type": "string"},
        "stored_tco": MONEY,
        "tco": MONEY,
        "traced": MONEY,
        "differs": {"type": "boolean"},
        "item_count": {"type": "integer"},
        "edge_count": {"type": "integer"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "kind", "cost_item", "label", "recorded_against", "category",
                    "expenditure", "amount", "currency", "converted", "contribution",
                ],
                "properties": {
                    "kind": {"type": "string", "enum": ["item", "contract value"]},
                    "cost_item": {**SYNCED_REF, "nullable": True},
                    "label": {"type": "string"},
                    "recorded_against": NODE,
                    "category": {"type": "string"},
                    "expenditure": {"type": "string"},
                    "amount": {**MONEY, "description": "This month's share, in `currency`."},
                    "currency": {"type": "string"},
                    "converted": {
                        "type": "boolean",
                        "description": "False when no rate converts it: it contributes 0.",
                    },
                    "contribution": MONEY,
                },
            },
        },
        "edges": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "resource", "record", "source", "target", "weight", "share", "driver", "flow",
                    "contribution",
                ],
                "properties": {
                    "resource": {
                        "type": "string",
                        "enum": sorted({resource for resource, *_ in EDGES.values()}),
                    },
                    "record": {**SYNCED_REF, "nullable": True},
                    "source": NODE,
                    "target": NODE,
                    "weight": {"type": "string", "format": "decimal"},
                    "share": {
                        "type": "string",
                        "format": "decimal",
                        "description": "The edge's share of its source's cost this month.",
                    },
                    "driver": DRIVEN,
                    "flow": {**MONEY, "description": "What passes along the edge this month."},
                    "contribution": {
                        **MONEY,
                        "description": "The part of the flow that ends up in this service.",
                    },
                },
            },
        },
    },
}  # fmt: skip
