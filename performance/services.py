"""Writes of measurements and target history: the one place their rules live.

A figure is of exactly one functioning item or one outcome, ends on or after its start, and
is the only figure of its subject for those days. Its ``met`` is judged against the target
and comparator in force on its end day (``target_in_force``) by the write rule, so a single
save and a bulk sync store the same judgement. After figures are written, each subject's
standing (its latest figure's end, met, and the day the next figure is due) is refreshed in
one statement per model (``refresh_standing``), which keeps the status of thousands of items
an indexed read (performance.selectors).

Target history: whenever an item's or an outcome's target or comparator changes (services.py
saves and bulk syncs alike), a TargetChange from today is written and the figures ending from
today on are judged again (``record_target_changes``).
"""

import bisect
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from core import rules
from core.api.sync import rows_synced
from core.rules import Change
from core.rules import first_with
from performance.models import EXACTLY_ONE
from performance.models import Measurement
from performance.models import TargetChange
from portfolio.choices import DEFAULT_WINDOW
from portfolio.choices import WINDOW_DAYS
from portfolio.choices import Comparator
from portfolio.choices import Dimension
from portfolio.models import Outcome
from portfolio.models import SpecificationItem

SUBJECTS = (("item", SpecificationItem), ("outcome", Outcome))
NOT_FUNCTIONING = "Figures are kept for functioning items only: choose a functioning item."
TAKEN = "already has a figure for these days"


def judge(value: Decimal | None, target: Decimal | None, comparator: str) -> bool | None:
    """Whether ``value`` meets ``target`` under ``comparator`` (None: nothing to judge by)."""
    if value is None or target is None or not comparator:
        return None
    if comparator == Comparator.AT_LEAST:
        return value >= target
    return value <= target


@dataclass
class TargetHistory:
    """One subject's targets by day: its TargetChanges in order, and its current target for
    a subject with none recorded."""

    days: list[date] = field(default_factory=list)
    terms: list[tuple[Decimal | None, str]] = field(default_factory=list)
    current: tuple[Decimal | None, str] = (None, "")

    def on(self, day: date) -> tuple[Decimal | None, str]:
        """The target in force on ``day``: the latest change from that day or before; before
        the first recorded change, the first one (the target as first stated)."""
        if not self.days:
            return self.current
        index = bisect.bisect_right(self.days, day) - 1
        return self.terms[max(index, 0)]


def target_histories(kind: str, ids: Iterable[int]) -> dict[int, TargetHistory]:
    """The target history of each ``kind`` ("item" or "outcome") in ``ids``: two queries."""
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    model = dict(SUBJECTS)[kind]
    histories = {
        row["id"]: TargetHistory(current=(row["target"], row["comparator"]))
        for row in model._base_manager.filter(pk__in=wanted)
        .values("id", "target", "comparator")
        .order_by()
    }
    for subject_id, valid_from, target, comparator in (
        TargetChange.objects.filter(**{f"{kind}_id__in": wanted})
        .order_by("valid_from")
        .values_list(f"{kind}_id", "valid_from", "target", "comparator")
    ):
        history = histories[subject_id]
        history.days.append(valid_from)
        history.terms.append((target, comparator))
    return histories


# --- Measurements --------------------------------------------------------------------------


@dataclass
class MeasurementFacts:
    dimensions: dict[int, str]  # item id -> dimension
    histories: dict[str, dict[int, TargetHistory]]
    stored: dict[tuple, int]  # (kind, subject id, start, end) -> id of the stored figure
    first: dict[tuple, Change]  # the first change of the batch with each window


def _window_key(row: dict) -> tuple | None:
    for kind, _model in SUBJECTS:
        if row.get(f"{kind}_id") is not None and row.get("start") and row.get("end"):
            return (kind, row[f"{kind}_id"], row["start"], row["end"])
    return None


def _array(values) -> str:
    """A PostgreSQL array literal of ints or dates (psycopg's own adaptation of a list costs
    more than the query for a batch of thousands)."""
    return "{" + ",".join(str(value) for value in values) + "}"


def _stored_windows(changes: Sequence[Change]) -> dict[tuple, int]:
    """The stored figures for the batch's (subject, start, end): one query per subject kind,
    joining the batch's windows as arrays (a batch holds up to thousands)."""
    found: dict[tuple, int] = {}
    for kind, _model in SUBJECTS:
        keys = [key for c in changes if (key := _window_key(c.row)) and key[0] == kind]
        if not keys:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT m.id, m.{kind}_id, m.start, m."end"
                FROM performance_measurement m
                JOIN unnest(%s::bigint[], %s::date[], %s::date[]) AS k(subject, first, last)
                  ON m.{kind}_id = k.subject AND m.start = k.first AND m."end" = k.last
                """,
                [
                    _array(int(k[1]) for k in keys),
                    _array(k[2].isoformat() for k in keys),
                    _array(k[3].isoformat() for k in keys),
                ],
            )
            for pk, subject, start, end in cursor.fetchall():
                found[(kind, subject, start, end)] = pk
    return found


def measurement_facts(changes: Sequence[Change]) -> MeasurementFacts:
    """Facts of the measurement rule, for a whole batch: five queries at most."""
    item_ids = {c.row.get("item_id") for c in changes} - {None}
    dimensions = dict(
        SpecificationItem._base_manager.filter(pk__in=item_ids)
        .values_list("id", "dimension")
        .order_by()
    )
    return MeasurementFacts(
        dimensions=dimensions,
        histories={
            kind: target_histories(kind, {c.row.get(f"{kind}_id") for c in changes})
            for kind, _model in SUBJECTS
        },
        stored=_stored_windows(changes),
        first=first_with(changes, lambda c: _window_key(c.row)),
    )


@rules.rule(Measurement, facts=measurement_facts)
def measurement_rule(change: Change, facts: MeasurementFacts) -> None:
    """Exactly one subject, a functioning item (not a statement of functionality); the end
    on or after the start; one figure per subject and window; ``met`` judged against the
    target in force on the end day; a new figure remembers who recorded it."""
    row = change.row
    item_id, outcome_id = row.get("item_id"), row.get("outcome_id")
    if (item_id is None) == (outcome_id is None):
        change.error("item", EXACTLY_ONE)
        return
    if item_id is not None and facts.dimensions.get(item_id) != Dimension.FUNCTIONING:
        change.error("item", NOT_FUNCTIONING)
        return
    if row.get("start") and row.get("end") and row["end"] < row["start"]:
        change.error("end", "The end cannot be before the start.")
        return
    key = _window_key(row)
    if key is not None:
        kind = key[0]
        stored = facts.stored.get(key)
        if stored is not None and stored != row.get("id"):
            change.error("start", f"This {kind} {TAKEN}.")
            return
        first = facts.first.get(key)
        if first is not None and first is not change:
            change.error("start", f"Item {first.index} is a figure for the same days.")
            return
        history = facts.histories[kind].get(row[f"{kind}_id"])
        target, comparator = history.on(row["end"]) if history else (None, "")
        row["met"] = judge(row.get("value"), target, comparator)
    if change.is_new and row.get("recorded_by_id") is None and change.writer.user is not None:
        row["recorded_by_id"] = change.writer.user.pk


def save_measurement(*, measurement: Measurement, user=None) -> Measurement:
    """Record or correct one figure (measurement_rule), then refresh its subject's standing
    (and the standing of the subject it moved from)."""
    before = rules.stored_row(measurement)
    rules.save_checked(measurement, user=user, validate_unique=False)
    refresh_standing_of_rows([before, rules.row_of(measurement)])
    return measurement


def remove_measurement(*, measurement: Measurement) -> None:
    row = rules.row_of(measurement)
    measurement.delete()
    refresh_standing_of_rows([row])


# --- Standing: each subject's latest figure, kept on the subject ----------------------------


def _due_days_sql(default: str | None) -> str:
    """SQL for the days one window spans, from the subject's ``window`` column."""
    cases = " ".join(f"WHEN '{window}' THEN {days}" for window, days in WINDOW_DAYS.items())
    fallback = WINDOW_DAYS[default] if default else "NULL"
    return f"CASE s.window {cases} ELSE {fallback} END"


def refresh_standing(*, item_ids: Iterable[int] = (), outcome_ids: Iterable[int] = ()) -> None:
    """Set each subject's ``measured_until``, ``measured_met`` and ``measurement_due`` from
    its latest figure (by end, then start): one statement per kind of subject."""
    for kind, model, ids, default in (
        ("item", SpecificationItem, item_ids, None),
        ("outcome", Outcome, outcome_ids, DEFAULT_WINDOW),
    ):
        wanted = sorted({pk for pk in ids if pk is not None})
        if not wanted:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {model._meta.db_table} AS s
                SET measured_until = latest.last_end,
                    measured_met = latest.met,
                    measurement_due = latest.last_end + ({_due_days_sql(default)})
                FROM (
                    SELECT ids.id, last.last_end, last.met
                    FROM unnest(%s::bigint[]) AS ids(id)
                    LEFT JOIN LATERAL (
                        SELECT m."end" AS last_end, m.met
                        FROM performance_measurement m
                        WHERE m.{kind}_id = ids.id
                        ORDER BY m."end" DESC, m.start DESC, m.id DESC
                        LIMIT 1
                    ) AS last ON TRUE
                ) AS latest
                WHERE s.id = latest.id
                """,
                [_array(wanted)],
            )


def refresh_standing_of_rows(rows: Iterable[dict[str, Any] | None]) -> None:
    """Refresh the subjects that the measurement rows (by attname; None skipped) name."""
    item_ids: set[int] = set()
    outcome_ids: set[int] = set()
    for row in rows:
        if row is not None:
            item_ids.add(row.get("item_id"))
            outcome_ids.add(row.get("outcome_id"))
    refresh_standing(item_ids=item_ids - {None}, outcome_ids=outcome_ids - {None})


# --- Target history ------------------------------------------------------------------------


def _subject_kind(model) -> str:
    return {m: kind for kind, m in SUBJECTS}[model]


def record_target_changes(
    model, changes: Sequence[tuple[dict | None, dict | None]], *, today: date | None = None
) -> None:
    """After items or outcomes were written ((before, after) rows by attname, before None
    for a new record): where the target or comparator is new or moved, write the terms in
    force from ``today`` and judge again the figures that end from today on; where the
    window moved, refresh the standing (the next figure is due one window later)."""
    today = today or timezone.localdate()
    kind = _subject_kind(model)
    rejudge: list[int] = []
    window_moved: list[int] = []
    for before, after in changes:
        if after is None:
            continue
        terms = (after.get("target"), after.get("comparator") or "")
        if before is None:
            if terms[0] is None and not terms[1]:
                continue
        elif terms == (before.get("target"), before.get("comparator") or ""):
            if before.get("window") != after.get("window"):
                window_moved.append(after["id"])
            continue
        TargetChange.objects.update_or_create(
            **{f"{kind}_id": after["id"], "valid_from": today},
            defaults={"target": terms[0], "comparator": terms[1]},
        )
        rejudge.append(after["id"])
    if rejudge:
        _rejudge(kind, rejudge, today)
    if rejudge or window_moved:
        refresh_standing(**{f"{kind}_ids": [*rejudge, *window_moved]})


def _rejudge(kind: str, subject_ids: list[int], today: date) -> None:
    """Judge again the figures of ``subject_ids`` that the new terms from ``today`` govern:
    those ending from today on, and all of a subject whose first terms these are."""
    histories = target_histories(kind, subject_ids)
    first_terms = {pk for pk, h in histories.items() if h.days and h.days[0] == today}
    figures = Measurement.objects.filter(**{f"{kind}_id__in": subject_ids}).filter(
        Q(end__gte=today) | Q(**{f"{kind}_id__in": first_terms})
    )
    changed = []
    for figure in figures.only("id", f"{kind}_id", "end", "value", "met"):
        history = histories[getattr(figure, f"{kind}_id")]
        met = judge(figure.value, *history.on(figure.end))
        if met != figure.met:
            figure.met = met
            changed.append(figure)
    Measurement.objects.bulk_update(changed, ["met"])


def record_target_change_of(instance, before: dict | None) -> None:
    """After a services.py save of an item or outcome: its target history (one record)."""
    record_target_changes(type(instance), [(before, rules.row_of(instance))])


def after_sync(sender, changes=(), **kwargs) -> None:
    """A bulk sync wrote rows with SQL: the same bookkeeping as the single saves, per batch."""
    if sender is Measurement:
        refresh_standing_of_rows(row for pair in changes for row in pair)
    elif sender in (SpecificationItem, Outcome):
        record_target_changes(sender, list(changes))


rows_synced.connect(after_sync, dispatch_uid="performance-after-sync")
