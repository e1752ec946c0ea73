"""The value stream map's layout (valuestreams.maps): every label measured and wrapped to its
box, a cut one whole in its tooltip, and no Totals label running into its value."""

from decimal import Decimal
from itertools import combinations

import pytest

from core import textwidth
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import maps
from valuestreams import selectors

pytestmark = pytest.mark.django_db

LONG_NAME = (
    "Register the claim and check the policyholder's cover against every clause of the "
    "policy, the excess and the exclusions for commercial use"
)


def map_of(stream, costs=None):
    stages = selectors.stages_of(stream)
    return maps.layout(stream, stages, selectors.flow_measures(stages), costs)


def box(x: float, y: float, text: str, size: float, *, bold=False, anchor="start"):
    """The box (left, top, right, bottom) a line of text at baseline y takes."""
    width = textwidth.text_width(text, size, bold=bold)
    left = x - width if anchor == "end" else x
    return (left, y - size * 0.8, left + width, y + size * 0.25)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def totals_boxes(map):
    right = map.totals_x + maps.TOTALS_WIDTH - 12
    for row in map.totals:
        labels = [box(map.totals_x + 12, y, line, 12) for y, line in row.label_lines]
        yield row, labels, box(right, row.value_y, row.value, 12, bold=True, anchor="end")


@pytest.mark.parametrize(
    "total, what_if",
    [
        (Decimal("12.50"), False),
        (Decimal("123456789012.34"), True),
        (Decimal("-98765432109876.54"), True),
    ],
)
def test_no_totals_label_runs_into_its_value_or_another_row(total, what_if):
    stream = ValueStreamFactory(name="Pay out")
    StageFactory(value_stream=stream, position=0, name="Pay")
    costs = selectors.StreamCosts("2025-03", "EUR", {}, total, what_if=what_if)
    map = map_of(stream, costs)
    boxes = []
    for row, labels, value in totals_boxes(map):
        assert not any(overlap(label, value) for label in labels), row
        boxes += [*labels, value]
    assert not any(overlap(a, b) for a, b in combinations(boxes, 2))
    heading = box(map.totals_x + 12, map.label_top, "Totals", 12, bold=True)
    assert not any(overlap(heading, other) for other in boxes)
    # Every row inside the box, and every text within its width.
    bottom = map.box_top + map.totals_height
    assert all(b[3] <= bottom and b[0] >= map.totals_x for b in boxes)
    assert all(b[2] <= map.totals_x + maps.TOTALS_WIDTH for b in boxes)


def test_a_cost_too_wide_beside_its_label_goes_on_a_line_of_its_own():
    stream = ValueStreamFactory(name="Pay out")
    costs = selectors.StreamCosts("2025-03", "EUR", {}, Decimal("-98765432109876.54"), what_if=True)
    (row,) = [row for row in map_of(stream, costs).totals if row.label.startswith("Cost")]
    assert row.label_lines[-1][0] < row.value_y
    short = [row for row in map_of(stream, costs).totals if row.label == "Activity ratio"]
    assert short[0].label_lines[0][0] == short[0].value_y  # side by side when they fit


def test_long_names_wrap_inside_their_boxes_and_a_cut_one_keeps_its_tooltip():
    stream = ValueStreamFactory(name="Settle a claim", trigger="A policyholder " * 30)
    stage = StageFactory(
        value_stream=stream,
        position=0,
        name=LONG_NAME,
        responsible_party="The claims handling team of the regional office",
    )
    stage.services.add(
        ServiceFactory(name="Policy Administration Platform for Commercial Lines Europe")
    )
    StageFactory(value_stream=stream, position=1, name="Pay")
    map = map_of(stream)
    first, second = map.stages
    inner = maps.STAGE_WIDTH - 2 * maps.PAD
    for label, bold in ((first.name, True), (first.responsible, False)):
        assert all(textwidth.text_width(line, 12, bold=bold) <= inner for _, line in label.lines)
    assert len(first.name.lines) == maps.NAME_LINES and first.name.full == f"1. {LONG_NAME}"
    assert first.name.lines[-1][1].endswith("…")
    assert len(first.responsible.lines) == 2 and first.responsible.full == ""
    assert second.name.full == "" and second.name.first == "2. Pay"
    # The boxes grow with the longest name: the responsible party starts below it.
    assert map.responsible_y > first.name.lines[-1][0]
    assert map.measure_y > first.responsible.lines[-1][0]
    assert map.box_bottom > map.measure_y
    # The trigger wraps to its lines, the rest in its tooltip; all inside its box.
    assert map.trigger.text.full and map.trigger.text.lines[-1][0] < map.box_bottom
    (service,) = first.services
    assert textwidth.text_width(service.label.first, 11) <= maps.SERVICE_WIDTH

    svg = maps.draw(map)
    assert f"<title>1. {LONG_NAME.replace(chr(39), '&#x27;')}</title>" in svg
    assert ">2. Pay</text>" in svg


def test_labels_in_a_map_of_short_names_are_whole():
    stream = ValueStreamFactory(name="Pay out", trigger="A claim is approved.")
    StageFactory(value_stream=stream, position=0, name="Pay", responsible_party="Finance")
    map = map_of(stream)
    (stage,) = map.stages
    assert [line for _, line in stage.name.lines] == ["1. Pay"]
    assert not stage.name.full and not stage.responsible.full and not map.trigger.text.full
    assert 'class="vsm-cut"' not in maps.draw(map)
