"""The flow chart's layout (finance.charts): readable at many nodes, measured labels that never
overlap, amounts on the nodes, and a filter for each node."""

from decimal import Decimal
from itertools import combinations
from types import SimpleNamespace

from core.money import format_amount
from finance import charts
from finance import tco
from finance.choices import CostCategory


def result(service_id, *, direct=0, received_services=0, passed_on=0, unallocated=0):
    direct, received = Decimal(direct), Decimal(received_services)
    return SimpleNamespace(
        service_id=service_id,
        direct=direct,
        received_applications=Decimal(0),
        received_contracts=Decimal(0),
        received_pools=Decimal(0),
        passed_on=Decimal(passed_on),
        tco=direct + received,
        unallocated=Decimal(unallocated),
    )


def portfolio(passing_levels: int, per_level: int, keeping: int, *, small: int = 0):
    """Chains of services passing their cost on, ``per_level`` at each depth, into ``keeping``
    services that keep it (``small`` of them with a hundredth of a cent of a share)."""
    results, flows, names = [], [], {}
    pk = 0
    levels = []
    for _ in range(passing_levels):
        level = []
        for _ in range(per_level):
            pk += 1
            level.append(pk)
        levels.append(level)
    keepers = list(range(pk + 1, pk + 1 + keeping))
    smalls = keepers[:small]
    for depth, level in enumerate(levels):
        for index, service in enumerate(level):
            amount = Decimal(1000 + 37 * index)
            if depth == 0:
                results.append(result(service, direct=amount, passed_on=amount))
            else:
                results.append(result(service, received_services=amount, passed_on=amount))
            targets = levels[depth + 1] if depth + 1 < len(levels) else keepers[small:]
            target = targets[index % len(targets)]
            flows.append((tco.SERVICE, service, tco.SERVICE, target, amount))
    for service in keepers:
        results.append(result(service, direct="0.50" if service in smalls else 900))
    for service in range(1, pk + keeping + 1):
        names[service] = (f"Service number {service} with a long descriptive name", "")
    inputs = {
        tco.SERVICE: {value: Decimal(5000) for value, _ in CostCategory.choices},
        tco.CONTRACT: {CostCategory.VENDOR.value: Decimal(3000)},
        tco.APPLICATION: {CostCategory.DEVELOPMENT.value: Decimal(2000)},
        tco.POOL: {CostCategory.SUPPORT.value: Decimal(800)},
    }
    return charts.build(
        inputs_by_kind=inputs,
        results=results,
        flows=flows,
        unallocated=[(tco.POOL, 1, Decimal(120))],
        services=names,
    )


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def node_box(node):
    return (node.x, node.y, node.x + charts.NODE_WIDTH, node.y + node.height)


def test_forty_and_more_nodes_have_labels_that_never_overlap():
    chart = portfolio(passing_levels=3, per_level=11, keeping=11)
    nodes = list(chart.nodes.values())
    assert len(nodes) >= 40
    boxes = [node.label_box for node in nodes]
    clashes = [
        (a.label, b.label) for a, b in combinations(nodes, 2) if overlap(a.label_box, b.label_box)
    ]
    assert clashes == []
    # Nor does a label cover a node, and the last column's labels stay inside the chart.
    assert [
        (label_of.label, other.label)
        for label_of in nodes
        for other in nodes
        if overlap(label_of.label_box, node_box(other))
    ] == []
    assert max(box[2] for box in boxes) <= chart.width
    assert max(box[3] for box in boxes) <= chart.height


def test_every_node_shows_its_amount_and_a_name_cut_to_its_room():
    chart = portfolio(passing_levels=2, per_level=6, keeping=5)
    for node in chart.nodes.values():
        assert node.amount_label == format_amount(node.value)
        assert node.short_label  # every node is labelled, however thin
        left, _, right, _ = node.label_box
        assert right - left <= node.label_room
    cut = [node for node in chart.nodes.values() if node.short_label != node.label]
    assert cut and all(node.short_label.endswith("…") for node in cut)


def test_small_services_go_into_other_and_the_largest_stay():
    chart = portfolio(passing_levels=1, per_level=4, keeping=8, small=3)
    others = [node for node in chart.nodes.values() if node.key[0] == "other"]
    assert [(node.label, node.members) for node in others] == [("3 other services", 3)]
    keeping = [node for node in chart.nodes.values() if node.key[0] == "service" and node.last]
    assert len(keeping) == 5
    # A single small service is not worth an "other" of one: it stays itself.
    chart = portfolio(passing_levels=1, per_level=4, keeping=8, small=1)
    assert not [node for node in chart.nodes.values() if node.key[0] == "other"]


def test_a_column_of_more_than_eleven_keeps_its_ten_largest():
    chart = portfolio(passing_levels=1, per_level=4, keeping=15)
    last = [node for node in chart.nodes.values() if node.last and node.key[0] != "unallocated"]
    assert sorted(node.key[0] for node in last).count("service") == 10
    assert [node.label for node in last if node.key[0] == "other"] == ["5 other services"]


def test_each_node_filters_the_table_by_what_it_stands_for():
    chart = portfolio(passing_levels=1, per_level=2, keeping=2)
    filters = {node.key: node.filter for node in chart.nodes.values()}
    assert filters[("category", "vendor")] == "category:vendor"
    assert filters[("group", tco.CONTRACT)] == "road:contract"
    assert filters[("service", 3)] == "service:3"
    assert filters[("unallocated",)] == ""
