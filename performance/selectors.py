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

from datetime import date
from datetime import timedelta

from django.conf import settings
from django.db.models import Case
from django.db.models import CharField
from django.db.models import DateField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Now
from django.db.models.functions import TruncDate

from performance.choices import Standing
from performance.models import Measurement
from portfolio.choices import Dimension
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
