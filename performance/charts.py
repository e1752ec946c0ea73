"""Geometry of the server-rendered series charts: figures over time, the target line, and
each figure's point marked met or missed. Only coordinates are computed here; the template
templates/performance/inc/series_chart.html draws them (as maturity/charts.py does)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

SMALL = (220, 48, 4, 4, 6, 6)  # width, height, left, right, top, bottom
LARGE = (640, 200, 48, 14, 12, 28)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    end: datetime.date
    value: Decimal
    met: bool | None


def series_chart(
    figures: list, targets: list[tuple[datetime.date, Decimal | None]], *, large: bool = False
) -> dict | None:
    """A line through the figures (oldest first, by end day) and the target as a step line
    (``targets``: the target in force from each day on, oldest first; the first also holds
    before its day). None without figures."""
    if not figures:
        return None
    width, height, left, right, top, bottom = LARGE if large else SMALL
    first, last = figures[0].end, figures[-1].end
    span = max(1, (last - first).days)
    values = [f.value for f in figures] + [t for _, t in targets if t is not None]
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 1, high + 1
    pad = (high - low) / 10
    low, high = low - pad, high + pad
    inner_w, inner_h = width - left - right, height - top - bottom

    def x_of(day: datetime.date) -> float:
        if len(figures) == 1:
            return round(left + inner_w / 2, 1)
        day = min(max(day, first), last)
        return round(left + inner_w * (day - first).days / span, 1)

    def y_of(value: Decimal) -> float:
        return round(float(top + inner_h * (high - value) / (high - low)), 1)

    dots = [Dot(x_of(f.end), y_of(f.value), f.end, f.value, f.met) for f in figures]
    target_line = []
    in_force = [(day, t) for day, t in targets if t is not None]
    for i, (day, target) in enumerate(in_force):
        start_x = left if i == 0 else x_of(day)
        if i:
            target_line.append(f"{start_x},{y_of(in_force[i - 1][1])}")
        target_line.append(f"{start_x},{y_of(target)}")
    if in_force:
        target_line.append(f"{width - right},{y_of(in_force[-1][1])}")
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": height - bottom,
        "line": " ".join(f"{d.x},{d.y}" for d in dots),
        "target_line": " ".join(target_line),
        "dots": dots,
        "first": first,
        "last": last,
        "high": high - pad,
        "low": low + pad,
        "label_y": height - 8,
        "large": large,
    }
