from decimal import ROUND_FLOOR
from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def bar_segments(bars):
    """A Fund services row's category bars as whole percents of the widest row, for the
    stylesheet's width classes (w-0 … w-100): (category, label, percent, amount) of the
    categories that show. The percents add up to the row's rounded width, by largest
    remainder, so the segments end where the exact bar would."""
    exact = [Decimal(width) for _, _, width, _ in bars]
    floors = [int(width.to_integral_value(rounding=ROUND_FLOOR)) for width in exact]
    left = int(sum(exact).to_integral_value()) - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for index in by_remainder[: max(left, 0)]:
        floors[index] += 1
    return [
        (category, label, min(percent, 100), amount)
        for (category, label, _, amount), percent in zip(bars, floors, strict=True)
        if percent > 0
    ]
