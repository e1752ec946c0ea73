"""finance.showback: the splits of kept cost among subscriptions and stage links (no database).

Worked cases by hand, then properties on random data: the sums hold to the cent, credits
(negative kept cost) are split sign-safely, and the result depends only on the data."""

import random
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from finance import showback
from finance.showback import StageLink
from finance.showback import Subscription


def test_split_gives_the_left_over_cents_to_the_largest_remainders_then_the_lower_key():
    assert showback.split(10000, [(3, D(1)), (1, D(1)), (2, D(1))]) == {1: 3334, 2: 3333, 3: 3333}
    assert showback.split(100, [(1, D(1)), (2, D(2))]) == {1: 33, 2: 67}


def test_split_of_a_credit_mirrors_the_split_of_the_same_cost():
    assert showback.split(-10000, [(1, D(1)), (2, D(1)), (3, D(1))]) == {
        1: -3334,
        2: -3333,
        3: -3333,
    }


def test_split_gives_a_zero_weight_nothing_and_refuses_all_zero_weights():
    assert showback.split(7, [(1, D(0)), (2, D("0.0001")), (3, D(0))]) == {1: 0, 2: 7, 3: 0}
    assert showback.split(0, [(1, D(0))]) == {1: 0}
    with pytest.raises(ValueError, match="all zero"):
        showback.split(1, [(1, D(0))])
    with pytest.raises(ValueError, match="negative"):
        showback.split(1, [(1, D(-1))])


def sub(pk, service, units="1", name="user", charge="0", customer=None):
    return Subscription(pk, customer or pk, service, D(units), name, D(charge))


def test_cost_to_serve_by_units_when_the_unit_name_is_shared():
    result = showback.cost_to_serve(
        kept={1: 1000},
        revenue={1: 300},
        subscriptions=[sub(1, 1, "1", charge="1"), sub(2, 1, "3", charge="2")],
    )
    assert result.basis == {1: showback.BY_UNITS}
    assert result.line_cost == {1: 250, 2: 750}
    assert result.line_revenue == {1: 100, 2: 200}
    assert result.not_charged == {1: 0}


def test_cost_to_serve_by_charge_across_unlike_units_else_equally():
    result = showback.cost_to_serve(
        kept={1: 1000, 2: 100, 3: 55},
        revenue={1: 400},
        subscriptions=[
            sub(1, 1, "10", "users", "100"),
            sub(2, 1, "1", "vehicles", "300"),
            sub(3, 2, "1", "a"),
            sub(4, 2, "1", "b"),
            sub(5, 2, "1", "c"),
        ],
    )
    assert result.basis == {1: showback.BY_CHARGE, 2: showback.EQUALLY}
    assert result.line_cost == {1: 250, 2: 750, 3: 34, 4: 33, 5: 33}
    assert result.not_charged == {1: 0, 2: 0, 3: 55}


def test_stream_cost_follows_the_weights_and_keeps_what_if_apart():
    links = [StageLink(1, 10, 100, 1, D(1)), StageLink(2, 11, 100, 1, D(3))]
    links.append(StageLink(3, 12, 101, 2, D(0)))
    future = [StageLink(4, 20, 200, 1, D(1))]
    result = showback.stream_cost(kept={1: 400, 2: 50, 3: 7}, links=links, what_if_links=future)
    assert result.stage_cost == {10: 100, 11: 300, 12: 0}
    assert result.stream_cost == {100: 400, 101: 0}
    assert result.in_no_value_stream == {1: 0, 2: 50, 3: 7}
    assert result.what_if_stage_cost == {20: 400}
    assert result.what_if_stream_cost == {200: 400}


# --- Properties -------------------------------------------------------------------------------

CENTS = st.integers(-(10**9), 10**9)
UNITS = st.sampled_from(["0", "1", "2.5", "3", "1000", "0.0001"]).map(D)
CHARGES = st.sampled_from(["0", "0", "12.5", "0.0833333333333333333333", "99.99", "1e-30"]).map(D)
WEIGHTS = st.sampled_from(["0", "1", "1", "0.5", "3", "0.0001", "12.3456"]).map(D)


@st.composite
def portfolios(draw):
    services = draw(st.integers(1, 6))
    kept = {service: draw(CENTS) for service in range(1, services + 1)}
    revenue = {service: draw(st.integers(0, 10**7)) for service in kept}
    subscriptions = []
    for pk in range(1, draw(st.integers(0, 12)) + 1):
        subscriptions.append(
            Subscription(
                pk,
                draw(st.integers(1, 4)),
                draw(st.integers(1, services)),
                draw(UNITS),
                draw(st.sampled_from(["user", "user", "vehicle", "policy"])),
                draw(CHARGES),
            )
        )
    links, what_if = [], []
    for pk in range(1, draw(st.integers(0, 12)) + 1):
        stream = draw(st.integers(1, 3))
        link = StageLink(
            pk, stream * 10 + draw(st.integers(0, 2)), stream, draw(st.integers(1, services)),
            draw(WEIGHTS),
        )  # fmt: skip
        # Stages belong to one stream, and a stage links a service once.
        if any(other.stage == link.stage and other.service == link.service for other in links):
            continue
        (what_if if draw(st.booleans()) else links).append(link)
    return kept, revenue, subscriptions, links, what_if


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(portfolios())
def test_property_cost_to_serve_and_not_charged_add_up_to_kept(data):
    kept, revenue, subscriptions, _, _ = data
    result = showback.cost_to_serve(kept=kept, revenue=revenue, subscriptions=subscriptions)
    assert sum(result.line_cost.values()) + sum(result.not_charged.values()) == sum(kept.values())
    served = {s.service for s in subscriptions}
    for service, cents in kept.items():
        mine = [result.line_cost[s.id] for s in subscriptions if s.service == service]
        assert sum(mine) + result.not_charged[service] == cents
        assert result.not_charged[service] == (0 if service in served else cents)
        # Sign-safe: no line takes the opposite sign of its service's kept cost.
        assert all(value * cents >= 0 for value in mine)
        revenue_lines = [result.line_revenue[s.id] for s in subscriptions if s.service == service]
        if revenue_lines:
            assert sum(revenue_lines) == revenue[service]


@PROPERTY_SETTINGS
@given(portfolios())
def test_property_stream_cost_and_no_value_stream_add_up_to_kept(data):
    kept, _, _, links, what_if = data
    result = showback.stream_cost(kept=kept, links=links, what_if_links=what_if)
    total = sum(kept.values())
    assert sum(result.stream_cost.values()) + sum(result.in_no_value_stream.values()) == total
    assert sum(result.stage_cost.values()) == sum(result.stream_cost.values())
    assert sum(result.what_if_stage_cost.values()) == sum(result.what_if_stream_cost.values())
    for stream in result.what_if_stream_cost:
        carried = {link.service for link in what_if if link.stream == stream and link.weight > 0}
        assert result.what_if_stream_cost[stream] == sum(kept[s] for s in carried)


@PROPERTY_SETTINGS
@given(portfolios(), st.randoms(use_true_random=False))
def test_property_the_result_depends_only_on_the_data_not_its_order(data, rng: random.Random):
    kept, revenue, subscriptions, links, what_if = data
    first = (
        showback.cost_to_serve(kept=kept, revenue=revenue, subscriptions=subscriptions),
        showback.stream_cost(kept=kept, links=links, what_if_links=what_if),
    )
    shuffled = [list(part) for part in (kept.items(), subscriptions, links, what_if)]
    for part in shuffled:
        rng.shuffle(part)
    again = (
        showback.cost_to_serve(kept=dict(shuffled[0]), revenue=revenue, subscriptions=shuffled[1]),
        showback.stream_cost(kept=dict(shuffled[0]), links=shuffled[2], what_if_links=shuffled[3]),
    )
    assert again == first


@PROPERTY_SETTINGS
@given(portfolios())
def test_property_a_credit_is_split_as_the_mirror_of_the_same_cost(data):
    kept, revenue, subscriptions, links, _ = data
    negated = {service: -cents for service, cents in kept.items()}
    plain = showback.cost_to_serve(kept=kept, revenue=revenue, subscriptions=subscriptions)
    mirror = showback.cost_to_serve(kept=negated, revenue=revenue, subscriptions=subscriptions)
    assert mirror.line_cost == {pk: -cents for pk, cents in plain.line_cost.items()}
    streams = showback.stream_cost(kept=kept, links=links)
    mirrored = showback.stream_cost(kept=negated, links=links)
    assert mirrored.stage_cost == {pk: -cents for pk, cents in streams.stage_cost.items()}
