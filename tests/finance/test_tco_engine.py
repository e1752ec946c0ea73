"""The allocation engine on its own: hand-computed cases and properties on random graphs."""

from decimal import Decimal
from decimal import localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from finance import tco
from finance.choices import UnallocatedReason

D = Decimal
A, B, C, E = (tco.SERVICE, 1), (tco.SERVICE, 2), (tco.SERVICE, 3), (tco.SERVICE, 4)
APP, APP2 = (tco.APPLICATION, 10), (tco.APPLICATION, 11)
CONTRACT, POOL = (tco.CONTRACT, 20), (tco.POOL, 30)
DEV_OPEX = tco.CELL_INDEX[("development", "opex")]
INFRA_CAPEX = tco.CELL_INDEX[("infrastructure", "capex")]
VENDOR_OPEX = tco.CELL_INDEX[("vendor", "opex")]


def cost(amount, cell=DEV_OPEX) -> list[Decimal]:
    vector = tco.zeros()
    vector[cell] = D(amount)
    return vector


def inputs(nodes, costs, edges, retired=()) -> tco.Inputs:
    return tco.Inputs(
        nodes={node: node in retired for node in nodes},
        costs=costs,
        edges=[tco.Edge(source, target, D(weight)) for source, target, weight in edges],
    )


@pytest.fixture(autouse=True)
def _engine_precision():
    """Sums in these tests carry the engine's precision, not Python's default 28 digits."""
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        yield


def close(value: Decimal, exact: Fraction) -> bool:
    """Equal to the engine's precision (60 significant digits)."""
    return abs(Fraction(value) - exact) < Fraction(1, 10**40)


def cents(rounded, node, figure="kept") -> int:
    return sum(rounded.services[node][figure])


# --- Hand-computed cases -----------------------------------------------------------------


def test_allocation_application_splits_by_weight():
    data = inputs([A, B, APP], {APP: cost("1200")}, [(APP, A, 1), (APP, B, 2)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert cents(rounded, A) == 40000
    assert cents(rounded, B) == 80000
    assert cents(rounded, B, "received_applications") == 80000
    assert rounded.unallocated == {}


def test_allocation_two_service_cycle_is_solved_exactly():
    """A and B support each other; each also serves an outside consumer.

    T_A = 100 + T_B/2 and T_B = 50 + T_A/2, so T_A = 166 2/3 and T_B = 133 1/3.
    C gets T_A/2 = 83 1/3, E gets T_B/2 = 66 2/3: 83.33 and 66.67 to the cent.
    """
    data = inputs(
        [A, B, C, E],
        {A: cost("100"), B: cost("50")},
        [(A, B, 1), (A, C, 1), (B, A, 1), (B, E, 1)],
    )
    allocation = tco.allocate(data)
    assert close(allocation.gross[A][DEV_OPEX], Fraction(500, 3))
    assert close(allocation.gross[B][DEV_OPEX], Fraction(400, 3))
    rounded = tco.round_allocation(allocation)
    assert cents(rounded, C) == 8333
    assert cents(rounded, E) == 6667
    assert cents(rounded, A, "tco") == 16667
    assert cents(rounded, A, "passed_on") == 16667
    assert cents(rounded, A, "kept") == 0
    assert cents(rounded, A, "direct") + cents(rounded, A, "received_services") == 16667
    assert rounded.input_total == rounded.kept_total == 15000


def test_allocation_cycle_does_not_depend_on_order_of_the_edges():
    edges = [(A, B, 1), (A, C, 3), (B, A, 2), (B, E, 1), (E, C, 1)]
    first = tco.round_allocation(
        tco.allocate(inputs([A, B, C, E], {A: cost("10"), B: cost("7")}, edges))
    )
    second = tco.round_allocation(
        tco.allocate(inputs([E, C, B, A], {B: cost("7"), A: cost("10")}, edges[::-1]))
    )
    assert first == second


def test_allocation_application_without_service_is_unallocated():
    data = inputs([A, APP, APP2], {APP: cost("500"), APP2: cost("80")}, [(APP2, A, 1)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.unallocated == {(APP, UnallocatedReason.NO_TARGET): cost_cents(50000)}
    assert cents(rounded, A) == 8000
    assert rounded.input_total == 58000


def cost_cents(amount, cell=DEV_OPEX) -> list[int]:
    cells = [0] * tco.NCELLS
    cells[cell] = amount
    return cells


def test_allocation_only_retired_targets_leave_cost_unallocated():
    data = inputs(
        [A, B, APP, POOL, CONTRACT],
        {APP: cost("10"), POOL: cost("20"), CONTRACT: cost("30", VENDOR_OPEX)},
        [(APP, A, 1), (POOL, A, 0), (POOL, B, 1), (CONTRACT, A, 2)],
        retired=[A],
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert set(rounded.unallocated) == {
        (APP, UnallocatedReason.RETIRED_TARGETS),
        (CONTRACT, UnallocatedReason.RETIRED_TARGETS),
    }
    assert cents(rounded, B) == 2000  # the pool's weight-zero edge to A carries nothing


def test_allocation_zero_weights_leave_cost_unallocated():
    data = inputs([A, POOL], {POOL: cost("20")}, [(POOL, A, 0)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert set(rounded.unallocated) == {(POOL, UnallocatedReason.ZERO_WEIGHT)}


def test_allocation_service_without_consumer_keeps_its_cost():
    data = inputs([A, B], {A: cost("12.34"), B: cost("1")}, [(B, A, 1)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert cents(rounded, A) == 1334
    assert cents(rounded, A, "direct") == 1234
    assert cents(rounded, A, "received_services") == 100
    assert cents(rounded, B) == 0
    assert cents(rounded, B, "passed_on") == 100


def test_allocation_cycle_with_no_way_out_is_unallocated():
    data = inputs([A, B, C], {A: cost("10"), C: cost("5")}, [(A, B, 1), (B, A, 1), (C, A, 1)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.unallocated[(A, UnallocatedReason.CLOSED_CYCLE)] == cost_cents(1500)
    assert rounded.kept_total == 0
    assert cents(rounded, A, "tco") == 1500
    assert cents(rounded, A, "unallocated") == 1500


def test_allocation_keeps_category_and_capex_split():
    app_cost = cost("100")
    app_cost[INFRA_CAPEX] = D("40")
    data = inputs(
        [A, B, APP, CONTRACT],
        {APP: app_cost, CONTRACT: cost("8", VENDOR_OPEX)},
        [(APP, A, 1), (APP, B, 3), (CONTRACT, APP, 1)],
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.services[A]["kept"][DEV_OPEX] == 2500
    assert rounded.services[A]["kept"][INFRA_CAPEX] == 1000
    assert rounded.services[A]["kept"][VENDOR_OPEX] == 200
    assert rounded.services[B]["kept"][INFRA_CAPEX] == 3000
    assert rounded.services[B]["received_applications"][VENDOR_OPEX] == 600


def test_allocation_pool_and_contract_roads_are_told_apart():
    data = inputs(
        [A, POOL, CONTRACT],
        {POOL: cost("3"), CONTRACT: cost("4", VENDOR_OPEX), A: cost("5")},
        [(POOL, A, 1), (CONTRACT, A, 1)],
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert cents(rounded, A, "received_pools") == 300
    assert cents(rounded, A, "received_contracts") == 400
    assert cents(rounded, A, "direct") == 500
    assert cents(rounded, A, "tco") == 1200


def test_rounding_largest_remainder_gives_the_lost_cent_to_the_earliest_tie():
    data = inputs([A, B, C, APP], {APP: cost("100")}, [(APP, A, 1), (APP, B, 1), (APP, C, 1)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert [cents(rounded, node) for node in (A, B, C)] == [3334, 3333, 3333]


def test_apportion_matches_the_total_and_refuses_nothing_to_share():
    assert tco.apportion([D("0.333"), D("0.333"), D("0.334")], 100) == [33, 33, 34]
    assert tco.apportion([D("0.005"), D("0.005")], 1) == [1, 0]
    assert tco.apportion([], 0) == []
    with pytest.raises(ValueError):
        tco.apportion([], 1)


def test_inputs_take_negative_cost_and_refuse_negative_weights_and_unknown_edges():
    rounded = tco.round_allocation(tco.allocate(inputs([A], {A: cost("-1")}, [])))
    assert cents(rounded, A) == -100 and rounded.input_total == -100
    with pytest.raises(ValueError, match="negative weight"):
        tco.allocate(inputs([A, APP], {}, [(APP, A, -1)]))
    with pytest.raises(ValueError, match="No cost flows"):
        tco.allocate(inputs([A, APP], {}, [(A, APP, 1)]))


# --- Credits: negative cost ------------------------------------------------------------------


def test_credit_split_three_ways_rounds_towards_zero_by_largest_remainder():
    """−100.00 in thirds: each −33.333…, floored to −33.34 with a remainder of 0.666…; the two
    cents left over go to the first two (ties: the earlier): −33.33, −33.33, −33.34."""
    data = inputs([A, B, C, APP], {APP: cost("-100")}, [(APP, A, 1), (APP, B, 1), (APP, C, 1)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert [cents(rounded, node) for node in (A, B, C)] == [-3333, -3333, -3334]
    assert rounded.input_total == rounded.kept_total == -10000


def test_credit_lowers_what_flows_downstream_and_conservation_holds_with_mixed_signs():
    """The application costs 100.00 and gets a 40.00 credit: 60.00 flows to A and B by 1:2.
    A also has its own 30.00 credit on infrastructure: A keeps development 20.00 and
    infrastructure −30.00, a negative total of −10.00; B keeps 40.00."""
    data = inputs(
        [A, B, APP],
        {
            APP: [a + b for a, b in zip(cost("100"), cost("-40"), strict=True)],
            A: cost("-30", cell=tco.CELL_INDEX[("infrastructure", "opex")]),
        },
        [(APP, A, 1), (APP, B, 2)],
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.services[A]["kept"][DEV_OPEX] == 2000
    assert rounded.services[A]["kept"][tco.CELL_INDEX[("infrastructure", "opex")]] == -3000
    assert cents(rounded, A) == -1000 and cents(rounded, B) == 4000
    assert rounded.input_total == 3000 == rounded.kept_total + rounded.unallocated_total


def test_a_cell_with_a_negative_total_beside_positive_cells_adds_up():
    """A service receiving a third of three cells: +10.00, −20.00 and +0.01. The kept row is
    −3.33 (−9.99 / 3 rounded); its cells come within a cent of their exact thirds and add up
    to the row."""
    vector = tco.zeros()
    vector[DEV_OPEX] = D("10")
    vector[INFRA_CAPEX] = D("-20")
    vector[VENDOR_OPEX] = D("0.01")
    data = inputs([A, B, C, APP], {APP: vector}, [(APP, A, 1), (APP, B, 1), (APP, C, 1)])
    rounded = tco.round_allocation(tco.allocate(data))
    assert [cents(rounded, node) for node in (A, B, C)] == [-333, -333, -333]
    for node in (A, B, C):
        kept = rounded.services[node]["kept"]
        assert kept[INFRA_CAPEX] in (-666, -667) and kept[DEV_OPEX] in (333, 334)
        assert sum(kept) == -333
    assert rounded.input_total == -999 == rounded.kept_total


def test_credit_and_cost_through_a_cycle_and_an_unallocated_credit():
    """A and B support each other and serve C and E; A carries 100.00 and B a 50.00 credit:
    T_A = 100 + T_B/2 and T_B = −50 + T_A/2, so T_A = 100 and T_B = 0; C gets 50.00 and E 0.
    An idle application holds a 25.00 credit: unallocated, negative."""
    data = inputs(
        [A, B, C, E, APP],
        {A: cost("100"), B: cost("-50"), APP: cost("-25")},
        [(A, B, 1), (A, C, 1), (B, A, 1), (B, E, 1)],
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert cents(rounded, C) == 5000
    assert E not in rounded.services or cents(rounded, E) == 0
    assert rounded.unallocated == {(APP, UnallocatedReason.NO_TARGET.value): cost("-2500")}
    assert rounded.input_total == 2500 == rounded.kept_total + rounded.unallocated_total


def test_a_reversal_cancels_its_item_to_the_cent():
    data = inputs(
        [A, B, C, APP],
        {APP: [a + b for a, b in zip(cost("100"), cost("-100"), strict=True)]},
        [(APP, A, 1), (APP, B, 1), (APP, C, 1)],
    )
    rounded = tco.round_allocation(tco.allocate(data))
    assert rounded.input_total == 0 and rounded.kept_total == 0


def test_apportion_of_signed_values_stays_within_a_cent_and_keeps_signs():
    assert tco.apportion([D("-0.333"), D("-0.333"), D("-0.334")], -100) == [-33, -33, -34]
    assert tco.apportion([D("10.005"), D("-10.005"), D("0.004")], 0) == [1001, -1001, 0]
    # Fewer cents than the floors: one is taken back, not from a positive value below a cent.
    assert tco.apportion([D("0.004"), D("0.5"), D("0.5")], 99) == [0, 49, 50]
    assert tco.apportion([D("0.004"), D("-0.5")], -51) == [0, -51]


def test_absorption_of_the_cycle_gives_each_source_its_share():
    """C receives half of A's gross, A's gross is 4/3 of what enters A plus 2/3 of what enters
    B: so C carries 2/3 of A's own cost and 1/3 of B's."""
    data = inputs(
        [A, B, C, E, APP],
        {A: cost("100"), B: cost("50"), APP: cost("30")},
        [(A, B, 1), (A, C, 1), (B, A, 1), (B, E, 1), (APP, B, 1)],
    )
    factor = tco.absorption(data, C)
    assert close(factor[A], Fraction(2, 3))
    assert close(factor[B], Fraction(1, 3))
    assert close(factor[APP], Fraction(1, 3))
    assert E not in factor
    allocation = tco.allocate(data)
    traced = sum(
        factor[node] * sum(vector) for node, vector in data.costs.items() if node in factor
    )
    assert close(traced, Fraction(sum(allocation.gross[C])))


def test_absorption_of_a_cycle_member_counts_its_own_cost_more_than_once():
    data = inputs([A, B, C], {A: cost("100")}, [(A, B, 1), (A, C, 1), (B, A, 1)])
    factor = tco.absorption(data, A)
    # T_A = 100 + T_B and T_B = T_A / 2: T_A = 200, twice what enters A.
    assert factor[A] == 2
    assert factor[B] == 2


# --- Properties on random graphs with cycles ----------------------------------------------

WEIGHTS = st.sampled_from(["0", "0.5", "1", "1", "2", "3.3333", "7"])
AMOUNTS = st.integers(min_value=0, max_value=10**9)  # cents
SIGNED_AMOUNTS = st.integers(min_value=-(10**9), max_value=10**9)  # cents: credits too


@st.composite
def graphs(draw, amounts=AMOUNTS):
    services = [(tco.SERVICE, i) for i in range(draw(st.integers(1, 8)))]
    applications = [(tco.APPLICATION, i) for i in range(draw(st.integers(0, 4)))]
    contracts = [(tco.CONTRACT, i) for i in range(draw(st.integers(0, 3)))]
    pools = [(tco.POOL, i) for i in range(draw(st.integers(0, 2)))]
    nodes = services + applications + contracts + pools
    retired = {node for node in services + applications if draw(st.integers(0, 9)) == 0}
    possible = (
        [(a, s) for a in applications for s in services]
        + [(c, t) for c in contracts for t in services + applications]
        + [(p, s) for p in pools for s in services]
        + [(s, t) for s in services for t in services if s != t]
    )
    chosen = draw(st.lists(st.sampled_from(possible), unique=True, max_size=30)) if possible else []
    edges = [tco.Edge(source, target, D(draw(WEIGHTS))) for source, target in chosen]
    costs = {}
    for node in draw(st.lists(st.sampled_from(nodes), unique=True, max_size=len(nodes))):
        vector = tco.zeros()
        for cell in draw(st.lists(st.integers(0, tco.NCELLS - 1), min_size=1, max_size=3)):
            vector[cell] += (
                D(draw(amounts)) / 100 * D(draw(st.sampled_from(["1", "0.87", "1.1713"])))
            )
        costs[node] = vector
    return tco.Inputs(nodes={n: n in retired for n in nodes}, costs=costs, edges=edges)


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(graphs())
def test_property_input_equals_kept_plus_unallocated_to_the_cent(data):
    rounded = tco.round_allocation(tco.allocate(data))
    exact_input = sum((sum(v) for v in data.costs.values()), D(0))
    assert rounded.input_total == tco.round_half_even_cents(exact_input)
    assert rounded.input_total == rounded.kept_total + rounded.unallocated_total


@PROPERTY_SETTINGS
@given(graphs())
def test_property_no_service_receives_negative_cost(data):
    allocation = tco.allocate(data)
    for table in (allocation.kept, allocation.gross, allocation.passed_on):
        for vector in table.values():
            assert all(value >= 0 for value in vector)
    rounded = tco.round_allocation(allocation)
    for figures in rounded.services.values():
        for cells in figures.values():
            assert all(value >= 0 for value in cells)
    for cells in rounded.unallocated.values():
        assert all(value >= 0 for value in cells)


@PROPERTY_SETTINGS
@given(graphs())
def test_property_rerun_on_unchanged_data_gives_identical_results(data):
    first = tco.round_allocation(tco.allocate(data))
    shuffled = tco.Inputs(
        nodes=dict(reversed(list(data.nodes.items()))),
        costs=dict(reversed(list(data.costs.items()))),
        edges=list(reversed(data.edges)),
    )
    assert tco.round_allocation(tco.allocate(data)) == first
    assert tco.round_allocation(tco.allocate(shuffled)) == first


@PROPERTY_SETTINGS
@given(graphs())
def test_property_each_service_row_adds_up(data):
    rounded = tco.round_allocation(tco.allocate(data))
    for figures in rounded.services.values():
        for cell in range(tco.NCELLS):
            parts = figures["direct"][cell] + sum(
                figures[name][cell] for name in tco.ROAD_FIGURE.values()
            )
            assert parts == figures["tco"][cell]
            assert figures["tco"][cell] == (
                figures["kept"][cell] + figures["passed_on"][cell] + figures["unallocated"][cell]
            )


def reference_gross(data: tco.Inputs) -> dict:
    """An independent oracle: the whole graph as one system T = D + Pᵀ T over fractions,
    solved by Gauss–Jordan elimination on a dense matrix."""
    graph = tco.Graph.build(data)
    nodes = sorted(data.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    size = len(nodes)
    matrix = [[Fraction(int(i == j)) for j in range(size)] for i in range(size)]
    for source in nodes:
        if not graph.passes_on(source):
            continue
        for share in graph.shares[source]:
            matrix[index[share.target]][index[source]] -= share.exact
    rhs = [Fraction(sum(data.costs.get(node, tco.zeros()))) for node in nodes]
    augmented = [[*row, value] for row, value in zip(matrix, rhs, strict=True)]
    for col in range(size):
        pivot = next(r for r in range(col, size) if augmented[r][col] != 0)
        augmented[col], augmented[pivot] = augmented[pivot], augmented[col]
        for r in range(size):
            if r != col and augmented[r][col] != 0:
                factor = augmented[r][col] / augmented[col][col]
                augmented[r] = [
                    a - factor * b for a, b in zip(augmented[r], augmented[col], strict=True)
                ]
    return {
        node: augmented[index[node]][size] / augmented[index[node]][index[node]] for node in nodes
    }


@PROPERTY_SETTINGS
@given(graphs())
def test_property_engine_matches_the_whole_system_solved_exactly(data):
    allocation = tco.allocate(data)
    expected = reference_gross(data)
    for node in data.nodes:
        got = sum(allocation.gross.get(node, tco.zeros()))
        assert abs(Fraction(got) - expected[node]) < Fraction(1, 10**30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.data())
def test_property_lineage_traces_every_cent_of_a_service(data, draw):
    services = sorted(node for node in data.nodes if node[0] == tco.SERVICE)
    target = draw.draw(st.sampled_from(services))
    allocation = tco.allocate(data)
    factor = tco.absorption(data, target)
    traced = sum(
        (factor.get(node, D(0)) * sum(vector) for node, vector in data.costs.items()), D(0)
    )
    assert abs(traced - sum(allocation.gross.get(target, tco.zeros()))) < D("1e-30")


# --- Properties with credits: random signed amounts ------------------------------------------


@PROPERTY_SETTINGS
@given(graphs(amounts=SIGNED_AMOUNTS))
def test_property_signed_input_equals_kept_plus_unallocated_to_the_cent(data):
    """With costs and credits of any sign, in any cell, the input total is still kept plus
    unallocated to the cent, every row adds up cell by cell, and every kept or unallocated
    row is within a cent of its exact value."""
    allocation = tco.allocate(data)
    rounded = tco.round_allocation(allocation)
    exact_input = sum((sum(v) for v in data.costs.values()), D(0))
    assert rounded.input_total == tco.round_half_even_cents(exact_input)
    assert rounded.input_total == rounded.kept_total + rounded.unallocated_total
    for node, figures in rounded.services.items():
        for cell in range(tco.NCELLS):
            parts = figures["direct"][cell] + sum(
                figures[name][cell] for name in tco.ROAD_FIGURE.values()
            )
            assert parts == figures["tco"][cell]
            assert figures["tco"][cell] == (
                figures["kept"][cell] + figures["passed_on"][cell] + figures["unallocated"][cell]
            )
        if node in allocation.kept:
            assert abs(sum(figures["kept"]) - sum(allocation.kept[node]) * 100) < 1
    for key, cells in rounded.unallocated.items():
        assert abs(sum(cells) - sum(allocation.unallocated[key]) * 100) < 1


@PROPERTY_SETTINGS
@given(graphs(amounts=SIGNED_AMOUNTS))
def test_property_signed_engine_matches_the_whole_system_solved_exactly(data):
    allocation = tco.allocate(data)
    expected = reference_gross(data)
    for node in data.nodes:
        got = sum(allocation.gross.get(node, tco.zeros()))
        assert abs(Fraction(got) - expected[node]) < Fraction(1, 10**30)


@PROPERTY_SETTINGS
@given(
    st.lists(SIGNED_AMOUNTS.map(lambda c: D(c) / 1000), min_size=1, max_size=12),
    st.integers(-1, 1),
)
def test_property_apportion_of_signed_values_sums_to_the_cent(values, offset):
    """Signed values (to a tenth of a cent) apportioned to their rounded sum, or a cent either
    side of it: the cents add up to the total, zeros stay zero, and with the rounded sum
    every value ends within a cent of itself."""
    rounded_sum = tco.round_half_even_cents(sum(values, D(0)))
    total = rounded_sum + (offset if any(values) else 0)
    shares = tco.apportion(values, total)
    assert sum(shares) == total
    assert all(share == 0 for share, value in zip(shares, values, strict=True) if not value)
    if total == rounded_sum and sum(1 for v in values if v) > 1:
        pairs = zip(shares, values, strict=True)
        assert all(abs(share - value * 100) < 1 for share, value in pairs)
