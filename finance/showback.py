"""Showback: each service's kept cost shared among the customers who subscribe to it (cost to
serve) and among the stages of the value streams that rely on it (value-stream cost).

Pure Python over whole cents, no database; the roll-up (finance.services.rollup) feeds it the
rounded kept cost and revenue of every service, the subscriptions in force and the stage links,
and writes what it returns. The rules, also in docs/tco.md ("Cost to serve and value-stream
cost"), tested in tests/finance/test_showback.py:

* A service's kept cost is shared among its subscriptions in force: by units when they all
  have the same unit name (and some units), otherwise by their monthly charge (the month's
  revenue of each, in the reporting currency), and equally when those are all zero. A service
  with no subscription in force leaves its kept cost *not charged*.
* A service's kept cost is shared among the links to it from stages of current-state value
  streams in force, in proportion to the links' weights; links of weight zero carry nothing.
  A service with no such link of positive weight leaves its kept cost *in no value stream*.
  A stage's cost is the sum of its links' shares, a stream's the sum of its stages'.
* Each future state gets the same figure computed on its own links alone (as if it replaced
  its current state): a what-if, never added to the totals.
* Every split is rounded once, by largest remainder over whole cents, so that per period and
  version Σ cost to serve + Σ not charged = Σ kept = Σ current stream cost + Σ in no value
  stream, to the cent. It is sign-safe: a negative amount (a credit) is split as its absolute
  value and the sign restored. Ties go to the lower id, so the result depends only on the
  data, never on the order it comes in.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

ZERO = Decimal(0)

# How a service's kept cost was shared among its subscriptions.
BY_UNITS = "units"
BY_CHARGE = "charge"
EQUALLY = "equally"


@dataclass(frozen=True)
class Subscription:
    """A subscription in force in the period. ``charge`` is its revenue for the month in the
    reporting currency, exactly (zero when no rate converts its currency)."""

    id: int
    customer: int
    service: int
    units: Decimal
    unit_name: str
    charge: Decimal


@dataclass(frozen=True)
class StageLink:
    """A stage–service link of a value stream in force, with its weight."""

    id: int
    stage: int
    stream: int
    service: int
    weight: Decimal


@dataclass
class CostToServe:
    """Cents by subscription (cost to serve and revenue), and by service the kept cost charged
    to no customer and how each service's cost was shared."""

    line_cost: dict[int, int] = field(default_factory=dict)
    line_revenue: dict[int, int] = field(default_factory=dict)
    not_charged: dict[int, int] = field(default_factory=dict)
    basis: dict[int, str] = field(default_factory=dict)


@dataclass
class StreamCost:
    """Cents by stage and by stream of the current states, the kept cost in no value stream by
    service, and the what-if figures of the future states by stage and by stream."""

    stage_cost: dict[int, int] = field(default_factory=dict)
    stream_cost: dict[int, int] = field(default_factory=dict)
    in_no_value_stream: dict[int, int] = field(default_factory=dict)
    what_if_stage_cost: dict[int, int] = field(default_factory=dict)
    what_if_stream_cost: dict[int, int] = field(default_factory=dict)


def _as_integers(weights: Sequence[Decimal]) -> list[int]:
    """Exact integers in the same proportions as ``weights`` (finite, not negative)."""
    ratios = [weight.as_integer_ratio() for weight in weights]
    common = math.lcm(*(denominator for _, denominator in ratios)) if ratios else 1
    return [numerator * (common // denominator) for numerator, denominator in ratios]


def split(total: int, weights: Iterable[tuple[int, Decimal]]) -> dict[int, int]:
    """Share ``total`` cents among keys in proportion to their weights, in whole cents that add
    up to ``total`` exactly: each gets the floor of its exact share of the absolute value, the
    cents left over go one by one to the largest remainders (ties: the lower key), and the sign
    is restored. A key of weight zero gets nothing. Raises ValueError for a negative weight or,
    when there is something to share, for weights that are all zero."""
    items = sorted(weights)
    keys = [key for key, _ in items]
    if len(set(keys)) != len(keys):
        raise ValueError("A key appears twice among the weights.")
    if any(weight < 0 for _, weight in items):
        raise ValueError("A weight is negative.")
    integers = _as_integers([weight for _, weight in items])
    whole = sum(integers)
    if not whole:
        if total:
            raise ValueError(f"{total} cents to share among weights that are all zero.")
        return dict.fromkeys(keys, 0)
    magnitude = abs(total)
    shares = []
    remainders = []
    for value in integers:
        share, remainder = divmod(magnitude * value, whole)
        shares.append(share)
        remainders.append(remainder)
    left = magnitude - sum(shares)
    # Σ remainders = left × whole and each remainder < whole: at least ``left`` are positive,
    # so a zero weight (remainder 0) never gets a cent.
    for index in sorted(range(len(items)), key=lambda i: (-remainders[i], keys[i]))[:left]:
        shares[index] += 1
    sign = -1 if total < 0 else 1
    return {key: sign * share for key, share in zip(keys, shares, strict=True)}


def cost_to_serve(
    *,
    kept: Mapping[int, int],
    revenue: Mapping[int, int],
    subscriptions: Iterable[Subscription],
) -> CostToServe:
    """Share each service's kept cents (``kept``, by service) among its subscriptions in force,
    and its revenue cents (``revenue``, by service: the rounded sum of the charges) among them
    in proportion to their charges."""
    by_service: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_service[subscription.service].append(subscription)
    result = CostToServe()
    for service in sorted(set(kept) | set(by_service) | set(revenue)):
        cents = kept.get(service, 0)
        lines = by_service.get(service)
        if not lines:
            result.not_charged[service] = cents
            continue
        names = {line.unit_name for line in lines}
        charges = [(line.id, line.charge) for line in lines]
        if len(names) == 1 and sum(line.units for line in lines) > 0:
            basis, weights = BY_UNITS, [(line.id, line.units) for line in lines]
        elif sum(charge for _, charge in charges) > 0:
            basis, weights = BY_CHARGE, charges
        else:
            basis, weights = EQUALLY, [(line.id, Decimal(1)) for line in lines]
        result.basis[service] = basis
        result.line_cost.update(split(cents, weights))
        result.not_charged[service] = 0
        income = revenue.get(service, 0)
        if sum(charge for _, charge in charges) > 0:
            result.line_revenue.update(split(income, charges))
        else:
            result.line_revenue.update(split(income, [(line.id, Decimal(1)) for line in lines]))
    return result


def stream_cost(
    *,
    kept: Mapping[int, int],
    links: Iterable[StageLink],
    what_if_links: Iterable[StageLink] = (),
) -> StreamCost:
    """Share each service's kept cents among its ``links`` (those of current-state streams in
    force), and, for each future state alone, among that future state's ``what_if_links``."""
    result = StreamCost()

    def share(into_stage: dict, into_stream: dict, service_links, cents: int) -> bool:
        weights = [(link.id, link.weight) for link in service_links]
        if not sum(weight for _, weight in weights):
            return False
        shares = split(cents, weights)
        for link in service_links:
            into_stage[link.stage] = into_stage.get(link.stage, 0) + shares[link.id]
            into_stream[link.stream] = into_stream.get(link.stream, 0) + shares[link.id]
        return True

    current: dict[int, list[StageLink]] = defaultdict(list)
    for link in links:
        current[link.service].append(link)
        result.stage_cost.setdefault(link.stage, 0)
        result.stream_cost.setdefault(link.stream, 0)
    for service in sorted(kept):
        cents = kept[service]
        placed = share(result.stage_cost, result.stream_cost, current.get(service, []), cents)
        result.in_no_value_stream[service] = 0 if placed else cents

    future: dict[tuple[int, int], list[StageLink]] = defaultdict(list)
    for link in what_if_links:
        future[(link.stream, link.service)].append(link)
        result.what_if_stage_cost.setdefault(link.stage, 0)
        result.what_if_stream_cost.setdefault(link.stream, 0)
    for (_, service), service_links in sorted(future.items()):
        share(
            result.what_if_stage_cost,
            result.what_if_stream_cost,
            service_links,
            kept.get(service, 0),
        )
    return result
