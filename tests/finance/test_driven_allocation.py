"""Driven edges in the allocation engine: shares follow the consumers' quantities of a driver,
hand-computed cases and properties on random graphs mixing driven and weighted sources."""

from decimal import Decimal
from decimal import localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance import tco
from finance.choices import UnallocatedReason
from tests.finance.test_tco_engine import APP
from tests.finance.test_tco_engine import POOL
from tests.finance.test_tco_engine import PROPERTY_SETTINGS
from tests.finance.test_tco_engine import SIGNED_AMOUNTS
from tests.finance.test_tco_engine import WEIGHTS
from tests.finance.test_tco_engine import A
from tests.finance.test_tco_engine import B
from tests.finance.test_tco_engine import C
from tests.finance.test_tco_engine import E
from tests.finance.test_tco_engine import cents
from tests.finance.test_tco_engine import cost
from tests.finance.test_tco_engine import cost_cents
from tests.finance.test_tco_engine import reference_gross

D = Decimal
SITES, TICKETS = 1, 2


@pytest.fixture(autouse=True)
def _engine_precision():
    """Sums in these tests carry the engine's precision, as in test_tco_engine."""
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        yield


def driven(nodes, costs, edges, quantities, retired=()) -> tco.Inputs:
    """``edges``: (source, target, driver); ``quantities``: {(driver, target): quantity}."""
    return tco.Inputs(
        nodes={node: node in retired for node in nodes},
        costs=costs,
        edges=[tco.Edge(source, target, D(1), driver) for source, target, driver in edges],
        quantities={key: D(value) for key, value in quantities.items()},
    )


def test_driven_pool_splits_by_the_consumers_quantities():
    data = driven(
        [A, B, C, POOL],
        {POOL: cost("1000")},
        [(POOL, A, SITES), (POOL, B, SITES), (POOL, C, SITES)],
        {(SITES, A): 1, (SITES, B): 3, (SITES, C): 4},
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert [cents(rounded, node) for node in (A, B, C)] == [12500, 37500, 50000]
    assert rounded.flows[(POOL, B)] == 37500


def test_driven_edge_without_a_quantity_carries_nothing():
    data = driven(
        [A, B, POOL],
        {POOL: cost("900")},
        [(POOL, A, SITES), (POOL, B, SITES)],
        {(SITES, A): 2},
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert cents(rounded, A) == 90000
    assert B not in rounded.services
    assert (POOL, B) not in rounded.flows


def test_driven_edges_without_any_quantity_leave_the_cost_unallocated_with_the_reason():
    data = driven(
        [A, B, POOL, APP],
        {POOL: cost("900"), APP: cost("100")},
        [(POOL, A, SITES), (POOL, B, SITES), (APP, A, TICKETS)],
        # Quantities of another driver, or of another month's consumer, do not count.
        {(TICKETS, B): 5, (SITES, C): 3},
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.unallocated == {
        (APP, UnallocatedReason.NO_QUANTITIES): cost_cents(10000),
        (POOL, UnallocatedReason.NO_QUANTITIES): cost_cents(90000),
    }
    assert rounded.input_total == rounded.unallocated_total == 100000


def test_driven_service_without_quantities_does_not_keep_its_cost():
    data = driven([A, B], {A: cost("300")}, [(A, B, SITES)], {(SITES, B): 0})
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.unallocated == {(A, UnallocatedReason.NO_QUANTITIES): cost_cents(30000)}
    figures = rounded.services[A]
    assert (sum(figures["tco"]), sum(figures["kept"]), sum(figures["unallocated"])) == (
        30000,
        0,
        30000,
    )


def test_driven_edges_to_retired_consumers_only_are_unallocated_as_retired_targets():
    data = driven(
        [A, B, POOL], {POOL: cost("50")}, [(POOL, A, SITES)], {(SITES, A): 4}, retired={A}
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert list(rounded.unallocated) == [(POOL, UnallocatedReason.RETIRED_TARGETS)]


def test_changing_one_consumers_quantity_moves_cost_only_among_that_drivers_consumers():
    nodes = [A, B, C, E, POOL, APP]
    costs = {POOL: cost("1000"), APP: cost("700")}
    edges = [(POOL, A, SITES), (POOL, B, SITES), (APP, C, TICKETS), (APP, E, TICKETS)]
    before = {(SITES, A): 2, (SITES, B): 2, (TICKETS, C): 1, (TICKETS, E): 6}
    after = {**before, (SITES, A): 3}
    first = tco.round_allocation(tco.allocate(driven(nodes, costs, edges, before)))
    second = tco.round_allocation(tco.allocate(driven(nodes, costs, edges, after)))
    assert [cents(first, node) for node in (A, B)] == [50000, 50000]
    assert [cents(second, node) for node in (A, B)] == [60000, 40000]
    for node in (C, E):
        assert second.services[node] == first.services[node]
    assert second.input_total == first.input_total == second.kept_total


def test_driven_service_cycle_is_solved_exactly():
    # A and B serve each other in proportion to sites; C consumes both.
    data = driven(
        [A, B, C],
        {A: cost("100"), B: cost("100")},
        [(A, B, SITES), (A, C, SITES), (B, A, SITES), (B, C, SITES)],
        {(SITES, A): 1, (SITES, B): 1, (SITES, C): 1},
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert cents(rounded, C) == 20000
    allocation = tco.allocate(data)
    # gross(A) = 100 + gross(B)/2 and gross(B) = 100 + gross(A)/2: both 200.
    assert abs(Fraction(sum(allocation.gross[A])) - 200) < Fraction(1, 10**40)


def test_inputs_refuse_mixing_weights_and_drivers_on_one_source_and_negative_quantities():
    mixed = tco.Inputs(
        nodes={A: False, B: False, POOL: False},
        costs={},
        edges=[tco.Edge(POOL, A, D(1), SITES), tco.Edge(POOL, B, D(1))],
    )
    with pytest.raises(ValueError, match="mix weights and drivers"):
        tco.allocate(mixed)
    two_drivers = tco.Inputs(
        nodes={A: False, B: False, POOL: False},
        costs={},
        edges=[tco.Edge(POOL, A, D(1), SITES), tco.Edge(POOL, B, D(1), TICKETS)],
    )
    with pytest.raises(ValueError, match="mix weights and drivers"):
        tco.allocate(two_drivers)
    negative = driven([A, POOL], {}, [(POOL, A, SITES)], {(SITES, A): -1})
    with pytest.raises(ValueError, match="negative driver quantity"):
        tco.allocate(negative)


# --- Properties: driven and weighted sources mixed, cycles included ---------------------------

QUANTITIES = st.sampled_from(["0", "1", "2", "2.5", "13", "1000.25"])


@st.composite
def mixed_graphs(draw, amounts=SIGNED_AMOUNTS):
    services = [(tco.SERVICE, i) for i in range(draw(st.integers(1, 8)))]
    applications = [(tco.APPLICATION, i) for i in range(draw(st.integers(0, 3)))]
    contracts = [(tco.CONTRACT, i) for i in range(draw(st.integers(0, 2)))]
    pools = [(tco.POOL, i) for i in range(draw(st.integers(0, 3)))]
    nodes = services + applications + contracts + pools
    retired = {node for node in services + applications if draw(st.integers(0, 9)) == 0}
    possible = (
        [(a, s) for a in applications for s in services]
        + [(c, t) for c in contracts for t in services + applications]
        + [(p, s) for p in pools for s in services]
        + [(s, t) for s in services for t in services if s != t]
    )
    chosen = draw(st.lists(st.sampled_from(possible), unique=True, max_size=30)) if possible else []
    # Each source other than a contract is weighted or driven by one of two drivers.
    driver_of = {
        source: (None if source[0] == tco.CONTRACT else draw(st.sampled_from([None, 1, 2])))
        for source in nodes
    }
    edges = [
        tco.Edge(source, target, D(draw(WEIGHTS)), driver_of[source]) for source, target in chosen
    ]
    quantities = {}
    for driver in (1, 2):
        for consumer in services + applications:
            if draw(st.booleans()):  # some consumers have no quantity at all
                quantities[(driver, consumer)] = D(draw(QUANTITIES))
    costs = {}
    for node in draw(st.lists(st.sampled_from(nodes), unique=True, max_size=len(nodes))):
        vector = tco.zeros()
        for cell in draw(st.lists(st.integers(0, tco.NCELLS - 1), min_size=1, max_size=3)):
            vector[cell] += D(draw(amounts)) / 100 * D(draw(st.sampled_from(["1", "0.87"])))
        costs[node] = vector
    return tco.Inputs(
        nodes={n: n in retired for n in nodes}, costs=costs, edges=edges, quantities=quantities
    )


@PROPERTY_SETTINGS
@given(mixed_graphs())
def test_property_driven_and_weighted_input_equals_kept_plus_unallocated_to_the_cent(data):
    rounded = tco.round_allocation(tco.allocate(data))
    exact_input = sum((sum(v) for v in data.costs.values()), D(0))
    assert rounded.input_total == tco.round_half_even_cents(exact_input)
    assert rounded.input_total == rounded.kept_total + rounded.unallocated_total
    for figures in rounded.services.values():
        for cell in range(tco.NCELLS):
            assert figures["tco"][cell] == (
                figures["kept"][cell] + figures["passed_on"][cell] + figures["unallocated"][cell]
            )


@PROPERTY_SETTINGS
@given(mixed_graphs())
def test_property_driven_engine_matches_the_whole_system_solved_exactly(data):
    allocation = tco.allocate(data)
    expected = reference_gross(data)
    for node in data.nodes:
        got = sum(allocation.gross.get(node, tco.zeros()))
        assert abs(Fraction(got) - expected[node]) < Fraction(1, 10**30)


@PROPERTY_SETTINGS
@given(mixed_graphs())
def test_property_driven_shares_are_quantity_over_the_sources_live_quantities(data):
    graph = tco.Graph.build(data)
    for source, shares in graph.shares.items():
        driver = next(e.driver for e in data.edges if e.source == source)
        if driver is None:
            continue
        total = sum((data.quantities.get((driver, s.target), D(0)) for s in shares), D(0))
        for share in shares:
            assert share.exact == Fraction(data.quantities[(driver, share.target)]) / Fraction(
                total
            )
    for source, reason in graph.dead_end_reason.items():
        if reason == UnallocatedReason.NO_QUANTITIES:
            live = [e for e in data.edges if e.source == source and not data.nodes[e.target]]
            assert live and all(data.carried(e) == 0 for e in live)
