"""The demo's figures: twelve monthly figures for each measured functioning item and each
outcome measured directly, ending with the last full month (the latest figure of an item is
its ``actual`` in portfolio.demo). Some months miss their target; one item's figures stopped
four months ago, so it reads stale; the items portfolio.demo leaves without an actual stay
not measured."""

import datetime
from decimal import Decimal

from core.demo import SOURCE
from core.demo import RecordLoader
from performance.models import Measurement
from performance.services import save_measurement
from portfolio.choices import Comparator
from portfolio.demo import QUADRANT_CODES
from portfolio.demo import SPECIFICATIONS
from portfolio.models import Outcome
from portfolio.models import SpecificationItem

MONTHS = 12
# The item whose figures stopped: its latest figure ended four months before the last one.
STALE_ITEM = ("data-warehouse", "Data reconciles")
STALE_GAP_MONTHS = 4
# Every ninth month of a series, shifted per series, misses its target.
MISS_EVERY = 9
CENT = Decimal("0.01")


def month_span(last_day: datetime.date, back: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month ``back`` months before the month of ``last_day``."""
    index = last_day.year * 12 + last_day.month - 1 - back
    first = datetime.date(index // 12, index % 12 + 1, 1)
    following = datetime.date((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def figure_value(target: Decimal, comparator: str, unit: str, *, met: bool) -> Decimal:
    """A figure that meets ``target`` (or misses it) by a plausible margin."""
    if comparator == Comparator.AT_LEAST:
        room = (Decimal(100) - target) / 2 if unit == "%" else target * Decimal("0.05")
        room = room or Decimal(1)
        value = target + room if met else target - max(room, target * Decimal("0.01"))
    else:
        value = target * Decimal("0.9") if met else target * Decimal("1.15") or Decimal(1)
    return value.quantize(CENT)


def demo_series() -> list[tuple[str, tuple[str, str], Decimal | None, datetime.date | None]]:
    """(external id of the item, (service slug, title), latest figure, its month's last day
    when not the last full month) for each measured functioning demo item."""
    series = []
    for slug, quadrants in SPECIFICATIONS.items():
        for (code, _aspect, _dimension), entries in zip(QUADRANT_CODES, quadrants, strict=True):
            for number, entry in enumerate(entries, start=1):
                if entry.get("actual") is not None:
                    key = f"item:{slug}:{code}:{number}"
                    series.append(
                        (key, (slug, entry["title"]), entry["actual"], entry["actual_on"])
                    )
    return series


class FigureLoader(RecordLoader):
    def __init__(self, *, today: datetime.date):
        super().__init__()
        self.last_month_end = today.replace(day=1) - datetime.timedelta(days=1)

    def load(self) -> None:
        items = {i.external_id: i for i in SpecificationItem.objects.filter(source=SOURCE)}
        for number, (key, name, latest, latest_on) in enumerate(demo_series()):
            item = items.get(key)
            if item is None:
                continue
            last_day = latest_on or self.last_month_end
            gap = STALE_GAP_MONTHS if name == STALE_ITEM else 0
            for back in range(gap, gap + MONTHS):
                met = (number * 5 + back) % MISS_EVERY != 0
                value = latest if back == 0 else self.value_of(item, met=met)
                self.ensure(
                    Measurement,
                    f"figure:{key}:{back}",
                    self.create_figure,
                    {"item": item},
                    month_span(last_day, back),
                    value,
                )
        outcomes = Outcome.objects.filter(
            source=SOURCE, specification_item__isnull=True, target__isnull=False
        ).exclude(comparator="")
        for number, outcome in enumerate(outcomes.order_by("external_id")):
            for back in range(MONTHS):
                met = (number * 4 + back + 1) % MISS_EVERY != 0
                self.ensure(
                    Measurement,
                    f"figure:{outcome.external_id}:{back}",
                    self.create_figure,
                    {"outcome": outcome},
                    month_span(self.last_month_end, back),
                    self.value_of(outcome, met=met),
                )

    @staticmethod
    def value_of(subject, *, met: bool) -> Decimal:
        return figure_value(subject.target, subject.comparator, subject.unit, met=met)

    def create_figure(self, external_id, subject, span, value) -> Measurement:
        start, end = span
        return save_measurement(
            measurement=Measurement(
                source=SOURCE, external_id=external_id, start=start, end=end, value=value,
                **subject,
            )
        )  # fmt: skip


def load(*, stdout) -> None:
    from django.utils import timezone

    loader = FigureLoader(today=timezone.localdate())
    loader.load()
    stdout.write(loader.summary("Demo figures"))
