"""What-if before saving: the difference a write would make to the open period's TCO.

A preview runs the real write (the same services function the save calls, with all its rules
and rights) inside a transaction that is always rolled back, reads the open period's inputs
within it, runs the TCO engine in memory (finance.tco: allocate, round_allocation) and
compares each service's figures with those of the period as it stands. Because the preview
and the save go through the same function and the same engine, what the preview shows is
what the roll-up computes once the write is saved (docs/whatif.md).
"""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.money import from_cents
from finance import selectors
from finance import tco
from finance.choices import CostCategory
from finance.choices import PeriodStatus
from finance.models import Period
from finance.models import TcoResult
from finance.models import month_serial
from portfolio.models import Service

# The buckets a preview compares: the TCO and its five categories, as TcoResult stores them.
BUCKETS = ("tco", *(f"tco_{category}" for category in tco.CATEGORIES))


@dataclass(frozen=True)
class ServiceDelta:
    """One service whose figures the write would change: before, after and the difference,
    by bucket (BUCKETS), in the reporting currency."""

    service_id: int
    name: str
    slug: str
    before: dict[str, Decimal]
    after: dict[str, Decimal]

    @property
    def delta(self) -> dict[str, Decimal]:
        return {bucket: self.after[bucket] - self.before[bucket] for bucket in BUCKETS}

    @property
    def category_deltas(self) -> list[Decimal]:
        """The difference in each of the five categories, in CostCategory's order."""
        delta = self.delta
        return [delta[f"tco_{category}"] for category in tco.CATEGORIES]

    @property
    def percent(self) -> Decimal | None:
        """The TCO's change in per cent of its figure before (None from zero)."""
        if not self.before["tco"]:
            return None
        return (self.delta["tco"] * 100 / abs(self.before["tco"])).quantize(Decimal("0.1"))


@dataclass
class Preview:
    """The outcome of a preview: the period it is about (None: no open period), where its
    figures before came from (``stored``: the period's current results; ``computed``: the
    engine run on the data as it stands, because the stored results are out of date or
    missing), and the services whose figures change, largest change first."""

    period: Period | None
    before_source: str = "stored"
    services: list[ServiceDelta] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.services)

    @property
    def category_labels(self) -> list[str]:
        return [str(label) for _, label in CostCategory.choices]


def open_period(today=None) -> Period | None:
    """The open period a what-if is about: the current month's when it is open, else the
    latest open one before it, else the earliest open one after it."""
    today = today or timezone.localdate()
    current = month_serial(today.year, today.month)
    open_ = Period.objects.filter(status=PeriodStatus.OPEN)
    return (
        open_.filter(serial__lte=current).order_by("-serial").first()
        or open_.filter(serial__gt=current).order_by("serial").first()
    )


def _computed_figures(period: Period) -> dict[int, dict[str, Decimal]]:
    """Each service's buckets in ``period`` as the roll-up would compute them from the data
    in the database now: the engine in memory, rounded as the stored results are."""
    loaded = selectors.load_inputs(period=period)
    rounded = tco.round_allocation(tco.allocate(loaded.inputs))
    category_of = [category for category, _ in tco.CELLS]
    figures: dict[int, dict[str, Decimal]] = {}
    for (kind, pk), service_figures in rounded.services.items():
        if kind != tco.SERVICE:
            continue
        cells = service_figures["tco"]
        cents = dict.fromkeys(BUCKETS, 0)
        for index, value in enumerate(cells):
            if value:
                cents["tco"] += value
                cents[f"tco_{category_of[index]}"] += value
        figures[pk] = {bucket: from_cents(value) for bucket, value in cents.items()}
    return figures


def _stored_figures(period: Period) -> dict[int, dict[str, Decimal]]:
    """Each service's buckets in the period's current stored results, in one query."""
    return {
        row[0]: dict(zip(BUCKETS, row[1:], strict=True))
        for row in TcoResult.objects.filter(
            period=period, version=period.current_version
        ).values_list("service_id", *BUCKETS)
    }


def _results_current(period: Period) -> bool:
    """Whether the stored results are those of today's data: the period has results and no
    change is waiting for its recomputation."""
    return (
        period.recompute_requested_at is None
        and TcoResult.objects.filter(period=period, version=period.current_version).exists()
    )


class _RolledBack(Exception):
    """Raised inside the preview's transaction to roll it back after the engine has run."""


def preview(apply: Callable[[], object], *, period: Period | None = None) -> Preview:
    """The difference ``apply`` (a write through services, with its rules and rights) would
    make to the TCO of every service in ``period`` (default: open_period()).

    ``apply`` runs in a transaction (a savepoint when one is open) that is always rolled back:
    nothing it writes, no change record and no recomputation it schedules survives. A
    ValidationError it raises (a rule refusing the write) propagates, for the form to show.
    The figures before are the period's stored results when they are current, else computed
    from the data as it stands (the same engine), so the difference is the write's alone.
    """
    period = period or open_period()
    if period is None:
        # Nothing to compare with, but the write is still checked by its rules.
        with transaction.atomic():
            apply()
            transaction.set_rollback(True)
        return Preview(period=None)
    period.refresh_from_db()
    if _results_current(period):
        before, source = _stored_figures(period), "stored"
    else:
        before, source = _computed_figures(period), "computed"
    after: dict[int, dict[str, Decimal]] = {}
    try:
        with transaction.atomic():
            apply()
            after = _computed_figures(period)
            raise _RolledBack
    except _RolledBack:
        pass
    zero = dict.fromkeys(BUCKETS, Decimal(0))
    changed = sorted(
        pk for pk in before.keys() | after.keys() if before.get(pk, zero) != after.get(pk, zero)
    )
    names = {
        pk: (name, slug)
        for pk, name, slug in Service.objects.filter(pk__in=changed).values_list(
            "pk", "name", "slug"
        )
    }
    rows = [
        ServiceDelta(
            service_id=pk,
            name=names[pk][0],
            slug=names[pk][1],
            before=dict(before.get(pk, zero)),
            after=dict(after.get(pk, zero)),
        )
        for pk in changed
        if pk in names
    ]
    rows.sort(key=lambda row: (-abs(row.delta["tco"]), row.name, row.service_id))
    return Preview(period=period, before_source=source, services=rows)
