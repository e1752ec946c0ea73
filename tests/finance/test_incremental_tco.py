"""The incremental roll-up in the engine: after random edits of random graphs (cycles, driven
edges, retired nodes, credits), recomputing only what the edits reach gives the full
allocation to the last digit, and its rounding the full rounding to the cent."""

from decimal import Decimal
from decimal import localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance import tco
from tests.finance.test_driven_allocation import QUANTITIES
from tests.finance.test_driven_allocation import mixed_graphs
from tests.finance.test_tco_engine import PROPERTY_SETTINGS
from tests.finance.test_tco_engine import WEIGHTS

D = Decimal
A, B, C = (tco.SERVICE, 1), (tco.SERVICE, 2), (tco.SERVICE, 3)
APP, POOL = (tco.APPLICATION, 10), (tco.POOL, 30)
DEV_OPEX = tco.CELL_INDEX[("development", "opex")]


@pytest.fixture(autouse=True)
def _engine_precision():
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        yield


def cost(amount) -> list[Decimal]:
    vector = tco.zeros()
    vector[DEV_OPEX] = D(amount)
    return vector


def copy(inputs: tco.Inputs) -> tco.Inputs:
    return tco.Inputs(
        nodes=dict(inputs.nodes),
        costs={node: list(vector) for node, vector in inputs.costs.items()},
        edges=list(inputs.edges),
        quantities=dict(inputs.quantities),
    )


@st.composite
def edited(draw, inputs: tco.Inputs) -> tco.Inputs:
    """``inputs`` after one to three random edits of any kind the ledger and the portfolio
    make: a cost booked, changed, reversed or removed, an edge added, removed or reweighted,
    a service or an application retired or restored, a driver quantity changed."""
    after = copy(inputs)
    nodes = sorted(after.nodes)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cost", "cost", "cost", "weight", "edge", "retire", "qty"]))
        if kind == "cost":
            node = draw(st.sampled_from(nodes))
            if node in after.costs and draw(st.booleans()):
                del after.costs[node]
            else:
                vector = list(after.costs.get(node) or tco.zeros())
                cell = draw(st.integers(0, tco.NCELLS - 1))
                vector[cell] += D(draw(st.integers(-(10**9), 10**9))) / 100
                after.costs[node] = vector
        elif kind == "weight" and after.edges:
            index = draw(st.integers(0, len(after.edges) - 1))
            after.edges[index] = after.edges[index]._replace(weight=D(draw(WEIGHTS)))
        elif kind == "edge":
            present = {(edge.source, edge.target) for edge in after.edges}
            absent = [
                (source, target)
                for source in nodes
                for target in nodes
                if (source[0], target[0]) in tco.ALLOWED_EDGES
                and source != target
                and (source, target) not in present
            ]
            if after.edges and (not absent or draw(st.booleans())):
                del after.edges[draw(st.integers(0, len(after.edges) - 1))]
            elif absent:
                source, target = draw(st.sampled_from(absent))
                # No mixing: the source's other edges say whether it is driven, and by what.
                drivers = {edge.driver for edge in after.edges if edge.source == source}
                if drivers:
                    (driver,) = drivers
                elif source[0] == tco.CONTRACT:
                    driver = None
                else:
                    driver = draw(st.sampled_from([None, 1, 2]))
                after.edges.append(tco.Edge(source, target, D(draw(WEIGHTS)), driver))
        elif kind == "retire":
            candidates = [n for n in nodes if n[0] in (tco.SERVICE, tco.APPLICATION)]
            node = draw(st.sampled_from(candidates))
            after.nodes[node] = not after.nodes[node]
        elif kind == "qty":
            consumers = [n for n in nodes if n[0] in (tco.SERVICE, tco.APPLICATION)]
            key = (draw(st.sampled_from([1, 2])), draw(st.sampled_from(consumers)))
            if key in after.quantities and draw(st.booleans()):
                del after.quantities[key]
            else:
                after.quantities[key] = D(draw(QUANTITIES))
    return after


def assert_same_allocation(incremental: tco.Allocation, full: tco.Allocation) -> None:
    assert incremental.input_total == full.input_total
    for name in ("direct", "received", "gross", "passed_on", "kept", "unallocated", "flows"):
        assert getattr(incremental, name) == getattr(full, name), name
    assert incremental.components == full.components
    assert incremental.closed == full.closed


def assert_same_rounding(incremental: tco.Rounded, full: tco.Rounded) -> None:
    assert incremental.input_total == full.input_total
    assert incremental.services == full.services
    assert incremental.unallocated == full.unallocated
    assert incremental.flows == full.flows


def incremental_step(before, allocation, rounded, after):
    seeds = tco.changed_nodes(before, after)
    same = (before.nodes, before.edges, before.quantities) == (
        after.nodes,
        after.edges,
        after.quantities,
    )
    if same:  # a change of cost only: the graph is the previous one, as the roll-up keeps it
        allocation, reached = tco.reallocate(
            after, allocation, seeds, graph=tco.Graph.build(before)
        )
    else:
        allocation, reached = tco.reallocate(
            after, allocation, seeds, previous_graph=tco.Graph.build(before)
        )
    assert seeds <= reached
    return allocation, tco.round_allocation(allocation, reuse=(rounded, reached))


@PROPERTY_SETTINGS
@given(st.data())
def test_property_incremental_equals_full_roll_up_after_random_edits(data):
    inputs = data.draw(mixed_graphs())
    allocation = tco.allocate(inputs)
    rounded = tco.round_allocation(allocation)
    # A chain of edits, each computed from the last incremental result (as the stored
    # results are): every step equals a full roll-up of its inputs.
    for _ in range(data.draw(st.integers(1, 3))):
        after = data.draw(edited(inputs))
        allocation, rounded = incremental_step(inputs, allocation, rounded, after)
        full = tco.allocate(after)
        assert_same_allocation(allocation, full)
        assert_same_rounding(rounded, tco.round_allocation(full))
        inputs = after


def test_a_cost_edit_reaches_only_its_downstream_closure():
    """The application's consumers and what they pass on to are recomputed; the pool's other
    service, upstream of nothing the edit touches, is not."""
    before = tco.Inputs(
        nodes={A: False, B: False, C: False, APP: False, POOL: False},
        costs={APP: cost("100"), POOL: cost("30"), C: cost("5")},
        edges=[
            tco.Edge(APP, A, D(1)),
            tco.Edge(A, B, D(1)),
            tco.Edge(B, A, D(1)),  # a cycle A ⇄ B with a way out to nothing: B keeps
            tco.Edge(POOL, C, D(1)),
        ],
    )
    after = copy(before)
    after.costs[APP] = cost("130")
    seeds = tco.changed_nodes(before, after)
    assert seeds == {APP}
    allocation, reached = tco.reallocate(after, tco.allocate(before), seeds)
    assert reached == {APP, A, B}
    assert_same_allocation(allocation, tco.allocate(after))


def test_a_removed_edge_recomputes_its_former_target():
    before = tco.Inputs(
        nodes={A: False, B: False, POOL: False},
        costs={POOL: cost("90")},
        edges=[tco.Edge(POOL, A, D(1)), tco.Edge(POOL, B, D(2))],
    )
    after = copy(before)
    after.edges = [tco.Edge(POOL, B, D(2))]
    allocation, reached = tco.reallocate(
        after, tco.allocate(before), tco.changed_nodes(before, after)
    )
    assert reached == {POOL, A, B}
    assert_same_allocation(allocation, tco.allocate(after))
    assert A not in allocation.kept and allocation.kept[B][DEV_OPEX] == D(90)


def test_a_cycle_larger_than_the_fraction_limit_is_recomputed_the_same_way():
    """A ring of services longer than FRACTION_LIMIT (solved over Decimals) with a way out,
    fed by a pool, beside a chain the edit does not reach."""
    size = tco.FRACTION_LIMIT + 5
    ring = [(tco.SERVICE, i) for i in range(size)]
    chain = [(tco.SERVICE, 1000 + i) for i in range(5)]
    outside = (tco.SERVICE, 999)
    edges = [tco.Edge(ring[i], ring[(i + 1) % size], D(i % 7 + 1)) for i in range(size)]
    edges += [tco.Edge(ring[i], outside, D(1)) for i in range(0, size, 9)]
    edges += [tco.Edge(POOL, ring[i], D(i % 3 + 1)) for i in range(0, size, 4)]
    edges += [tco.Edge(chain[i], chain[i + 1], D(3)) for i in range(4)]
    before = tco.Inputs(
        nodes=dict.fromkeys([*ring, *chain, outside, POOL], False),
        costs={POOL: cost("1000.01"), ring[5]: cost("-3.33"), chain[0]: cost("77.7")},
        edges=edges,
    )
    after = copy(before)
    after.costs[POOL] = cost("1234.57")
    allocation, rounded = incremental_step(
        before, tco.allocate(before), tco.round_allocation(tco.allocate(before)), after
    )
    full = tco.allocate(after)
    assert_same_allocation(allocation, full)
    assert_same_rounding(rounded, tco.round_allocation(full))
    assert all(node not in tco.reallocate(after, tco.allocate(before), {POOL})[1] for node in chain)
