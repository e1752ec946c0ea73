"""Lineage: where a service's TCO in a period came from, computed on demand from today's
data (never stored per pair)."""

from dataclasses import dataclass
from decimal import Decimal
from decimal import localcontext

from django.db import connection

from core.money import format_amount
from core.money import from_cents
from finance import tco
from finance.choices import NodeKind
from finance.models import CostItem
from finance.models import Driver
from finance.models import Period
from finance.models import TcoResult
from finance.selectors.inputs import ITEM_IN_MONTH_SQL
from finance.selectors.inputs import ITEM_SHARE_CENTS_SQL
from finance.selectors.inputs import contracts_in_force
from finance.selectors.inputs import load_inputs
from finance.selectors.inputs import monthly_rates
from finance.selectors.inputs import monthly_share_cents
from finance.selectors.inputs import node_for
from finance.selectors.inputs import node_labels
from portfolio.models import Contract
from portfolio.models import Service

ITEMS_SQL = f"""
    SELECT ci.id, ci.description, ci.service_id, ci.application_id, ci.contract_id, ci.pool_id,
           ci.category, ci.expenditure, ci.currency, ci.amount, ci.spread_months, ci.period_id,
           {ITEM_SHARE_CENTS_SQL} AS cents
      FROM {{items}} ci
      JOIN {{periods}} p ON p.id = ci.period_id
     WHERE {ITEM_IN_MONTH_SQL}
       AND (ci.service_id = ANY(%(services)s) OR ci.application_id = ANY(%(applications)s)
            OR ci.contract_id = ANY(%(contracts)s) OR ci.pool_id = ANY(%(pools)s))
"""


@dataclass
class LineageLine:
    kind: str  # "item" or "contract value"
    label: str
    node: tco.Node
    node_label: str
    category: str
    expenditure: str
    original: Decimal
    currency: str
    contribution: Decimal
    item_id: int | None = None
    converted: bool = True


@dataclass
class DrivenShare:
    """Why a driven edge carries its share this month: its consumer's quantity of the driver
    over the quantities of the source's consumers on it (``total``)."""

    driver_id: int
    name: str
    unit: str
    quantity: Decimal
    total: Decimal


@dataclass
class LineageEdge:
    source: tco.Node
    target: tco.Node
    source_label: str
    target_label: str
    weight: Decimal
    flow: Decimal
    contribution: Decimal
    share: Decimal = Decimal(0)  # of the source's cost, this month
    driven: DrivenShare | None = None

    @property
    def share_percent(self) -> Decimal:
        return self.share * 100


def driven_share_json(driven: DrivenShare | None) -> dict | None:
    """A driven edge's driver and quantities as the lineage's JSON shows them (None for a
    weighted edge)."""
    if driven is None:
        return None
    return {
        "id": driven.driver_id,
        "name": driven.name,
        "unit": driven.unit,
        "quantity": str(driven.quantity),
        "total": str(driven.total),
    }


def lineage(*, service: Service, period: Period, limit: int = 50, loaded=None) -> dict:
    """Where ``service``'s fully-loaded TCO in ``period`` came from: the cost items (and
    contract values) and the edges, each with the part of it that reaches this service.

    Computed from today's data; for a closed period the frozen figure may differ, and the
    result says so. A caller tracing many services of one period passes the period's
    ``load_inputs`` once as ``loaded``.
    """
    target = (tco.SERVICE, service.pk)
    if loaded is None:
        loaded = load_inputs(period=period)
    factor = tco.absorption(loaded.inputs, target)
    upstream = set(factor)
    restricted = tco.Inputs(
        nodes=loaded.inputs.nodes,
        costs={node: vector for node, vector in loaded.inputs.costs.items() if node in upstream},
        edges=[edge for edge in loaded.inputs.edges if edge.source in upstream],
        quantities=loaded.inputs.quantities,
    )
    allocation = tco.allocate(restricted)
    with localcontext() as ctx:  # the sum of the cells, exactly
        ctx.prec = tco.PRECISION
        gross = sum(allocation.gross.get(target, tco.zeros()), Decimal(0))
    by_kind: dict[str, list[int]] = {kind: [] for kind in NodeKind.values}
    for kind, pk in upstream:
        by_kind[kind].append(pk)
    labels = node_labels(upstream)

    lines: list[LineageLine] = []
    with connection.cursor() as cursor:
        cursor.execute(
            ITEMS_SQL.format(items=CostItem._meta.db_table, periods=Period._meta.db_table),
            {
                "serial": period.serial,
                "services": by_kind[tco.SERVICE],
                "applications": by_kind[tco.APPLICATION],
                "contracts": by_kind[tco.CONTRACT],
                "pools": by_kind[tco.POOL],
            },
        )
        items = cursor.fetchall()
    rates = monthly_rates(period_ids={period.pk} | {row[11] for row in items})
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        for row in items:
            (
                pk,
                description,
                s_id,
                a_id,
                c_id,
                p_id,
                category,
                expenditure,
                currency,
                amount,
                spread,
                period_id,
                cents,
            ) = row
            node = node_for(s_id, a_id, c_id, p_id)
            rate = rates.rate(currency, period_id)
            share = Decimal(cents) / 100
            contribution = share * rate * factor[node] if rate is not None else Decimal(0)
            label = description if spread == 1 else f"{description} (1/{spread} of {amount})"
            lines.append(
                LineageLine(
                    "item",
                    label,
                    node,
                    labels.get(node, ""),
                    category,
                    expenditure,
                    share,
                    currency,
                    contribution,
                    pk,
                    rate is not None,
                )
            )
        in_force = Contract.objects.filter(contracts_in_force(period), pk__in=by_kind[tco.CONTRACT])
        for contract in in_force.order_by("pk"):
            node = (tco.CONTRACT, contract.pk)
            share = Decimal(monthly_share_cents(int(contract.annual_value * 100), period.month))
            share /= 100
            rate = rates.rate(contract.currency, period.pk)
            contribution = share * rate * factor[node] if rate is not None else Decimal(0)
            yearly = format_amount(contract.annual_value, contract.currency)
            lines.append(
                LineageLine(
                    "contract value",
                    f"A twelfth of {yearly} a year",
                    node,
                    labels.get(node, ""),
                    "vendor",
                    "opex",
                    share,
                    contract.currency,
                    contribution,
                    None,
                    rate is not None,
                )
            )
        edges = []
        graph = tco.Graph.build(restricted)
        shares = {
            (source, share.target): share for source, live in graph.shares.items() for share in live
        }
        drivers = {
            pk: (name, unit)
            for pk, name, unit in Driver.objects.filter(
                pk__in={edge.driver for edge in restricted.edges if edge.driver is not None}
            ).values_list("pk", "name", "unit")
        }
        for edge in restricted.edges:
            flow = allocation.flows.get((edge.source, edge.target))
            reach = factor.get(edge.target)
            if not flow or not reach:
                continue
            share = shares[(edge.source, edge.target)]
            driven = None
            if edge.driver is not None:
                name, unit = drivers[edge.driver]
                driven = DrivenShare(edge.driver, name, unit, share.weight, share.total)
            edges.append(
                LineageEdge(
                    edge.source,
                    edge.target,
                    labels.get(edge.source, ""),
                    labels.get(edge.target, ""),
                    edge.weight,
                    flow,
                    flow * reach,
                    share.share,
                    driven,
                )
            )
        traced = sum((line.contribution for line in lines), Decimal(0))
    # The largest first, whichever their sign: a large credit is as telling as a large cost.
    lines.sort(key=lambda line: (-abs(line.contribution), line.label))
    edges.sort(key=lambda edge: (-abs(edge.contribution), edge.source_label))
    stored = TcoResult.objects.filter(
        period=period, version=period.current_version, service=service
    ).first()
    recomputed = tco.round_half_even_cents(gross)
    return {
        "service": service,
        "period": period,
        "lines": lines[:limit],
        "line_count": len(lines),
        "edges": edges[:limit],
        "edge_count": len(edges),
        "traced": from_cents(tco.round_half_even_cents(traced)),
        "gross": from_cents(recomputed),
        "exact": gross,
        "stored": stored,
        "differs": stored is not None and not tco.agrees_to_the_cent(stored.tco, gross),
        "unconverted": [line for line in lines if not line.converted],
    }
