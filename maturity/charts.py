"""Geometry for the server-rendered SVG charts: the balance triangle and the level history.

Only coordinates are computed here; the templates in templates/maturity/inc/ draw them.
"""

import datetime
import math
from dataclasses import dataclass

from maturity.choices import BalanceElement

# The triangle's corners, clockwise from the top: customer focus, cost, process.
AXIS_ANGLES = {
    BalanceElement.CUSTOMER_FOCUS: -90.0,
    BalanceElement.COST_OPTIMISATION: 30.0,
    BalanceElement.PROCESS_ORIENTATION: 150.0,
}
TRIANGLE_WIDTH = 400
TRIANGLE_HEIGHT = 350
TRIANGLE_CENTRE = (200.0, 185.0)
TRIANGLE_RADIUS = 130.0
GRID_STEPS = (20, 40, 60, 80, 100)


def _point(element: str, score: float) -> tuple[float, float]:
    angle = math.radians(AXIS_ANGLES[element])
    cx, cy = TRIANGLE_CENTRE
    distance = TRIANGLE_RADIUS * max(0.0, min(100.0, float(score))) / 100
    return (round(cx + distance * math.cos(angle), 1), round(cy + distance * math.sin(angle), 1))


def polygon(scores: dict[str, float]) -> str:
    """SVG ``points`` of the triangle spanned by the three scores (0 at the centre)."""
    return " ".join(f"{x},{y}" for x, y in (_point(e, scores[e]) for e in AXIS_ANGLES))


@dataclass(frozen=True)
class Corner:
    element: str
    label: str
    x: float
    y: float
    anchor: str
    score: int | None


def triangle(
    *,
    scores: dict[str, int],
    history: list[dict[str, int]] = (),
    belief: dict[str, int] | None = None,
    weak_below: int = 40,
    strong_from: int = 60,
) -> dict:
    """Everything the triangle template draws: grid, thresholds, evidence, belief, history."""
    corners = []
    for element in AXIS_ANGLES:
        x, y = _point(element, 100)
        # The top label sits above its corner; the bottom ones below theirs, centred.
        y = y - 26 if AXIS_ANGLES[element] == -90.0 else y + 20
        corners.append(
            Corner(element, BalanceElement(element).label, x, y, "middle", scores.get(element))
        )
    return {
        "width": TRIANGLE_WIDTH,
        "height": TRIANGLE_HEIGHT,
        "grid": [polygon(dict.fromkeys(AXIS_ANGLES, step)) for step in GRID_STEPS],
        "axes": [(TRIANGLE_CENTRE, _point(element, 100)) for element in AXIS_ANGLES],
        "weak": polygon(dict.fromkeys(AXIS_ANGLES, weak_below)),
        "strong": polygon(dict.fromkeys(AXIS_ANGLES, strong_from)),
        "evidence": polygon(scores),
        "evidence_points": [_point(e, scores[e]) for e in AXIS_ANGLES],
        "belief": polygon(belief) if belief else "",
        "history": [
            {"points": polygon(past), "opacity": round(0.15 + 0.45 * i / max(1, len(history)), 2)}
            for i, past in enumerate(history)
        ],
        "corners": corners,
    }


LEVEL_CHART_WIDTH = 480
LEVEL_CHART_HEIGHT = 170
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 14, 10, 28


def level_chart(points: list[tuple[datetime.date, int]]) -> dict | None:
    """A step line of level (1–5) over time; ``points`` oldest first."""
    if not points:
        return None
    first, last = points[0][0], points[-1][0]
    span = max(1, (last - first).days)
    inner_w = LEVEL_CHART_WIDTH - _LEFT - _RIGHT
    inner_h = LEVEL_CHART_HEIGHT - _TOP - _BOTTOM

    def y_of(level: int) -> float:
        return round(_TOP + inner_h * (5 - level) / 4, 1)

    def x_of(day: datetime.date) -> float:
        if len(points) == 1:
            return round(_LEFT + inner_w / 2, 1)
        return round(_LEFT + inner_w * (day - first).days / span, 1)

    dots = [{"x": x_of(day), "y": y_of(level), "day": day, "level": level} for day, level in points]
    steps = []
    for i, dot in enumerate(dots):
        if i:
            steps.append(f"{dot['x']},{dots[i - 1]['y']}")
        steps.append(f"{dot['x']},{dot['y']}")
    return {
        "width": LEVEL_CHART_WIDTH,
        "height": LEVEL_CHART_HEIGHT,
        "left": _LEFT,
        "right": LEVEL_CHART_WIDTH - _RIGHT,
        "bottom": LEVEL_CHART_HEIGHT - _BOTTOM,
        "gridlines": [{"level": level, "y": y_of(level)} for level in range(1, 6)],
        "line": " ".join(steps),
        "dots": dots,
        "first": first,
        "last": last,
        "label_y": LEVEL_CHART_HEIGHT - 8,
    }
