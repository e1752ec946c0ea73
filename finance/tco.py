"""The allocation engine: pure Python over aggregated inputs, no database.

The rules (also in docs/tco.md, and tested in tests/finance/test_tco_engine.py):

* Cost flows along weighted edges: contract → service or application, application → service,
  pool → service, provider service → consumer service.
* A source's cost is split among its outgoing edges in proportion to their weights. Edges of
  weight zero and edges to retired targets carry nothing.
* An edge may be driven instead (``Edge.driver``): its weight in a period is its target's
  quantity of that driver in the period (``Inputs.quantities``), so the source's cost is split
  in proportion to the quantities of its consumers on the driver. A driven edge with no
  quantity (or zero) carries nothing; when none of a source's driven edges to a target in use
  has a quantity, its cost is unallocated with the reason "no driver quantities" (a service
  too: it does not keep cost it should pass on by consumption). One source's edges are all
  weighted or all driven by one driver: mixing is refused.
* A service with no outgoing edge keeps its cost. An application, contract or pool with no
  outgoing edge that carries something leaves its cost unallocated, with the reason.
* Services that support each other in a cycle are solved as simultaneous equations (the
  reciprocal method): each strongly connected component of the dependency graph, taken in
  topological order, is solved exactly (Gaussian elimination over fractions). A cycle from
  which no edge leads out can pass its cost to nobody: that cost is unallocated.
* Every amount keeps its category and opex/capex split: flows scale all ten cells alike.
* Cost may be negative (a credit note, a reversal): it flows like any other cost, so a
  credit lowers the figures of everything downstream. Weights are never negative.

Arithmetic is Decimal with PRECISION significant digits (far below a millionth of a cent
for any ledger); rounding to the cent happens once, in ``round_allocation``, by largest
remainder so that the input total equals kept plus unallocated to the cent.

After a change that touches a few nodes, ``reallocate`` recomputes only what they reach from
the previous allocation, with the same result as ``allocate`` to the last digit, and
``round_allocation`` rounds the whole period again reusing what did not move
(tests/finance/test_incremental_tco.py).
"""

import functools
import math
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from decimal import localcontext
from fractions import Fraction
from typing import NamedTuple
from typing import Protocol

from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import NodeKind
from finance.choices import UnallocatedReason

PRECISION = 60
# Components up to this many services are solved over exact fractions; larger ones (rare:
# a cycle through dozens of services) over Decimal at PRECISION digits, with pivoting.
FRACTION_LIMIT = 60

CATEGORIES = tuple(CostCategory.values)
EXPENDITURES = (Expenditure.OPEX.value, Expenditure.CAPEX.value)
CELLS = tuple((category, expenditure) for category in CATEGORIES for expenditure in EXPENDITURES)
CELL_INDEX = {cell: index for index, cell in enumerate(CELLS)}
NCELLS = len(CELLS)
ZERO = Decimal(0)

SERVICE = NodeKind.SERVICE.value
APPLICATION = NodeKind.APPLICATION.value
CONTRACT = NodeKind.CONTRACT.value
POOL = NodeKind.POOL.value
ALLOWED_EDGES = {
    (CONTRACT, SERVICE),
    (CONTRACT, APPLICATION),
    (APPLICATION, SERVICE),
    (POOL, SERVICE),
    (SERVICE, SERVICE),
}

Node = tuple[str, int]
Vector = list[Decimal]


def zeros() -> Vector:
    return [ZERO] * NCELLS


def add_into(total: Vector, addend: Vector) -> None:
    for i in range(NCELLS):
        if addend[i]:
            total[i] += addend[i]


def scaled(vector: Vector, factor: Decimal) -> Vector:
    return [value * factor if value else ZERO for value in vector]


class Edge(NamedTuple):
    source: Node
    target: Node
    weight: Decimal
    driver: int | None = None  # driven: the weight is the target's quantity of this driver


@dataclass
class Inputs:
    """What the engine needs: the nodes (and whether each is retired), the cost recorded
    against each node by cell, in the reporting currency, the edges, and the quantity of
    each driver each consumer has in the period (for driven edges)."""

    nodes: dict[Node, bool]
    costs: dict[Node, Vector]
    edges: list[Edge]
    quantities: dict[tuple[int, Node], Decimal] = field(default_factory=dict)

    def carried(self, edge: Edge) -> Decimal:
        """The edge's weight in the period: its static weight, or for a driven edge its
        target's quantity of the driver (zero when it has none)."""
        if edge.driver is None:
            return edge.weight
        return self.quantities.get((edge.driver, edge.target), ZERO)

    def validate(self) -> None:
        for node in self.costs:
            if node not in self.nodes:
                raise ValueError(f"Cost recorded against unknown {node[0]} {node[1]}")
        for edge in self.edges:
            if (edge.source[0], edge.target[0]) not in ALLOWED_EDGES:
                raise ValueError(f"No cost flows from a {edge.source[0]} to a {edge.target[0]}")
            if edge.source not in self.nodes or edge.target not in self.nodes:
                raise ValueError(f"Edge {edge.source} → {edge.target} names an unknown node")
            if edge.weight < 0:
                raise ValueError(f"Edge {edge.source} → {edge.target} has a negative weight")
            if edge.source == edge.target:
                raise ValueError(f"{edge.source} cannot depend on itself")
        drivers: dict[Node, int | None] = {}
        for edge in self.edges:
            if drivers.setdefault(edge.source, edge.driver) != edge.driver:
                raise ValueError(f"The edges from {edge.source} mix weights and drivers")
        for (_, consumer), quantity in self.quantities.items():
            if quantity < 0:
                raise ValueError(f"{consumer} has a negative driver quantity")
        # Costs may be negative (credit notes, reversals); weights and quantities may not.


class Share(NamedTuple):
    """One live edge of a source: its target and its share of the source's cost, as a
    Decimal and (for the exact solution of a cycle) as weight over total weight (for a
    driven edge: the target's quantity over the quantities of the source's consumers)."""

    target: Node
    share: Decimal
    weight: Decimal
    total: Decimal

    @property
    def exact(self) -> Fraction:
        return Fraction(self.weight) / Fraction(self.total)


class Coefficient(Protocol):
    """``coefficient(i, j)``: the Share that is C[i][j] in a component's equations (None for
    zero)."""

    def __call__(self, i: int, j: int, /) -> Share | None: ...


@dataclass
class Graph:
    """The live edges (positive weight or quantity, target not retired) with each edge's
    share, the reason each source without one is unallocated (a service only when its
    driven edges have no quantities: otherwise it keeps its cost), and the services'
    strongly connected components in topological order."""

    shares: dict[Node, list["Share"]]
    dead_end_reason: dict[Node, str]
    components: list[list[Node]]
    closed: set[Node]

    @classmethod
    def build(cls, inputs: Inputs) -> "Graph":
        outgoing: dict[Node, list[Edge]] = defaultdict(list)
        for edge in inputs.edges:
            outgoing[edge.source].append(edge)
        shares: dict[Node, list[Share]] = {}
        dead_end_reason: dict[Node, str] = {}
        for node in sorted(inputs.nodes):
            edges = sorted(outgoing.get(node, ()), key=lambda e: e.target)
            carried = [(e, inputs.carried(e)) for e in edges]
            live = [(e, w) for e, w in carried if w > 0 and not inputs.nodes[e.target]]
            if live:
                total = sum((w for _, w in live), ZERO)
                shares[node] = [Share(e.target, w / total, w, total) for e, w in live]
            elif (
                edges
                and edges[0].driver is not None
                and any(not inputs.nodes[e.target] for e in edges)
            ):
                dead_end_reason[node] = UnallocatedReason.NO_QUANTITIES.value
            elif node[0] != SERVICE:
                if not edges:
                    dead_end_reason[node] = UnallocatedReason.NO_TARGET.value
                elif any(not inputs.nodes[e.target] for e in edges):
                    dead_end_reason[node] = UnallocatedReason.ZERO_WEIGHT.value
                else:
                    dead_end_reason[node] = UnallocatedReason.RETIRED_TARGETS.value
        services = sorted(node for node in inputs.nodes if node[0] == SERVICE)
        successors = {node: [share.target for share in shares.get(node, ())] for node in services}
        components = strongly_connected_components(services, successors)
        closed = set()
        for component in components:
            if len(component) < 2:
                continue
            members = set(component)
            if all(share.target in members for node in component for share in shares.get(node, ())):
                closed.update(component)
        return cls(shares, dead_end_reason, components, closed)

    def passes_on(self, node: Node) -> bool:
        return node in self.shares and node not in self.closed

    @functools.cached_property
    def incoming(self) -> dict[Node, list[tuple[Node, Share]]]:
        """Each target's live edges in, with their sources in the order ``allocate`` settles
        them (contracts, applications, pools, then the services' components in topological
        order): the order in which their cost reaches the target."""
        place = {
            node: (index, position)
            for index, component in enumerate(self.components)
            for position, node in enumerate(component)
        }
        order = {CONTRACT: 0, APPLICATION: 1, POOL: 2}

        def rank(node: Node) -> tuple[int, int, int]:
            if node[0] == SERVICE:
                return (3, *place[node])
            return (order[node[0]], node[1], 0)

        incoming: dict[Node, list[tuple[Node, Share]]] = defaultdict(list)
        for source in sorted(self.shares, key=rank):
            for share in self.shares[source]:
                incoming[share.target].append((source, share))
        return dict(incoming)


def strongly_connected_components(
    nodes: list[Node], successors: dict[Node, list[Node]]
) -> list[list[Node]]:
    """Tarjan's algorithm, iterative; components in topological order (sources first),
    each sorted, so the result depends only on the graph."""
    index_of: dict[Node, int] = {}
    lowlink: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    found: list[list[Node]] = []
    counter = 0
    for root in nodes:
        if root in index_of:
            continue
        work = [(root, iter(successors.get(root, ())))]
        index_of[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index_of:
                    index_of[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    found.reverse()  # Tarjan finds sinks first
    return found


def solve_linear(matrix: list[list], rhs: list[list]) -> list[list]:
    """Solve ``matrix · x = rhs`` (several right-hand sides) by Gaussian elimination with
    partial pivoting. Works on Fractions (exact) and on Decimals alike."""
    size = len(matrix)
    width = len(rhs[0]) if rhs else 0
    a = [list(row) + list(r) for row, r in zip(matrix, rhs, strict=True)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(a[r][col]))
        if a[pivot][col] == 0:
            raise ZeroDivisionError("singular system")
        a[col], a[pivot] = a[pivot], a[col]
        pivot_row = a[col]
        inverse = 1 / pivot_row[col]
        for r in range(size):
            if r == col:
                continue
            factor = a[r][col]
            if factor == 0:
                continue
            factor = factor * inverse
            row = a[r]
            for c in range(col, size + width):
                if pivot_row[c]:
                    row[c] -= factor * pivot_row[c]
    return [[a[r][size + c] / a[r][r] for c in range(width)] for r in range(size)]


def _to_decimal(value) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return +value


def solve_component(
    members: list[Node], coefficient: Coefficient, rhs: list[list[Decimal]]
) -> list[list[Decimal]]:
    """Solve ``(I − C) x = rhs`` for a component, where ``coefficient(i, j)`` gives the
    Share that is C[i][j] (None for zero). Exact over fractions up to FRACTION_LIMIT
    members."""
    size = len(members)
    exact = size <= FRACTION_LIMIT
    matrix = []
    for i in range(size):
        row: list[Fraction | Decimal] = []
        for j in range(size):
            share = coefficient(i, j)
            identity = 1 if i == j else 0
            # Fractions throughout or Decimals throughout: the two never meet.
            if exact:
                row.append(identity - (Fraction(0) if share is None else share.exact))
            else:
                row.append(identity - (ZERO if share is None else share.share))
        matrix.append(row)
    converted = [[Fraction(v) if exact else v for v in row] for row in rhs]
    solution = solve_linear(matrix, converted)
    return [[_to_decimal(v) for v in row] for row in solution]


@dataclass
class Allocation:
    """Exact (unrounded) results: every vector has NCELLS cells in the reporting currency."""

    input_total: Decimal = ZERO
    direct: dict[Node, Vector] = field(default_factory=dict)
    # node → road (the source's kind) → vector
    received: dict[Node, dict[str, Vector]] = field(default_factory=dict)
    gross: dict[Node, Vector] = field(default_factory=dict)
    passed_on: dict[Node, Vector] = field(default_factory=dict)
    kept: dict[Node, Vector] = field(default_factory=dict)
    unallocated: dict[tuple[Node, str], Vector] = field(default_factory=dict)
    flows: dict[tuple[Node, Node], Decimal] = field(default_factory=dict)
    components: list[list[Node]] = field(default_factory=list)
    closed: set[Node] = field(default_factory=set)


def allocate(inputs: Inputs, graph: Graph | None = None) -> Allocation:
    """Run the allocation rules over ``inputs``; deterministic for the same inputs.
    ``graph``: Graph.build(inputs), when the caller has built it."""
    inputs.validate()
    if graph is None:
        graph = Graph.build(inputs)
    result = Allocation(components=graph.components, closed=set(graph.closed))
    with localcontext() as ctx:
        ctx.prec = PRECISION
        vector: Vector | None  # None where nothing flowed into a node (inflow.get)
        for node in sorted(inputs.costs):
            vector = list(inputs.costs[node])
            result.direct[node] = vector
            result.input_total += sum(vector, ZERO)
        inflow: dict[Node, Vector] = defaultdict(zeros)
        for node, vector in result.direct.items():
            add_into(inflow[node], vector)

        def send(source: Node, vector: Vector) -> None:
            for target, share, _, _ in graph.shares[source]:
                part = scaled(vector, share)
                add_into(inflow[target], part)
                roads = result.received.setdefault(target, {})
                add_into(roads.setdefault(source[0], zeros()), part)
                result.flows[(source, target)] = sum(part, ZERO)

        for kind in (CONTRACT, APPLICATION, POOL):
            for node in sorted(n for n in inputs.nodes if n[0] == kind):
                vector = inflow.get(node)
                if vector is None or not any(vector):
                    continue
                result.gross[node] = vector
                if node in graph.shares:
                    result.passed_on[node] = list(vector)
                    send(node, vector)
                else:
                    key = (node, graph.dead_end_reason[node])
                    result.unallocated[key] = list(vector)

        for component in graph.components:
            if len(component) == 1 or component[0] in graph.closed:
                for node in component:
                    vector = inflow.get(node)
                    if vector is None or not any(vector):
                        continue
                    result.gross[node] = vector
                    if node in graph.closed:
                        key = (node, UnallocatedReason.CLOSED_CYCLE.value)
                        result.unallocated[key] = list(vector)
                    elif node in graph.shares:
                        result.passed_on[node] = list(vector)
                        send(node, vector)
                    elif node in graph.dead_end_reason:
                        key = (node, graph.dead_end_reason[node])
                        result.unallocated[key] = list(vector)
                    else:
                        result.kept[node] = list(vector)
                continue
            _solve_cycle(component, graph, inflow, result, send)
    return result


def _solve_cycle(component, graph, inflow, result, send) -> None:
    """Reciprocal method: gross_i = inflow_i + Σ_j share(j→i) · gross_j within the cycle."""
    position = {node: i for i, node in enumerate(component)}
    inside: dict[tuple[int, int], Share] = {}
    for node in component:
        for share in graph.shares.get(node, ()):
            if share.target in position:
                inside[(position[share.target], position[node])] = share
    rhs = [list(inflow.get(node) or zeros()) for node in component]
    gross = solve_component(component, lambda i, j: inside.get((i, j)), rhs)
    for node, vector in zip(component, gross, strict=True):
        if not any(vector):
            continue
        # Costs may be negative (credits): a value of the order of 10^-PRECISION either way is
        # arithmetic noise, far below the cent, and is rounded away at the end.
        result.gross[node] = vector
        if node in graph.shares:
            result.passed_on[node] = list(vector)
            send(node, vector)
        else:
            result.kept[node] = list(vector)


# --- Incremental: recompute only what a change reaches ----------------------------------------


def changed_nodes(before: Inputs, after: Inputs) -> set[Node]:
    """The nodes whose own figures a change from ``before`` to ``after`` moves first: their
    cost, or the split of their cost (their edges out, a target retired or restored, a
    quantity their driven edges read), or the node itself appeared, retired or went.
    Everything else a change moves lies downstream of these (``reallocate``)."""
    seeds = {
        node
        for node in before.costs.keys() | after.costs.keys()
        if before.costs.get(node) != after.costs.get(node)
    }
    edges_out: dict[Node, list[set[Edge]]] = defaultdict(lambda: [set(), set()])
    sources_of: dict[Node, set[Node]] = defaultdict(set)
    for side, inputs in enumerate((before, after)):
        for edge in inputs.edges:
            edges_out[edge.source][side].add(edge)
            sources_of[edge.target].add(edge.source)
    seeds.update(source for source, (old, new) in edges_out.items() if old != new)
    for node in before.nodes.keys() | after.nodes.keys():
        if before.nodes.get(node) != after.nodes.get(node):
            seeds.add(node)
            seeds.update(sources_of[node])
    moved = {
        key
        for key in before.quantities.keys() | after.quantities.keys()
        if before.quantities.get(key) != after.quantities.get(key)
    }
    if moved:
        for inputs in (before, after):
            seeds.update(
                edge.source for edge in inputs.edges if (edge.driver, edge.target) in moved
            )
    return seeds


def reallocate(
    inputs: Inputs,
    previous: Allocation,
    seeds: set[Node],
    graph: Graph | None = None,
    previous_graph: Graph | None = None,
) -> tuple[Allocation, set[Node]]:
    """``allocate(inputs)`` when ``previous`` is the allocation of inputs that differ from
    these only at ``seeds`` (``changed_nodes``), recomputing only what the seeds reach: their
    downstream closure, along the edges of both (which takes in whole every cycle it enters).
    The rest is reused as it is, and the reached nodes are computed by the same operations in
    the same order as ``allocate``, so the result is the same to the last digit. ``graph``:
    the graph of both the previous inputs and these, when the caller has it (a change of cost
    only leaves the graph as it was; its nodes and edges are then not checked again).
    ``previous_graph``: when an edit changed the graph, the graph of the previous inputs; a
    target whose sources now settle in another order (the topological order of the
    components may change far from the edit) is recomputed too, for its cost is added up in
    that order. Returns the allocation and the reached nodes."""
    same_graph = graph is not None and previous_graph in (None, graph)
    if not same_graph or graph is None:
        inputs.validate()
        graph = graph or Graph.build(inputs)
    else:  # the graph was built from these nodes and edges: only the costs may be new
        for node in seeds:
            if node in inputs.costs and node not in inputs.nodes:
                raise ValueError(f"Cost recorded against unknown {node[0]} {node[1]}")
    if previous_graph is not None and previous_graph is not graph:
        seeds = set(seeds)
        before = previous_graph.incoming
        for target, sources in graph.incoming.items():
            if [source for source, _ in sources] != [
                source for source, _ in before.get(target, ())
            ]:
                seeds.add(target)
    # Where the previous allocation sent cost: along the same edges when the graph is the
    # previous one too (``same_graph``), along its recorded flows otherwise.
    sent_before: dict[Node, list[Node]] = defaultdict(list)
    if not same_graph:
        for source, target in previous.flows:
            sent_before[source].append(target)
    reached: set[Node] = set()
    stack = list(seeds)
    while stack:
        node = stack.pop()
        if node in reached:
            continue
        reached.add(node)
        stack.extend(share.target for share in graph.shares.get(node, ()))
        stack.extend(sent_before.get(node, ()))

    result = Allocation(components=graph.components, closed=set(graph.closed))
    if same_graph:
        # Copied whole, then the reached nodes' entries dropped: fewer steps than a filter
        # when a change reaches a small part of the graph.
        for name in ("gross", "passed_on", "kept", "received"):
            kept_on = dict(getattr(previous, name))
            for node in reached:
                kept_on.pop(node, None)
            setattr(result, name, kept_on)
        result.unallocated = dict(previous.unallocated)
        result.flows = dict(previous.flows)
        for node in reached:
            for reason in UnallocatedReason.values:
                result.unallocated.pop((node, reason), None)
            for share in graph.shares.get(node, ()):
                result.flows.pop((node, share.target), None)
    else:
        for name in ("gross", "passed_on", "kept", "received"):
            kept_on = {n: v for n, v in getattr(previous, name).items() if n not in reached}
            setattr(result, name, kept_on)
        result.unallocated = {
            key: vector for key, vector in previous.unallocated.items() if key[0] not in reached
        }
        result.flows = {
            edge: amount for edge, amount in previous.flows.items() if edge[0] not in reached
        }
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for node in sorted(inputs.costs):
            vector = list(inputs.costs[node])
            result.direct[node] = vector
            result.input_total += sum(vector, ZERO)

        def inflow(node: Node, members: frozenset = frozenset()) -> Vector | None:
            """What reaches ``node`` from outside its component, added up as ``allocate``
            adds it: its own cost, then each source's part in the order they settle."""
            vector = None
            direct = result.direct.get(node)
            if direct is not None:
                vector = zeros()
                add_into(vector, direct)
            for source, share in graph.incoming.get(node, ()):
                sent = result.passed_on.get(source)
                if sent is None or source in members:
                    continue
                if vector is None:
                    vector = zeros()
                add_into(vector, scaled(sent, share.share))
            return vector

        def settle(node: Node, vector: Vector | None) -> None:
            if vector is None or not any(vector):
                return
            result.gross[node] = vector
            if node in graph.closed:
                result.unallocated[(node, UnallocatedReason.CLOSED_CYCLE.value)] = list(vector)
            elif node in graph.shares:
                result.passed_on[node] = list(vector)
            elif node in graph.dead_end_reason:
                result.unallocated[(node, graph.dead_end_reason[node])] = list(vector)
            else:
                result.kept[node] = list(vector)

        for kind in (CONTRACT, APPLICATION, POOL):
            for node in sorted(n for n in reached if n[0] == kind and n in inputs.nodes):
                settle(node, inflow(node))
        for component in graph.components:
            if component[0] not in reached:
                continue
            if len(component) == 1 or component[0] in graph.closed:
                for node in component:
                    settle(node, inflow(node))
                continue
            members = frozenset(component)
            rhs = [inflow(node, members) or zeros() for node in component]
            position = {node: i for i, node in enumerate(component)}
            inside: dict[tuple[int, int], Share] = {}
            for node in component:
                for share in graph.shares.get(node, ()):
                    if share.target in position:
                        inside[(position[share.target], position[node])] = share
            gross = solve_component(component, lambda i, j, inside=inside: inside.get((i, j)), rhs)
            for node, vector in zip(component, gross, strict=True):
                settle(node, vector)

        for target in sorted(reached):
            roads: dict[str, Vector] = {}
            for source, share in graph.incoming.get(target, ()):
                sent = result.passed_on.get(source)
                if sent is not None:
                    add_into(roads.setdefault(source[0], zeros()), scaled(sent, share.share))
            if roads:
                result.received[target] = roads
        for source in sorted(reached):
            sent = result.passed_on.get(source)
            if sent is not None:
                for share in graph.shares[source]:
                    result.flows[(source, share.target)] = sum(scaled(sent, share.share), ZERO)
    return result, reached


# --- Rounding ------------------------------------------------------------------------------


def to_cents_exact(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return value * 100


def round_half_even_cents(value: Decimal) -> int:
    return int(to_cents_exact(value).to_integral_value(rounding=ROUND_HALF_EVEN))


def agrees_to_the_cent(stored: Decimal, exact: Decimal) -> bool:
    """Whether a stored amount is ``exact`` rounded: largest remainder moves each figure by
    less than a cent, up or down, so either cent around the exact value agrees."""
    cents = to_cents_exact(exact)
    return math.floor(cents) <= to_cents_exact(stored) <= math.ceil(cents)


def precise(function):
    """Run ``function`` with the engine's Decimal precision."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return function(*args, **kwargs)

    return wrapper


@precise
def apportion(values: list[Decimal], total: int) -> list[int]:
    """Round ``values`` (in currency units, of either sign) to whole cents that add up to
    ``total`` cents: each gets its floor, and the cents left over go one by one to the largest
    remainders (ties: the earlier value). Deterministic; zero values get nothing."""
    return _apportion(values, total)


def _apportion(values: list[Decimal], total: int) -> list[int]:
    """Largest remainder over signed values. The floor is the true floor (−33.333… cents is
    −34 with a remainder of 0.666…), so a negative value is rounded up, towards zero, by the
    cent it gets, exactly as a positive one: each value ends within a cent of itself when
    ``total`` is its sum rounded. Only values that are not zero take part, and none changes
    sign by more than rounding: a cent taken back (``total`` below the sum of the floors)
    is taken from a value that stays on its side of zero, where there is one."""
    count = len(values)
    if not count:
        if total:
            raise ValueError(f"{total} cents to share among nothing")
        return []
    present = [i for i, value in enumerate(values) if value]
    floors = [0] * count
    if len(present) <= 1:
        floors[present[0] if present else 0] = total
        return floors
    remainders = [ZERO] * count
    for i in present:
        cents = values[i].scaleb(2)
        floor = math.floor(cents)
        floors[i] = floor
        remainders[i] = cents - floor
    left = total - sum(floors)
    if left > 0:
        # Largest remainder first; the sort is stable, so ties keep the earlier value first.
        order = sorted(present, key=remainders.__getitem__, reverse=True)
        rounds, extra = divmod(left, len(present))
        for rank, i in enumerate(order):
            floors[i] += rounds + (1 if rank < extra else 0)
    elif left < 0:
        # Smallest remainder first (then the largest, then the earlier), sparing a positive
        # value that would go below zero.
        order = sorted(present, key=lambda i: (remainders[i], -floors[i], i))
        while left < 0:
            spare = [i for i in order if not (values[i] > 0 and floors[i] <= 0)] or order
            for i in spare:
                if left == 0:
                    break
                floors[i] -= 1
                left += 1
    return floors


FIGURES = (
    "direct",
    "received_applications",
    "received_contracts",
    "received_pools",
    "received_services",
    "passed_on",
    "tco",
    "kept",
    "unallocated",
)
ROAD_FIGURE = {
    APPLICATION: "received_applications",
    CONTRACT: "received_contracts",
    POOL: "received_pools",
    SERVICE: "received_services",
}


@dataclass
class Rounded:
    """Cents. ``services`` maps a service node to figure → list of NCELLS cents."""

    input_total: int
    services: dict[Node, dict[str, list[int]]]
    unallocated: dict[tuple[Node, str], list[int]]
    flows: dict[tuple[Node, Node], int]
    # The exact total of each row apportioned to the input total, ("kept", node) or
    # ("unallocated", (node, reason)): what rounding again after a change reuses.
    row_sums: dict[tuple, Decimal] = field(default_factory=dict)

    @property
    def kept_total(self) -> int:
        return sum(sum(figures["kept"]) for figures in self.services.values())

    @property
    def unallocated_total(self) -> int:
        return sum(sum(cells) for cells in self.unallocated.values())


@precise
def round_allocation(
    allocation: Allocation, reuse: tuple[Rounded, set[Node]] | None = None
) -> Rounded:
    """To the cent, preserving totals (largest remainder at every level).

    1. The input total is rounded half to even. The rows that hold money at the end — what
       each service keeps and each unallocated (source, reason) — are apportioned to it by
       largest remainder, so input = kept + unallocated to the cent; then each row's ten
       cells (category × opex/capex) are apportioned to the row's total the same way.
    2. What a service passes on is rounded half to even as a row and apportioned to its
       cells. The TCO of each cell is kept + passed on + unallocated (one of the three is
       non-zero), and its parts (direct and each road received) are apportioned to it, so
       direct + received = TCO = kept + passed on + unallocated on every row and cell.

    ``reuse``: the rounding of a previous allocation and the nodes ``reallocate`` reached
    since. The rows are apportioned to the total again, all of them; a row that was not
    reached and whose total in cents did not move keeps its cells, and a service none of
    whose rows moved keeps its figures: the same cents, without working them out again.
    """
    previous, reached = reuse if reuse is not None else (None, set())
    total = round_half_even_cents(allocation.input_total)
    rows: list[tuple] = [("kept", node) for node in sorted(allocation.kept)] + [
        ("unallocated", key) for key in sorted(allocation.unallocated)
    ]
    vectors = [
        allocation.kept[key] if what == "kept" else allocation.unallocated[key]
        for what, key in rows
    ]
    # Each row's exact total; a row the change did not reach has the total it had.
    sums = previous.row_sums if previous is not None else {}
    row_sums = {
        row: sums[row]
        if row in sums and (row[1] if row[0] == "kept" else row[1][0]) not in reached
        else sum(vector, ZERO)
        for row, vector in zip(rows, vectors, strict=True)
    }
    row_totals = _apportion(list(row_sums.values()), total)
    kept: dict[Node, list[int]] = {}
    unallocated: dict[tuple[Node, str], list[int]] = {}
    for (what, key), vector, row_total in zip(rows, vectors, row_totals, strict=True):
        cells = None
        if previous is not None and (key if what == "kept" else key[0]) not in reached:
            if what == "kept":
                figures = previous.services.get(key)
                before = figures["kept"] if figures is not None else None
            else:
                before = previous.unallocated.get(key)
            if before is not None and sum(before) == row_total:
                cells = before
        if cells is None:
            cells = _apportion(vector, row_total)
        if what == "kept":
            kept[key] = cells
        else:
            unallocated[key] = cells

    services: dict[Node, dict[str, list[int]]] = {}
    touched = {
        node
        for node in (*allocation.gross, *allocation.direct, *allocation.received)
        if node[0] == SERVICE
    }
    for node in sorted(touched):
        # A service's own unallocated row: a closed cycle, or driven edges without quantities.
        own_unallocated = unallocated.get(
            (node, UnallocatedReason.CLOSED_CYCLE.value)
        ) or unallocated.get((node, UnallocatedReason.NO_QUANTITIES.value))
        if previous is not None and node not in reached and node in previous.services:
            figures = previous.services[node]
            if figures["kept"] == kept.get(node, [0] * NCELLS) and figures["unallocated"] == (
                own_unallocated or [0] * NCELLS
            ):
                services[node] = figures
                continue
        figures = {name: [0] * NCELLS for name in FIGURES}
        passed = allocation.passed_on.get(node)
        roads = allocation.received.get(node, {})
        direct = allocation.direct.get(node)
        passed_cells = (
            _apportion(passed, round_half_even_cents(sum(passed, ZERO))) if passed else None
        )
        for cell in range(NCELLS):
            kept_cents = kept[node][cell] if node in kept else 0
            passed_cents = passed_cells[cell] if passed_cells else 0
            unallocated_cents = own_unallocated[cell] if own_unallocated else 0
            tco = kept_cents + passed_cents + unallocated_cents
            figures["passed_on"][cell] = passed_cents
            figures["kept"][cell] = kept_cents
            figures["unallocated"][cell] = unallocated_cents
            figures["tco"][cell] = tco
            if not tco:
                continue
            parts = [direct[cell] if direct else ZERO] + [
                roads[kind][cell] if kind in roads else ZERO for kind in ROAD_FIGURE
            ]
            present = [index for index, value in enumerate(parts) if value]
            if len(present) == 1:
                split = [0] * len(parts)
                split[present[0]] = tco
            else:
                split = _apportion(parts, tco)
            figures["direct"][cell] = split[0]
            for offset, kind in enumerate(ROAD_FIGURE, start=1):
                figures[ROAD_FIGURE[kind]][cell] = split[offset]
        services[node] = figures
    flows = {
        edge: previous.flows[edge]
        if previous is not None and edge[0] not in reached and edge in previous.flows
        else round_half_even_cents(amount)
        for edge, amount in allocation.flows.items()
    }
    return Rounded(total, services, unallocated, flows, row_sums)


# --- Lineage: where one service's figure came from, computed on demand ----------------------


def absorption(inputs: Inputs, target: Node) -> dict[Node, Decimal]:
    """For every node, how much of one unit of cost entering it ends up in ``target``'s
    fully-loaded TCO (1 for the target itself, more when a cycle brings part of it back).

    ``gross(target) = Σ_node factor(node) · direct(node)``, so a cost item's contribution
    to the target is its amount times the factor of the node it is recorded against.
    """
    graph = Graph.build(inputs)
    factor: dict[Node, Decimal] = {}
    with localcontext() as ctx:
        ctx.prec = PRECISION

        def downstream(node: Node, skip: set | None = None) -> Decimal:
            if not graph.passes_on(node):
                return ZERO
            total = ZERO
            for child, share, _, _ in graph.shares[node]:
                if skip and child in skip:
                    continue
                value = factor.get(child)
                if value:
                    total += share * value
            return total

        for component in reversed(graph.components):
            members = set(component)
            if len(component) == 1 or component[0] in graph.closed:
                for node in component:
                    own = Decimal(1) if node == target else ZERO
                    value = own + (ZERO if node in graph.closed else downstream(node))
                    if value:
                        factor[node] = value
                continue
            position = {node: i for i, node in enumerate(component)}
            inside: dict[tuple[int, int], Share] = {}
            for node in component:
                for share in graph.shares.get(node, ()):
                    if share.target in position:
                        inside[(position[node], position[share.target])] = share
            rhs = [
                [(Decimal(1) if node == target else ZERO) + downstream(node, members)]
                for node in component
            ]
            if not any(row[0] for row in rhs):
                continue
            solution = solve_component(
                component, lambda i, j, inside=inside: inside.get((i, j)), rhs
            )
            for node, (value,) in zip(component, solution, strict=True):
                if value > 0:
                    factor[node] = value
        for kind in (POOL, APPLICATION, CONTRACT):
            for node in sorted((n for n in inputs.nodes if n[0] == kind), reverse=True):
                value = (Decimal(1) if node == target else ZERO) + downstream(node)
                if value:
                    factor[node] = value
    return factor
