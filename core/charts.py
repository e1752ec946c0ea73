"""Small charts for the dashboard, laid out on the server and drawn as inline SVG by
templates/inc/column_chart.html and templates/inc/line_chart.html: coordinates only here, no
figures computed (the callers pass what selectors read). Colours are CSS classes
(static/portico/portico.css): the Content-Security-Policy refuses inline styles.

Every chart keeps its figures beside the geometry, so its template also writes them as a
table for whoever cannot see the drawing.
"""

from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 480, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 10, 24


@dataclass(frozen=True)
class Series:
    """One named series: ``css`` is its colour class, ``values`` one per label (None: no
    figure)."""

    name: str
    css: str
    values: list[Decimal | None]


@dataclass(frozen=True)
class Column:
    series: str
    css: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Slot:
    label: str
    shown: str  # the label under the axis, or empty where labels would overlap
    x: float  # the middle of the slot, where its label goes
    columns: list[Column]


@dataclass(frozen=True)
class Point:
    label: str
    value: Decimal
    x: float
    y: float


def _scale(values: list[Decimal]) -> tuple[Decimal, Decimal]:
    high, low = max([Decimal(0), *values]), min([Decimal(0), *values])
    if high == low:
        high = low + 1
    return high, low


def _y(value: Decimal, high: Decimal, low: Decimal) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return round(float(TOP + inner * (high - value) / (high - low)), 1)


def _every(count: int) -> int:
    """Label every n-th slot so that labels never overlap (about 50 px a label)."""
    room = (WIDTH - LEFT - RIGHT) / max(count, 1)
    return max(1, int(50 // room) + (1 if 50 % room else 0)) if room < 50 else 1


def columns(labels: list[str], series: list[Series]) -> dict | None:
    """Grouped columns: one slot per label, one column per series side by side, from zero
    (or the lowest figure, when below). None when there is nothing to draw."""
    if not labels or not series:
        return None
    figures = [v for s in series for v in s.values if v is not None]
    if not figures:
        return None
    high, low = _scale(figures)
    zero = _y(Decimal(0), high, low)
    slot_width = (WIDTH - LEFT - RIGHT) / len(labels)
    column_width = round(slot_width * 0.8 / len(series), 1)
    every = _every(len(labels))
    slots = []
    for index, label in enumerate(labels):
        start = LEFT + slot_width * index + slot_width * 0.1
        drawn = []
        for number, one in enumerate(series):
            value = one.values[index]
            if value is None:
                continue
            top = _y(value, high, low)
            drawn.append(
                Column(
                    series=one.name,
                    css=one.css,
                    value=value,
                    x=round(start + number * column_width, 1),
                    y=min(top, zero),
                    width=column_width,
                    height=max(round(abs(zero - top), 1), 0.5 if value else 0),
                )
            )
        shown = label if index % every == 0 else ""
        slots.append(Slot(label, shown, round(LEFT + slot_width * (index + 0.5), 1), drawn))
    return {
        **_frame(high, low),
        "zero": zero,
        "slots": slots,
        "labels": labels,
        "series": series,
        "rows": [(label, [s.values[i] for s in series]) for i, label in enumerate(labels)],
    }


def line(
    labels: list[str], values: list[Decimal | None], *, css: str = "series-line"
) -> dict | None:
    """One series as a line with a dot per figure; months without a figure are skipped. None
    when there is no figure at all."""
    figures = [v for v in values if v is not None]
    if not labels or not figures:
        return None
    high, low = _scale(figures)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels) - 1, 1)
    single = len(labels) == 1
    every = _every(len(labels))
    points = []
    ticks = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = round(LEFT + (WIDTH - LEFT - RIGHT) / 2 if single else LEFT + step * index, 1)
        if index % every == 0:
            ticks.append((label, x))
        if value is not None:
            points.append(Point(label, value, x, _y(value, high, low)))
    return {
        **_frame(high, low),
        "css": css,
        "points": points,
        "ticks": ticks,
        "polyline": " ".join(f"{p.x},{p.y}" for p in points),
        "rows": [(label, value) for label, value in zip(labels, values, strict=True)],
    }


def _frame(high: Decimal, low: Decimal) -> dict:
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "high": high,
        "low": low,
        "high_y": TOP + 8,
        "label_y": HEIGHT - 8,
        "tick_x": LEFT - 4,
    }
