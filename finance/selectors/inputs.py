"""The roll-up's inputs for one period."""

import datetime
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import localcontext

from django.conf import settings
from django.db import connection
from django.db.models import Case
from django.db.models import DecimalField
from django.db.models import F
from django.db.models import Max
from django.db.models import Min
from django.db.models import Q
from django.db.models import Sum
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import in_force_on
from finance import showback
from finance import tco
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import NodeKind
from finance.models import CostItem
from finance.models import CostPool
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from portfolio import selectors as portfolio_selectors
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import ServiceLifecycle
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import Subscription
from valuestreams.choices import StreamState
from valuestreams.models import Stage
from valuestreams.models import StageService
from valuestreams.models import ValueStream

# Besides cost items and rates, what the roll-up reads: models whose every change may move
# cost between services in every open period (finance.signals asks for a recomputation) ...
EDGE_MODELS = (
    PoolAllocation,
    ApplicationSupport,
    ContractCoverage,
    ServiceDependency,
    CostPool,
    StageService,  # shares the kept cost among value streams
)
# ... and models that matter only through some fields (a new summary changes no figure).
RELEVANT_FIELDS = {
    Service: ("lifecycle",),
    Application: ("lifecycle", "retired_at"),
    Contract: ("annual_value", "currency", "start_date", "end_date", "retired_at"),
    Subscription: ("service_id", "customer_id", *Subscription.TERMS, "retired_at"),
    ValueStream: ("retired_at",),
}


def node_for(service_id, application_id, contract_id, pool_id) -> tco.Node:
    """The node a cost item (or a row of one) is recorded against: its one target."""
    if service_id is not None:
        return (tco.SERVICE, service_id)
    if application_id is not None:
        return (tco.APPLICATION, application_id)
    if contract_id is not None:
        return (tco.CONTRACT, contract_id)
    return (tco.POOL, pool_id)


def node_labels(nodes) -> dict[tco.Node, str]:
    wanted: dict[str, list[int]] = {kind: [] for kind in NodeKind.values}
    for kind, pk in nodes:
        wanted[kind].append(pk)
    labels: dict[tco.Node, str] = {}
    for pk, name in Service.objects.filter(pk__in=wanted[tco.SERVICE]).values_list("pk", "name"):
        labels[(tco.SERVICE, pk)] = name
    for pk, name in Application.objects.filter(pk__in=wanted[tco.APPLICATION]).values_list(
        "pk", "name"
    ):
        labels[(tco.APPLICATION, pk)] = name
    for pk, ref, title in Contract.objects.filter(pk__in=wanted[tco.CONTRACT]).values_list(
        "pk", "reference", "title"
    ):
        labels[(tco.CONTRACT, pk)] = f"{ref} {title}"
    for pk, name in CostPool.objects.filter(pk__in=wanted[tco.POOL]).values_list("pk", "name"):
        labels[(tco.POOL, pk)] = name
    return labels


@dataclass
class LoadedInputs:
    """The engine's inputs for one period, plus what only the results need."""

    inputs: tco.Inputs
    # (node, currency, source period label) → original amount without a rate
    unconverted: dict[tuple[tco.Node, str, str], Decimal] = field(default_factory=dict)
    revenue: dict[int, Decimal] = field(default_factory=dict)
    units: dict[int, Decimal] = field(default_factory=dict)
    unit_names: dict[int, str] = field(default_factory=dict)
    revenue_unconverted: dict[str, Decimal] = field(default_factory=dict)
    cost_groups: int = 0
    node_groups: dict[tco.Node, int] = field(default_factory=dict)  # cost groups by node
    # Showback (finance.showback): the subscriptions in force, the stage links of current
    # states and of future states, and every stage of the streams in force by stream and state.
    subscriptions: list[showback.Subscription] = field(default_factory=list)
    stage_links: list[showback.StageLink] = field(default_factory=list)
    what_if_links: list[showback.StageLink] = field(default_factory=list)
    streams: dict[int, bool] = field(default_factory=dict)  # stream id → future state
    stages: dict[int, int] = field(default_factory=dict)  # stage id → stream id


# --- The rules the roll-up and the lineage share ---------------------------------------------

# A cost item's share of the month %(serial)s in whole cents: an opex item all of it in its own
# month, a capex item spread over its months, the odd cents going to its first months. A
# negative amount (a credit) is spread as its size, with its sign: a reversal cancels the item
# it reverses month by month. SQL over a cost item ``ci`` joined to its period ``p``;
# ITEM_IN_MONTH_SQL picks the items with a share.
ITEM_SHARE_CENTS_SQL = """
    SIGN(ci.amount)::bigint * (
        ROUND(ABS(ci.amount) * 100)::bigint / ci.spread_months
        + CASE WHEN %(serial)s - p.serial < MOD(ROUND(ABS(ci.amount) * 100)::bigint,
                                                ci.spread_months)
               THEN 1 ELSE 0 END
    )
"""
ITEM_IN_MONTH_SQL = "p.serial <= %(serial)s AND p.serial + ci.spread_months > %(serial)s"


def monthly_share_cents(annual_cents: int, month: int) -> int:
    """A twelfth of an annual amount in whole cents; the cents left over go to the first
    months of the calendar year, so any twelve consecutive months add up to the amount."""
    base, extra = divmod(annual_cents, 12)
    return base + (1 if month <= extra else 0)


def mid_month_start(period: Period) -> datetime.datetime:
    """The start of the middle day of ``period`` in the server's time zone: a record retired
    before it no longer counts for the month."""
    mid = period.mid_month
    return timezone.make_aware(datetime.datetime(mid.year, mid.month, mid.day))


def subscriptions_in_force(period: Period) -> Q:
    """Subscriptions in force at mid-month, as the revenue counts them: in force on the middle
    day of ``period`` (portfolio.selectors.subscriptions_in_force) and not retired before that
    day began."""
    return portfolio_selectors.subscriptions_in_force(
        period.mid_month, not_retired_before=mid_month_start(period)
    )


def streams_in_force(period: Period, prefix: str = "") -> Q:
    """Value streams not retired before the middle day of ``period`` began."""
    return Q(**{f"{prefix}retired_at__isnull": True}) | Q(
        **{f"{prefix}retired_at__gte": mid_month_start(period)}
    )


def contracts_in_force(period: Period) -> Q:
    """Contracts in force at mid-month: started by the middle day of ``period``, not ended
    before it, and not retired before it began (mid_month_start)."""
    return in_force_on(period.mid_month, start="start_date", end="end_date") & (
        Q(retired_at__isnull=True) | Q(retired_at__gte=mid_month_start(period))
    )


def edges_in_force(period: Period) -> Q:
    """Edges (application supports, contract coverages, pool allocations, dependencies) in
    force at mid-month, as contracts are: ``valid_from`` by the middle day of ``period`` (or
    none) and ``valid_to`` not before it (or none). A roll-up, a closing and a restatement of
    a month all read the edges of that month."""
    return in_force_on(period.mid_month)


def driver_quantities(period: Period) -> dict[tuple[int, tco.Node], Decimal]:
    """The quantity of each driver each consumer (a service or an application) used in
    ``period``, in one query: what driven edges share their source's cost by."""
    return {
        (driver_id, node_for(service_id, application_id, None, None)): quantity
        for driver_id, service_id, application_id, quantity in DriverQuantity.objects.filter(
            period=period
        ).values_list("driver_id", "service_id", "application_id", "quantity")
    }


@dataclass(frozen=True)
class MonthlyRates:
    """The exchange rates of some months, by (period id, currency)."""

    by_month: dict[tuple[int, str], Decimal]

    def rate(self, currency: str, period_id: int) -> Decimal | None:
        """The rate of ``currency`` in the month ``period_id`` (reporting currency per unit):
        1 for the reporting currency, the month's own recorded rate otherwise, None when the
        month has none (the amount then stays unconverted, in its own currency)."""
        if currency == settings.PORTICO_CURRENCY:
            return Decimal(1)
        return self.by_month.get((period_id, currency))


def monthly_rates(*, period_ids) -> MonthlyRates:
    """The recorded rates of the months ``period_ids``, in one query."""
    return MonthlyRates(
        {
            (period_id, currency): rate
            for period_id, currency, rate in ExchangeRate.objects.filter(
                period_id__in=set(period_ids)
            ).values_list("period_id", "currency", "rate")
        }
    )


# --- The inputs of one period -----------------------------------------------------------------

# Each item's share of this month in whole cents (ITEM_SHARE_CENTS_SQL), summed exactly by
# target, category, opex/capex, currency and the item's own period (whose rate converts it).
COST_SHARES_SQL = f"""
    SELECT ci.service_id, ci.application_id, ci.contract_id, ci.pool_id,
           ci.category, ci.expenditure, ci.currency, ci.period_id,
           SUM({ITEM_SHARE_CENTS_SQL}) AS cents
      FROM {{items}} ci
      JOIN {{periods}} p ON p.id = ci.period_id
     WHERE {ITEM_IN_MONTH_SQL} {{nodes}}
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
"""


def revenue_by_service(period: Period):
    """(service id, currency, annual charges, monthly prices, units, first and last unit name)
    of the subscriptions in force in ``period``, summed per service and currency, in one
    query."""
    money = DecimalField(max_digits=30, decimal_places=4)
    priced = Case(When(annual_charge__isnull=True, then=F("units") * F("price_per_unit")))
    return (
        Subscription.objects.filter(subscriptions_in_force(period))
        .values("service_id", "currency")
        .annotate(
            annual=Coalesce(Sum("annual_charge"), Value(Decimal(0)), output_field=money),
            monthly=Coalesce(Sum(priced), Value(Decimal(0)), output_field=money),
            unit_total=Sum("units"),
            first_unit=Min("unit_name"),
            last_unit=Max("unit_name"),
        )
        .order_by("service_id", "currency")
        .values_list(
            "service_id", "currency", "annual", "monthly", "unit_total", "first_unit", "last_unit"
        )
    )


def load_graph(period: Period) -> tco.Inputs:
    """The engine's nodes (retired or not), the edges in force in ``period`` (edges_in_force:
    only its mid-month day is read, so a month without a Period row will do) and the driver
    quantities of ``period``, without costs: what actuals and budgets (budgets.services) put
    their own costs on, so both flow along the same edges."""
    nodes: dict[tco.Node, bool] = {}
    for pk, lifecycle in Service.objects.values_list("pk", "lifecycle"):
        nodes[(tco.SERVICE, pk)] = lifecycle == ServiceLifecycle.RETIRED
    for pk, lifecycle, retired_at in Application.objects.values_list(
        "pk", "lifecycle", "retired_at"
    ):
        retired = lifecycle == ApplicationLifecycle.RETIRED or retired_at is not None
        nodes[(tco.APPLICATION, pk)] = retired
    for pk, retired_at in Contract.objects.values_list("pk", "retired_at"):
        nodes[(tco.CONTRACT, pk)] = retired_at is not None
    for pk, retired_at in CostPool.objects.values_list("pk", "retired_at"):
        nodes[(tco.POOL, pk)] = retired_at is not None

    edges: list[tco.Edge] = []
    in_force = edges_in_force(period)
    for application_id, service_id, weight, driver_id in ApplicationSupport.objects.filter(
        in_force
    ).values_list("application_id", "service_id", "weight", "driver_id"):
        edges.append(
            tco.Edge(
                (tco.APPLICATION, application_id), (tco.SERVICE, service_id), weight, driver_id
            )
        )
    for contract_id, service_id, application_id, weight in ContractCoverage.objects.filter(
        in_force
    ).values_list("contract_id", "service_id", "application_id", "weight"):
        target = (
            (tco.SERVICE, service_id)
            if service_id is not None
            else (tco.APPLICATION, application_id)
        )
        edges.append(tco.Edge((tco.CONTRACT, contract_id), target, weight))
    for pool_id, service_id, weight, driver_id in PoolAllocation.objects.filter(
        in_force
    ).values_list("pool_id", "service_id", "weight", "driver_id"):
        edges.append(tco.Edge((tco.POOL, pool_id), (tco.SERVICE, service_id), weight, driver_id))
    for provider_id, consumer_id, weight, driver_id in ServiceDependency.objects.filter(
        in_force
    ).values_list("provider_id", "consumer_id", "weight", "driver_id"):
        edges.append(
            tco.Edge((tco.SERVICE, provider_id), (tco.SERVICE, consumer_id), weight, driver_id)
        )
    has_drivers = period.pk is not None and any(e.driver is not None for e in edges)
    quantities = driver_quantities(period) if has_drivers else {}
    return tco.Inputs(nodes=nodes, costs={}, edges=edges, quantities=quantities)


@dataclass
class NodeCosts:
    """The cost recorded against nodes in one period (``load_costs``)."""

    costs: dict[tco.Node, tco.Vector]
    # (node, currency, source period label) → original amount without a rate
    unconverted: dict[tuple[tco.Node, str, str], Decimal]
    groups: dict[tco.Node, int]  # cost groups (target, cell, currency, month) by node
    rates: MonthlyRates


def load_costs(period: Period, nodes: set[tco.Node] | None = None) -> NodeCosts:
    """The cost recorded against every node in ``period`` (or against ``nodes`` only), in
    the reporting currency by cell: each cost item's share of the month (capex spread) at
    its own month's rate, and the contracts' twelfths. A node's vector is added up in the
    same order whether it is read alone or with all the others, so it is the same to the
    last digit. Cost without a rate is left apart, unconverted."""
    params: dict = {"serial": period.serial}
    where = ""
    if nodes is not None:
        ids = {kind: sorted(pk for k, pk in nodes if k == kind) for kind in NodeKind.values}
        where = (
            "AND (ci.service_id = ANY(%(service)s) OR ci.application_id = ANY(%(application)s)"
            " OR ci.contract_id = ANY(%(contract)s) OR ci.pool_id = ANY(%(pool)s))"
        )
        params.update(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            COST_SHARES_SQL.format(
                items=CostItem._meta.db_table, periods=Period._meta.db_table, nodes=where
            ),
            params,
        )
        groups = cursor.fetchall()
    rates = monthly_rates(period_ids={period.pk} | {row[7] for row in groups})
    found = NodeCosts(costs={}, unconverted={}, groups={}, rates=rates)
    costs = found.costs
    unconverted: dict[tuple[tco.Node, str, int], Decimal] = {}
    cell_index = tco.CELL_INDEX
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        for s_id, a_id, c_id, p_id, category, expenditure, currency, period_id, cents in groups:
            node = node_for(s_id, a_id, c_id, p_id)
            found.groups[node] = found.groups.get(node, 0) + 1
            rate = rates.rate(currency, period_id)
            if rate is None:
                key = (node, currency, period_id)
                unconverted[key] = unconverted.get(key, Decimal(0)) + Decimal(cents).scaleb(-2)
                continue
            vector = costs.get(node)
            if vector is None:
                vector = costs[node] = tco.zeros()
            vector[cell_index[(category, expenditure)]] += (Decimal(cents) * rate).scaleb(-2)

        vendor_cell = tco.CELL_INDEX[(CostCategory.VENDOR.value, Expenditure.OPEX.value)]
        contracts = Contract.objects.filter(contracts_in_force(period))
        if nodes is not None:
            contracts = contracts.filter(pk__in=ids[tco.CONTRACT])
        for pk, currency, annual_value in contracts.values_list("pk", "currency", "annual_value"):
            cents = monthly_share_cents(int(annual_value * 100), period.month)
            if not cents:
                continue
            node = (tco.CONTRACT, pk)
            rate = rates.rate(currency, period.pk)
            if rate is None:
                key = (node, currency, period.pk)
                unconverted[key] = unconverted.get(key, Decimal(0)) + Decimal(cents).scaleb(-2)
                continue
            vector = costs.get(node)
            if vector is None:
                vector = costs[node] = tco.zeros()
            vector[vendor_cell] += Decimal(cents) * rate / 100
    # The unconverted amounts name the month whose rate is missing by its label.
    labels = {
        pk: f"{year:04d}-{month:02d}"
        for pk, year, month in Period.objects.filter(
            pk__in={period_id for _, _, period_id in unconverted}
        ).values_list("pk", "year", "month")
    }
    found.unconverted = {
        (node, currency, labels[period_id]): amount
        for (node, currency, period_id), amount in unconverted.items()
    }
    return found


def load_inputs(*, period: Period) -> LoadedInputs:
    """Everything the engine needs for ``period``, in a fixed number of set-based queries."""
    graph = load_graph(period)
    found = load_costs(period)
    graph.costs = found.costs
    loaded = LoadedInputs(inputs=graph, unconverted=found.unconverted)
    loaded.node_groups = found.groups
    loaded.cost_groups = sum(found.groups.values())
    rates = found.rates
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        for service_id, currency, annual, monthly, units, first, last in revenue_by_service(period):
            amount = annual / 12 + monthly
            rate = rates.rate(currency, period.pk)
            if rate is None:
                loaded.revenue_unconverted[currency] = (
                    loaded.revenue_unconverted.get(currency, Decimal(0)) + amount
                )
            else:
                loaded.revenue[service_id] = (
                    loaded.revenue.get(service_id, Decimal(0)) + amount * rate
                )
            loaded.units[service_id] = loaded.units.get(service_id, Decimal(0)) + units
            # Blank when the subscriptions count unlike units: no unit cost across them.
            name = first if first == last else ""
            previous = loaded.unit_names.get(service_id)
            loaded.unit_names[service_id] = name if previous in (None, name) else ""
        load_showback(loaded, period, rates)
    return loaded


def load_showback(loaded: LoadedInputs, period: Period, rates: MonthlyRates) -> None:
    """What finance.showback shares the kept cost over, in four queries: the subscriptions in
    force with their monthly charge (the revenue each brings this month, converted as the
    revenue is; zero without a rate), the value streams in force, their stages and the links
    from those stages to services. Call in a context of tco.PRECISION digits."""
    for pk, customer_id, service_id, units, unit_name, price, annual, currency in (
        Subscription.objects.filter(subscriptions_in_force(period))
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "service_id",
            "units",
            "unit_name",
            "price_per_unit",
            "annual_charge",
            "currency",
        )
    ):
        if annual is not None:
            amount = annual / 12
        elif price is not None:
            amount = units * price
        else:
            amount = Decimal(0)
        rate = rates.rate(currency, period.pk)
        charge = amount * rate if rate is not None else Decimal(0)
        loaded.subscriptions.append(
            showback.Subscription(pk, customer_id, service_id, units, unit_name, charge)
        )
    in_force = streams_in_force(period)
    loaded.streams = {
        pk: state == StreamState.FUTURE
        for pk, state in ValueStream.objects.filter(in_force).values_list("pk", "state")
    }
    loaded.stages = dict(
        Stage.objects.filter(streams_in_force(period, "value_stream__"))
        .order_by("pk")
        .values_list("pk", "value_stream_id")
    )
    for pk, stage_id, service_id, weight in (
        StageService.objects.filter(streams_in_force(period, "stage__value_stream__"))
        .order_by("pk")
        .values_list("pk", "stage_id", "service_id", "weight")
    ):
        stream_id = loaded.stages[stage_id]
        link = showback.StageLink(pk, stage_id, stream_id, service_id, weight)
        (loaded.what_if_links if loaded.streams[stream_id] else loaded.stage_links).append(link)
