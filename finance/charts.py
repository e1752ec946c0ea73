"""The flow chart (Sankey) of one period, laid out on the server and drawn as SVG: no
JavaScript and no chart library.

Columns, left to right: cost categories; contracts; applications, cost pools and cost
recorded on services; services that pass their cost on, by depth of dependency; services
that keep their cost (and what stayed unallocated). Each column shows its largest nodes;
the rest, and any too small to see beside them, are merged into one "other" node, so a
portfolio of thousands still draws.

Every node carries its label (its name, cut to the room between its column and the next, and
its amount) on its right. Each node has a slot at least as tall as its label and the slots of
a column never overlap, so neither do the labels; the labels of one column end before the
next column starts. A node links to the Fund services table filtered by it (``filter``, the
value of its ``node`` filter).
"""

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from core import textwidth
from core.money import format_amount
from finance import tco
from finance.choices import CostCategory

WIDTH = 1100
HEIGHT = 600
NODE_WIDTH = 12
GAP = 6
LABEL_ROOM = 150  # right of the last column, for its labels
LABEL_PAD = 4  # between a node and its label
LABEL_SIZE = 11  # the name; the amount beneath it is a size smaller
AMOUNT_SIZE = 10
LABEL_HEIGHT = 26  # two lines: a node's slot is at least this tall
TOP_PER_COLUMN = 10
SMALL_SHARE = Decimal("0.01")  # a service below this share of its column goes into "other"
FONT = "'Liberation Sans', Arial, Helvetica, sans-serif"
COLOURS = {
    "category": "#607d8b",
    tco.CONTRACT: "#8e24aa",
    tco.APPLICATION: "#1e88e5",
    tco.POOL: "#00897b",
    "direct": "#6d4c41",
    "passing": "#fb8c00",
    "keeping": "#43a047",
    "unallocated": "#c62828",
}


@dataclass
class Node:
    key: tuple
    label: str
    column: int
    colour: str
    url: str = ""
    inflow: Decimal = Decimal(0)
    outflow: Decimal = Decimal(0)
    x: float = 0
    y: float = 0
    height: float = 0
    members: int = 1
    last: bool = False
    filter: str = ""  # the value of the Fund services table's ``node`` filter
    short_label: str = ""
    amount_label: str = ""
    slot_y: float = 0  # the node's slot: its label's box, vertically
    slot_height: float = 0
    label_room: float = 0

    @property
    def value(self) -> Decimal:
        return max(self.inflow, self.outflow)

    @property
    def label_x(self) -> float:
        return round(self.x + NODE_WIDTH + LABEL_PAD, 1)

    @property
    def label_y(self) -> float:
        """The baseline of the name; the amount's is a line below."""
        return round(self.slot_y + self.slot_height / 2 - 2, 1)

    @property
    def amount_y(self) -> float:
        return round(self.label_y + LABEL_SIZE + 1, 1)

    @property
    def label_box(self) -> tuple[float, float, float, float]:
        """Where the label is drawn (left, top, right, bottom), by measured text widths."""
        width = max(
            textwidth.text_width(self.short_label, LABEL_SIZE),
            textwidth.text_width(self.amount_label, AMOUNT_SIZE),
        )
        top = self.label_y - LABEL_SIZE * 0.8
        return (self.label_x, top, self.label_x + width, self.amount_y + AMOUNT_SIZE * 0.25)


# The roads cost takes to services: group node label and column, by kind.
GROUPS = {
    tco.CONTRACT: ("Contracts", 1),
    tco.APPLICATION: ("Applications", 2),
    tco.POOL: ("Cost pools", 2),
    tco.SERVICE: ("Recorded on services", 2),
}

LAST = 99  # the column of services that keep their cost: always the right-most


@dataclass
class Link:
    source: tuple
    target: tuple
    amount: Decimal
    path: str = ""
    colour: str = ""
    title: str = ""
    source_label: str = ""
    target_label: str = ""


@dataclass
class Sankey:
    nodes: dict[tuple, Node] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    node_width: int = NODE_WIDTH
    hidden_cycle_flows: int = 0
    font: str = FONT

    def add_node(self, key, label, column, colour, url="", filter="") -> Node:
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = Node(key, label, column, colour, url, filter=filter)
        return node

    def add_link(self, source, target, amount: Decimal) -> None:
        if amount > 0 and source in self.nodes and target in self.nodes and source != target:
            self.links.append(Link(source, target, amount))

    @property
    def node_list(self) -> list[Node]:
        return sorted(self.nodes.values(), key=lambda n: (n.column, n.y))


def build(
    *,
    inputs_by_kind: dict,
    results: list,
    flows: list[tuple[str, int, str, int, Decimal]],
    unallocated: list[tuple[str, int, Decimal]],
    services: dict[int, tuple[str, str]],
) -> Sankey:
    """``inputs_by_kind``: {kind: {category: amount}} of the input cost; ``results``: the
    period's TcoResult rows; ``flows``: (source kind, id, target kind, id, amount);
    ``unallocated``: (source kind, id, amount); ``services``: id → (name, url)."""
    chart = Sankey()
    for category, label in CostCategory.choices:
        chart.add_node(
            ("category", category), label, 0, COLOURS["category"], filter=f"category:{category}"
        )
    for kind, (label, column) in GROUPS.items():
        colour = COLOURS["direct"] if kind == tco.SERVICE else COLOURS[kind]
        chart.add_node(("group", kind), label, column, colour, filter=f"road:{kind}")
    for kind, by_category in inputs_by_kind.items():
        for category, amount in by_category.items():
            chart.add_link(("category", category), ("group", kind), Decimal(amount))

    # Services: those that pass cost on, by depth; those that keep it, last.
    service_flows = [
        (source_id, target_id, amount)
        for source_kind, source_id, target_kind, target_id, amount in flows
        if source_kind == tco.SERVICE and target_kind == tco.SERVICE
    ]
    passing = {r.service_id for r in results if r.passed_on > 0}
    successors: dict = defaultdict(list)
    for source_id, target_id, _ in service_flows:
        successors[source_id].append(target_id)
    component_of, level = _levels(sorted(passing), successors)
    for r in results:
        if r.tco <= 0 and r.unallocated <= 0:
            continue
        name, url = services.get(r.service_id, (str(r.service_id), ""))
        column = 3 + level[r.service_id] if r.service_id in passing else LAST
        colour = COLOURS["passing"] if r.service_id in passing else COLOURS["keeping"]
        chart.add_node(
            ("service", r.service_id), name, column, colour, url, f"service:{r.service_id}"
        )
    chart.add_node(("unallocated",), "Unallocated", LAST, COLOURS["unallocated"])

    for r in results:
        key = ("service", r.service_id)
        for kind, amount in (
            (tco.APPLICATION, r.received_applications),
            (tco.CONTRACT, r.received_contracts),
            (tco.POOL, r.received_pools),
            (tco.SERVICE, r.direct),
        ):
            chart.add_link(("group", kind), key, amount)
        if r.unallocated > 0:
            chart.add_link(key, ("unallocated",), r.unallocated)
    contract_to_applications = sum(
        (
            amount
            for s_kind, _, t_kind, _, amount in flows
            if s_kind == tco.CONTRACT and t_kind == tco.APPLICATION
        ),
        Decimal(0),
    )
    chart.add_link(("group", tco.CONTRACT), ("group", tco.APPLICATION), contract_to_applications)
    for source_id, target_id, amount in service_flows:
        if component_of.get(source_id) is not None and component_of.get(
            source_id
        ) == component_of.get(target_id):
            chart.hidden_cycle_flows += 1
            continue
        chart.add_link(("service", source_id), ("service", target_id), amount)
    unallocated_by_kind: dict[str, Decimal] = defaultdict(Decimal)
    for kind, _, amount in unallocated:
        if kind != tco.SERVICE:
            unallocated_by_kind[kind] += amount
    for kind, amount in unallocated_by_kind.items():
        chart.add_link(("group", kind), ("unallocated",), amount)

    _merge_small(chart)
    _layout(chart)
    return chart


def _levels(passing: list[int], successors: dict) -> tuple[dict, dict]:
    """Depth of each passing service in the dependency order (cycles share one depth): a
    component's depth is one more than the deepest component that passes cost to it. The
    components come in topological order, so one pass over the edges settles it."""
    members = set(passing)
    graph = {
        (tco.SERVICE, pk): [(tco.SERVICE, t) for t in successors.get(pk, ()) if t in members]
        for pk in passing
    }
    components = tco.strongly_connected_components([(tco.SERVICE, pk) for pk in passing], graph)
    component_of = {pk: number for number, component in enumerate(components)
                    for _, pk in component}  # fmt: skip
    depth = [0] * len(components)
    for number, component in enumerate(components):
        for node in component:
            for _, target in graph[node]:
                other = component_of[target]
                if other != number and depth[other] < depth[number] + 1:
                    depth[other] = depth[number] + 1
    level = {pk: depth[number] for pk, number in component_of.items()}
    return component_of, level


def _merge_small(chart: Sankey) -> None:
    """Keep the largest nodes of each service column; merge the rest into one."""
    for link in chart.links:
        chart.nodes[link.source].outflow += link.amount
        chart.nodes[link.target].inflow += link.amount
    by_column: dict[int, list[Node]] = defaultdict(list)
    for node in chart.nodes.values():
        if node.key[0] == "service":
            by_column[node.column].append(node)
    replace: dict[tuple, tuple] = {}
    for column, nodes in by_column.items():
        nodes.sort(key=lambda n: (-n.value, n.label))
        least = SMALL_SHARE * sum((n.value for n in nodes), Decimal(0))
        rest = [n for i, n in enumerate(nodes) if i >= TOP_PER_COLUMN or n.value < least]
        if len(rest) < 2:
            continue
        key = ("other", column)
        colour = rest[0].colour
        merged = chart.add_node(key, "", column, colour)
        merged.members = len(rest)
        merged.label = f"{len(rest)} other services"
        for node in rest:
            replace[node.key] = key
            del chart.nodes[node.key]
    links: dict[tuple, Decimal] = defaultdict(Decimal)
    for link in chart.links:
        source = replace.get(link.source, link.source)
        target = replace.get(link.target, link.target)
        if source != target:
            links[(source, target)] += link.amount
    chart.links = [Link(source, target, amount) for (source, target), amount in links.items()]
    for node in chart.nodes.values():
        node.inflow = node.outflow = Decimal(0)
    for link in chart.links:
        chart.nodes[link.source].outflow += link.amount
        chart.nodes[link.target].inflow += link.amount
    for key in [k for k, n in chart.nodes.items() if n.value == 0]:
        del chart.nodes[key]


def _layout(chart: Sankey) -> None:
    columns = sorted({node.column for node in chart.nodes.values()})
    renumber = {column: index for index, column in enumerate(columns)}
    count = len(columns)
    last_index = count - 1
    by_column: dict[int, list[Node]] = defaultdict(list)
    for node in chart.nodes.values():
        node.column = renumber[node.column]
        node.last = node.column == last_index and count > 1
        by_column[node.column].append(node)
    # Every label is right of its node: a column's labels have the room up to the next
    # column, the last column's the room kept for them at the right.
    step = (WIDTH - NODE_WIDTH - LABEL_ROOM) / max(count - 1, 1)
    inner_room = step - NODE_WIDTH - 2 * LABEL_PAD
    totals = [float(sum((n.value for n in by_column[i]), Decimal(0))) for i in range(count)] or [
        1.0
    ]
    most_nodes = max((len(by_column[i]) for i in range(count)), default=1)
    room = max(HEIGHT - (GAP + LABEL_HEIGHT / 2) * most_nodes, HEIGHT / 2)
    scale = room / max(max(totals), 1e-9)

    def place(nodes: list[Node], index: int) -> None:
        """Stack the column's slots: a slot is as tall as its node, at least as its label,
        and the node sits in the middle of it."""
        y = 0.0
        for node in nodes:
            node.x = index * step
            node.height = max(float(node.value) * scale, 1.0)
            node.slot_y = y
            node.slot_height = max(node.height, LABEL_HEIGHT)
            node.y = y + (node.slot_height - node.height) / 2
            y += node.slot_height + GAP

    def settled_last(node: Node) -> bool:
        return node.key[0] in ("other", "unallocated")

    for index in range(count):
        by_column[index].sort(key=lambda n: (settled_last(n), -n.value, n.label))
        place(by_column[index], index)
    # Two sweeps of barycentre ordering: a node sits near the middle of what feeds it.
    sources: dict[tuple, list[tuple[tuple, Decimal]]] = defaultdict(list)
    for link in chart.links:
        sources[link.target].append((link.source, link.amount))
    for _ in range(2):
        for index in range(1, count):

            def centre(node: Node, index: int = index) -> float:
                feeds = [
                    (chart.nodes[key], float(amount))
                    for key, amount in sources.get(node.key, ())
                    if chart.nodes[key].column < index
                ]
                weight = sum(amount for _, amount in feeds)
                if not weight:
                    return float("inf")
                return sum((n.y + n.height / 2) * amount for n, amount in feeds) / weight

            by_column[index].sort(key=lambda n: (settled_last(n), centre(n), -n.value, n.label))
            place(by_column[index], index)
    for node in chart.nodes.values():
        # A tenth of a pixel is finer than any screen draws: the SVG stays short.
        node.x, node.y, node.height = round(node.x, 1), round(node.y, 1), round(node.height, 1)
        node.slot_y, node.slot_height = round(node.slot_y, 1), round(node.slot_height, 1)
        node.label_room = LABEL_ROOM - 2 * LABEL_PAD if node.column == last_index else inner_room
        node.short_label = textwidth.fit(node.label, node.label_room, LABEL_SIZE)
        node.amount_label = textwidth.fit(format_amount(node.value), node.label_room, AMOUNT_SIZE)
    outgoing_offset: dict[tuple, float] = defaultdict(float)
    incoming_offset: dict[tuple, float] = defaultdict(float)
    chart.links.sort(key=lambda link: (chart.nodes[link.source].y, chart.nodes[link.target].y))
    for link in chart.links:
        source, target = chart.nodes[link.source], chart.nodes[link.target]
        thickness = max(float(link.amount) * scale, 0.5)
        x0 = source.x + NODE_WIDTH
        x1 = target.x
        y0 = source.y + outgoing_offset[link.source]
        y1 = target.y + incoming_offset[link.target]
        outgoing_offset[link.source] += thickness
        incoming_offset[link.target] += thickness
        middle = (x0 + x1) / 2
        link.path = (
            f"M{x0:.1f},{y0:.1f} C{middle:.1f},{y0:.1f} {middle:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
            f"L{x1:.1f},{y1 + thickness:.1f} C{middle:.1f},{y1 + thickness:.1f} "
            f"{middle:.1f},{y0 + thickness:.1f} {x0:.1f},{y0 + thickness:.1f} Z"
        )
        link.colour = source.colour
        link.title = f"{source.label} → {target.label}: {format_amount(link.amount)}"
        link.source_label, link.target_label = source.label, target.label
    chart.height = int(max((n.slot_y + n.slot_height for n in chart.nodes.values()), default=0)) + 4


# --- Budget against actual per month ------------------------------------------------------------


@dataclass(frozen=True)
class MonthBars:
    """One month of the budget chart: its label, the budget and actual bars (x, y, height;
    no actual bar for a month without a period) and the forecast's mark (y)."""

    label: str
    x: float
    actual_x: float  # also the middle of the month, where its label goes
    end_x: float
    budget: Decimal
    actual: Decimal | None
    forecast: Decimal
    budget_y: float
    budget_height: float
    actual_y: float
    actual_height: float
    forecast_y: float


def month_bars(months: list[tuple[str, Decimal, Decimal | None, Decimal]]) -> dict | None:
    """Geometry of the budget against actual chart: per month (label, budget, actual or None,
    forecast), a budget bar and an actual bar side by side, and the forecast as a mark across
    them; the scale runs from zero (or the lowest figure, when below) to the highest. Only
    coordinates here; templates/finance/inc/budget_chart.html draws them. None without
    months."""
    if not months:
        return None
    width, height, left, right, top, bottom = 640, 200, 56, 10, 10, 24
    values = [value for _, budget, actual, forecast in months for value in (budget, forecast)]
    values += [actual for _, _, actual, _ in months if actual is not None]
    high, low = max([Decimal(0), *values]), min([Decimal(0), *values])
    if high == low:
        high = low + 1
    inner_w, inner_h = width - left - right, height - top - bottom
    slot = inner_w / len(months)
    bar = slot * 0.35

    def y_of(value: Decimal) -> float:
        return round(float(top + inner_h * (high - value) / (high - low)), 1)

    zero = y_of(Decimal(0))
    bars = []
    for index, (label, budget, actual, forecast) in enumerate(months):
        x = round(left + slot * index + slot * 0.15, 1)
        budget_y, actual_y = y_of(budget), y_of(actual if actual is not None else Decimal(0))
        bars.append(
            MonthBars(
                label=label,
                x=x,
                actual_x=round(x + bar, 1),
                end_x=round(x + 2 * bar, 1),
                budget=budget,
                actual=actual,
                forecast=forecast,
                budget_y=min(budget_y, zero),
                budget_height=abs(zero - budget_y),
                actual_y=min(actual_y, zero),
                actual_height=abs(zero - actual_y) if actual is not None else 0,
                forecast_y=y_of(forecast),
            )
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "zero": zero,
        "bar": round(bar, 1),
        "bars": bars,
        "high": high,
        "low": low,
        "top": top,
        "label_y": height - 8,
    }
