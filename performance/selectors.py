"""Reads of figures and status (docs/performance.md).

Status rules, for a day ``today`` and the grace period ``PORTICO_MEASUREMENT_GRACE_DAYS``:

- An item's status is that of its latest figure (by end, then start): ``met`` or
  ``missed``; ``stale`` when the next figure was due (one window after the latest ended)
  more than the grace period before today; ``not_measured`` when it has no figure (or its
  latest figure could not be judged, for want of a target).
- An outcome with a status set by hand shows it (with its reason). Otherwise its own
  figures decide when it is missed or stale; an outcome that relies on an item that is
  missed or stale is ``at_risk``; else it is met when its own figures, or the item it
  relies on, are met; else ``not_measured``.

Both are written once, as SQL expressions over the standing each item and outcome keeps
(performance.services.refresh_standing), so the pages, the API and the attention list read
the same status with one indexed query.
"""

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta
from decimal import ROUND_HALF_EVEN
from decimal import Decimal

from django.conf import settings
from django.db.models import Case
from django.db.models import CharField
from django.db.models import Count
from django.db.models import DateField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Now
from django.db.models.functions import TruncDate

from performance.choices import SeriesGrain
from performance.choices import Standing
from performance.models import Measurement
from performance.models import TargetChange
from portfolio.choices import Dimension
from portfolio.choices import ServiceLifecycle
from portfolio.models import ATTENTION_FROM
from portfolio.models import Outcome
from portfolio.models import SpecificationItem

BAD = (Standing.MISSED, Standing.STALE)
# The API's ``status`` of items and outcomes.
STATUS_SCHEMA = {
    "type": "string",
    "nullable": True,
    "enum": [*Standing.values, None],
    "description": (
        "How it stands against its target: met, missed, stale or not_measured (an outcome "
        "also at_risk); null for a statement of functionality. See docs/performance.md."
    ),
}
ATTENTION = (Standing.MISSED, Standing.STALE, Standing.NOT_MEASURED, Standing.AT_RISK)


def grace_days() -> int:
    return settings.PORTICO_MEASUREMENT_GRACE_DAYS


def stale_before(today: date | None) -> Value | ExpressionWrapper:
    """A subject whose next figure was due before this day is stale. ``today`` None: the
    database's today in the site's time zone, for querysets built once per process (the
    API's resources)."""
    grace = timedelta(days=grace_days())
    if today is not None:
        return Value(today - grace, output_field=DateField())
    return ExpressionWrapper(TruncDate(Now()) - Value(grace), output_field=DateField())


def _stale(today: date | None, prefix: str = "") -> Q:
    return Q(**{f"{prefix}measurement_due__lt": stale_before(today)})


def _missed(prefix: str = "") -> Q:
    return Q(**{f"{prefix}measured_met": False})


def _met(prefix: str = "") -> Q:
    return Q(**{f"{prefix}measured_met": True})


def item_status(today: date | None) -> Case:
    """The status of a functioning item, as an expression over its standing (None for a
    statement of functionality)."""
    return Case(
        When(~Q(dimension=Dimension.FUNCTIONING), then=Value(None)),
        When(_stale(today), then=Value(Standing.STALE)),
        When(_missed(), then=Value(Standing.MISSED)),
        When(_met(), then=Value(Standing.MET)),
        default=Value(Standing.NOT_MEASURED),
        output_field=CharField(),
    )


def outcome_status(today: date | None) -> Case:
    """The status of an outcome: set by hand, its own figures, and the item it relies on."""
    item = "specification_item__"
    return Case(
        When(~Q(status_override=""), then=F("status_override")),
        When(_stale(today), then=Value(Standing.STALE)),
        When(_missed(), then=Value(Standing.MISSED)),
        When(_stale(today, item) | _missed(item), then=Value(Standing.AT_RISK)),
        When(_met() | _met(item), then=Value(Standing.MET)),
        default=Value(Standing.NOT_MEASURED),
        output_field=CharField(),
    )


def with_item_status(queryset: QuerySet, today: date | None) -> QuerySet:
    return queryset.annotate(status=item_status(today))


def with_outcome_status(queryset: QuerySet, today: date | None) -> QuerySet:
    return queryset.annotate(status=outcome_status(today))


def statuses_of_items(items, today: date) -> dict[int, str]:
    """Item id -> status, for functioning items (others have none): one query."""
    ids = [getattr(item, "pk", item) for item in items]
    rows = with_item_status(
        SpecificationItem.objects.filter(pk__in=ids, dimension=Dimension.FUNCTIONING), today
    ).values_list("pk", "status")
    return dict(rows.order_by())


def statuses_of_outcomes(outcomes, today: date) -> dict[int, str]:
    """Outcome id -> status: one query."""
    ids = [getattr(outcome, "pk", outcome) for outcome in outcomes]
    rows = with_outcome_status(Outcome.objects.filter(pk__in=ids), today).values_list(
        "pk", "status"
    )
    return dict(rows.order_by())


def series(
    *,
    item: SpecificationItem | int | None = None,
    outcome: Outcome | int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet:
    """The figures of one item or one outcome in order (by end, then start), each with its
    stored ``met``; ``start``/``end`` keep the figures that end within those days."""
    if (item is None) == (outcome is None):
        raise ValueError("Give exactly one of item and outcome.")
    if item is not None:
        figures = Measurement.objects.filter(item=item)
    else:
        figures = Measurement.objects.filter(outcome=outcome)
    if start is not None:
        figures = figures.filter(end__gte=start)
    if end is not None:
        figures = figures.filter(end__lte=end)
    return figures.order_by("end", "start", "id")


def series_of_items(item_ids, *, since: date | None = None) -> dict[int, list[Measurement]]:
    """Item id -> its figures in order (ending from ``since``), for many items: one query."""
    figures = Measurement.objects.filter(item_id__in=list(item_ids))
    if since is not None:
        figures = figures.filter(end__gte=since)
    grouped: dict[int, list[Measurement]] = {pk: [] for pk in item_ids}
    for figure in figures.order_by("item_id", "end", "start", "id"):
        grouped[figure.item_id].append(figure)
    return grouped


def targets_of(subjects, kind: str = "item") -> dict[int, list[tuple[date, Decimal | None]]]:
    """Subject id -> (valid from, target) in order, for many items (``kind`` "item") or
    outcomes ("outcome"): one query. A subject with no recorded history has its current
    target from the start."""
    history: dict[int, list[tuple[date, Decimal | None]]] = {s.pk: [] for s in subjects}
    for subject_id, valid_from, target in TargetChange.objects.filter(
        **{f"{kind}_id__in": list(history)}
    ).values_list(f"{kind}_id", "valid_from", "target"):
        history[subject_id].append((valid_from, target))
    for subject in subjects:
        if not history[subject.pk]:
            history[subject.pk] = [(date.min, subject.target)]
    return history


@dataclass
class Period:
    """The figures that end within one month, fiscal quarter or fiscal year."""

    label: str
    first_day: date
    figures: list[Measurement] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.figures)

    @property
    def met(self) -> int:
        return sum(1 for f in self.figures if f.met is True)

    @property
    def missed(self) -> int:
        return sum(1 for f in self.figures if f.met is False)

    @property
    def mean(self) -> Decimal:
        """To the figures' own precision (four places), rounded half to even like every
        figure Portico shows."""
        total = sum((f.value for f in self.figures), Decimal(0))
        return (total / len(self.figures)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)

    @property
    def latest(self) -> Measurement:
        return self.figures[-1]


def period_of(day: date, grain: str) -> tuple[str, date]:
    """The label and first day of the month, fiscal quarter or fiscal year ``day`` is in (the
    fiscal year starts in PORTICO_FISCAL_YEAR_START_MONTH and is named after the calendar
    year it ends in, as finance reports name it)."""
    if grain == SeriesGrain.MONTH:
        return f"{day:%Y-%m}", day.replace(day=1)
    start = settings.PORTICO_FISCAL_YEAR_START_MONTH
    offset = (day.month - start) % 12  # months since the fiscal year began
    year_start = date(day.year if day.month >= start else day.year - 1, start, 1)
    fiscal_year = year_start.year + (1 if start != 1 else 0)
    if grain == SeriesGrain.QUARTER:
        quarter = offset // 3 + 1
        first_month = (start - 1 + (quarter - 1) * 3) % 12 + 1
        first_year = year_start.year + (start - 1 + (quarter - 1) * 3) // 12
        return f"{fiscal_year}-Q{quarter}", date(first_year, first_month, 1)
    return f"FY{fiscal_year}", year_start


def series_by(figures: list[Measurement], grain: str) -> list[Period]:
    """The figures (in order) grouped by the period their end falls in, oldest first."""
    periods: dict[str, Period] = {}
    for figure in figures:
        label, first_day = period_of(figure.end, grain)
        periods.setdefault(label, Period(label, first_day)).figures.append(figure)
    return sorted(periods.values(), key=lambda p: p.first_day)


# --- The attention list and the dashboards -------------------------------------------------


def attention_items(today: date) -> QuerySet:
    """The functioning items of live services that are missed, stale or not measured, with
    their status: the rule of ``item_status`` read as one range of the item_attention_from
    index (portfolio.models.ATTENTION_FROM), in its order: those that missed or have no
    figure first, then the stale ones, longest overdue first."""
    items = (
        SpecificationItem.objects.alias(attention_from=ATTENTION_FROM)
        .filter(attention_from__lt=stale_before(today))
        .filter(dimension=Dimension.FUNCTIONING, service__lifecycle=ServiceLifecycle.LIVE)
        .order_by("attention_from", "id")
    )
    return with_item_status(items, today).select_related("service", "service__owner")


def attention_outcomes(today: date) -> QuerySet:
    """The outcomes of current subscriptions of live services that are not met: missed,
    stale, at risk or not measured."""
    outcomes = with_outcome_status(
        Outcome.objects.filter(
            subscription__retired_at__isnull=True,
            subscription__service__lifecycle=ServiceLifecycle.LIVE,
        ),
        today,
    )
    return outcomes.exclude(status=Standing.MET).select_related(
        "subscription__customer", "subscription__service", "specification_item"
    )


@dataclass(frozen=True)
class AttentionCounts:
    missed: int
    stale: int
    not_measured: int
    outcomes_at_risk: int
    outcomes_missed: int


def attention_counts(today: date) -> AttentionCounts:
    """How many of the portfolio's items and outcomes need attention, by status: two queries."""
    items = dict(attention_items(today).order_by().values_list("status").annotate(n=Count("pk")))
    outcomes = dict(
        attention_outcomes(today).order_by().values_list("status").annotate(n=Count("pk"))
    )
    return AttentionCounts(
        missed=items.get(Standing.MISSED, 0),
        stale=items.get(Standing.STALE, 0),
        not_measured=items.get(Standing.NOT_MEASURED, 0),
        outcomes_at_risk=outcomes.get(Standing.AT_RISK, 0),
        outcomes_missed=outcomes.get(Standing.MISSED, 0),
    )


@dataclass(frozen=True)
class OwnerSummary:
    items: int  # the functioning items of the user's services
    missed_last_month: int  # of them, those with a figure ending last month that missed
    stale: int
    month: date  # the first day of last month


def owner_summary(user, today: date) -> OwnerSummary:
    """For an owner's dashboard: how many of the targets of the services they own (or are a
    delegate of) were missed last month, and how many are stale: three queries."""
    mine = SpecificationItem.objects.filter(
        Q(service__owner=user) | Q(service__delegates=user),
        dimension=Dimension.FUNCTIONING,
        service__lifecycle=ServiceLifecycle.LIVE,
    ).values("pk")
    month_end = today.replace(day=1) - timedelta(days=1)
    month = month_end.replace(day=1)
    missed = (
        Measurement.objects.filter(item__in=mine, end__gte=month, end__lte=month_end, met=False)
        .values("item")
        .distinct()
        .count()
    )
    stale = SpecificationItem.objects.filter(pk__in=mine).filter(_stale(today)).count()
    return OwnerSummary(
        items=SpecificationItem.objects.filter(pk__in=mine).count(),
        missed_last_month=missed,
        stale=stale,
        month=month,
    )
