"""A service's dependency neighbourhood laid out for templates/portfolio/inc/dependency_graph.html,
drawn there as inline SVG: coordinates only here, the reads are portfolio.selectors'.

Columns left to right: the providers of its providers (-2), its providers (-1), the service
(0), its consumers (1), theirs (2); an arrow runs from a provider to the service that depends on
it. Edges and services on a cycle through the service are marked (its strongly connected
component, selectors.dependency_cycle_members). Colours are CSS classes
(static/portico/portico.css): the Content-Security-Policy refuses inline styles.
"""

from dataclasses import dataclass
from dataclasses import field

from django.utils import timezone

from core.models import in_force_on
from core.translations import translated
from portfolio import selectors
from portfolio.models import Service
from portfolio.models import ServiceDependency

LEVELS = (-2, -1, 0, 1, 2)
# At most this many services are drawn in a column; the rest are one "and N more" box.
PER_LEVEL = 12
NAME_CHARS = 24  # a name longer than this is shortened, whole in its tooltip

NODE_WIDTH, NODE_HEIGHT = 168, 34
COLUMN_GAP, ROW_GAP = 56, 12
PAD = 12
# Room on either side for the curves of edges that run backwards (cycles) or within a column.
SIDE = 44

LEVEL_HEADINGS = {
    -2: "Providers of providers",
    -1: "Providers",
    0: "This service",
    1: "Consumers",
    2: "Consumers of consumers",
}


@dataclass
class Node:
    key: str  # the service's pk, or "more-<level>" for a group
    level: int
    name: str
    label: str  # the name as drawn (shortened)
    url: str = ""
    in_cycle: bool = False
    is_self: bool = False
    hidden: int = 0  # for a group: how many services it stands for
    x: int = 0
    y: int = 0

    @property
    def is_group(self) -> bool:
        return self.hidden > 0

    @property
    def text_x(self) -> int:
        return self.x + NODE_WIDTH // 2

    @property
    def text_y(self) -> int:
        return self.y + NODE_HEIGHT // 2 + 4


@dataclass
class Edge:
    provider: Node
    consumer: Node
    in_cycle: bool
    path: str = ""


@dataclass
class Column:
    level: int
    heading: str
    nodes: list[Node] = field(default_factory=list)
    hidden: int = 0  # how many services of this level are not drawn
    x: int = 0


@dataclass
class Graph:
    columns: list[Column]
    edges: list[Edge]
    width: int
    height: int
    in_cycle: bool  # the service is on a dependency cycle
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT

    @property
    def nodes(self) -> list[Node]:
        return [node for column in self.columns for node in column.nodes]

    @property
    def size(self) -> int:
        """How many services surround the service (drawn or grouped)."""
        return sum(
            column.hidden + sum(1 for node in column.nodes if not node.is_group)
            for column in self.columns
            if column.level != 0
        )


def shorten(name: str, limit: int = NAME_CHARS) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def neighbourhood(service: Service) -> Graph:
    """``service`` with its providers and consumers, two levels each way, along the
    dependencies in force today. Four queries whatever the neighbourhood's size."""
    levels = selectors.dependency_levels(service, levels=2)
    cycle = selectors.dependency_cycle_members(service)
    services = {
        s.pk: s
        for s in Service.objects.filter(pk__in=[*levels, service.pk]).only(
            "pk", "slug", "name", "translations"
        )
    }
    columns = {level: Column(level, LEVEL_HEADINGS[level]) for level in LEVELS}
    by_pk: dict[int, Node] = {}
    per_level: dict[int, list[Service]] = {level: [] for level in LEVELS}
    for pk, level in levels.items():
        if pk in services:
            per_level[level].append(services[pk])
    per_level[0] = [services[service.pk]] if service.pk in services else [service]
    for level, members in per_level.items():
        named = sorted(((translated(s, "name"), s) for s in members), key=lambda p: p[0].lower())
        column = columns[level]
        for name, member in named[:PER_LEVEL]:
            node = Node(
                key=str(member.pk),
                level=level,
                name=name,
                label=shorten(name),
                url=member.get_absolute_url(),
                in_cycle=member.pk in cycle,
                is_self=member.pk == service.pk,
            )
            column.nodes.append(node)
            by_pk[member.pk] = node
        column.hidden = max(0, len(named) - PER_LEVEL)
        if column.hidden:
            label = f"and {column.hidden} more"
            column.nodes.append(
                Node(key=f"more{level}", level=level, name=label, label=label, hidden=column.hidden)
            )
    groups = {column.level: column.nodes[-1] for column in columns.values() if column.hidden}

    def node_of(pk: int) -> Node | None:
        if pk in by_pk:
            return by_pk[pk]
        return groups.get(levels.get(pk, 0))

    edges: dict[tuple[str, str], Edge] = {}
    rows = ServiceDependency.objects.filter(
        in_force_on(timezone.localdate()),
        consumer_id__in=services,
        provider_id__in=services,
    ).values_list("provider_id", "consumer_id")
    for provider_id, consumer_id in rows:
        provider, consumer = node_of(provider_id), node_of(consumer_id)
        if provider is None or consumer is None or provider is consumer:
            continue
        on_cycle = provider_id in cycle and consumer_id in cycle
        known = edges.get((provider.key, consumer.key))
        if known is None:
            edges[(provider.key, consumer.key)] = Edge(provider, consumer, on_cycle)
        elif on_cycle:
            known.in_cycle = True
    shown = [columns[level] for level in LEVELS if columns[level].nodes or level == 0]
    return _layout(shown, list(edges.values()), in_cycle=service.pk in cycle)


def _layout(columns: list[Column], edges: list[Edge], *, in_cycle: bool) -> Graph:
    tallest = max(len(column.nodes) for column in columns)
    height = 2 * PAD + 18 + tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    for index, column in enumerate(columns):
        column.x = SIDE + index * (NODE_WIDTH + COLUMN_GAP)
        used = len(column.nodes) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        top = PAD + 18 + (height - 2 * PAD - 18 - used) // 2
        for row, node in enumerate(column.nodes):
            node.x = column.x
            node.y = top + row * (NODE_HEIGHT + ROW_GAP)
    width = 2 * SIDE + len(columns) * NODE_WIDTH + (len(columns) - 1) * COLUMN_GAP
    for edge in edges:
        edge.path = _path(edge.provider, edge.consumer)
    # Cycle edges last, so they are drawn over the others.
    edges.sort(key=lambda e: (e.in_cycle, e.provider.key, e.consumer.key))
    return Graph(columns, edges, width, height, in_cycle)


def _path(provider: Node, consumer: Node) -> str:
    """A curve from the provider's right side to the consumer's left side; one that runs
    backwards (a cycle) or within a column bows out to the side."""
    x1, y1 = provider.x + NODE_WIDTH, provider.y + NODE_HEIGHT // 2
    x2, y2 = consumer.x, consumer.y + NODE_HEIGHT // 2
    bend = max(COLUMN_GAP // 2, (x2 - x1) // 2) if x2 > x1 else COLUMN_GAP
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


@dataclass
class ImpactLevel:
    level: int
    services: list[Service]
    count: int  # all of the level's services, listed or not


# The impact page lists at most this many services per level, counting them all.
IMPACT_LISTED = 200


def impact(service: Service) -> list[ImpactLevel]:
    """Every service that depends on ``service``, directly or through others, by level (the
    shortest way). Three queries whatever the number; each level lists its first
    ``IMPACT_LISTED`` by name and counts them all."""
    levels = selectors.dependants_by_level(service)
    found: dict[int, list[int]] = {}
    for pk, level in levels.items():
        found.setdefault(level, []).append(pk)
    services = {s.pk: s for s in Service.objects.filter(pk__in=levels).select_related("owner")}
    result = []
    for level in sorted(found):
        members = sorted(
            (services[pk] for pk in found[level] if pk in services),
            key=lambda s: translated(s, "name").lower(),
        )
        result.append(ImpactLevel(level, members[:IMPACT_LISTED], len(found[level])))
    return result
