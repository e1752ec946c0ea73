"""Write rules: each model's business rules, written once, over rows.

A rule judges a ``Change``: the row a write would store (by attname: ``service_id``), the row
stored before it (None for a new record) and who writes when. It may complete the row (stamp
a date, number a position, clear a measure that means nothing) and refuse a field with a
message. What it needs from the database it gets from its facts loader, which reads for a
whole batch of changes at once, in a constant number of queries.

Every write path applies the same rules. A services.py function that saves one record calls
``enforce(instance, user=...)`` (``save_checked`` does that, the clean and the save); the
sync engine (core.api.sync) calls ``apply(model, changes)`` on a batch. Both then run the
model's own ``clean()``. An app declares its rules in its services module::

    @rules.rule(Subscription, facts=subscription_facts)
    def subscription_rule(change: Change, facts: SubscriptionFacts) -> None:
        if change.row["end_date"] < change.row["start_date"]:
            change.error("end_date", "The end date cannot be before the start date.")
"""

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Writer:
    """Who writes, and when: one moment for a whole batch."""

    user: Any = None
    now: datetime = field(default_factory=timezone.now)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)


@dataclass(eq=False)
class Change:
    """One record's write as the rules see it."""

    row: dict[str, Any]
    before: dict[str, Any] | None = None
    writer: Writer = field(default_factory=Writer)
    # Its place in a sync batch, for messages that name another item ("Item 3 has …").
    index: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        return self.before is None

    def moved(self, attname: str) -> bool:
        """Whether an existing record's ``attname`` changes (never for a new record)."""
        return self.before is not None and self.row.get(attname) != self.before.get(attname)

    def error(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


Check = Callable[[Change, Any], None]
Facts = Callable[[Sequence[Change]], Any]


@dataclass(frozen=True)
class Rule:
    """``check(change, facts)`` on each change; ``facts(changes)`` once per batch (or None)."""

    check: Check
    facts: Facts | None = None


_rules: dict[type[models.Model], list[Rule]] = defaultdict(list)


def rule(model: type[models.Model], *, facts: Facts | None = None) -> Callable[[Check], Check]:
    """Register the decorated function as a rule of ``model`` (after those registered before)."""

    def register(check: Check) -> Check:
        add(model, Rule(check=check, facts=facts))
        return check

    return register


def add(model: type[models.Model], new_rule: Rule) -> None:
    if new_rule not in _rules[model]:
        _rules[model].append(new_rule)


def apply(model: type[models.Model], changes: Sequence[Change]) -> None:
    """Run every rule of ``model`` on ``changes``, in order; a change refused by one rule is
    not shown to the next (as a services function stops at its first refusal)."""
    for each in _rules.get(model, ()):
        live = [change for change in changes if not change.refused]
        if not live:
            return
        facts = each.facts(live) if each.facts is not None else None
        for change in live:
            each.check(change, facts)


def row_of(instance: models.Model) -> dict[str, Any]:
    """A record's concrete fields by attname, as a sync row has them."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def stored_row(instance: models.Model) -> dict[str, Any] | None:
    """The row stored for ``instance`` (None for a record not saved yet)."""
    if instance.pk is None:
        return None
    model = type(instance)
    attnames = [f.attname for f in model._meta.concrete_fields]
    return model._base_manager.filter(pk=instance.pk).values(*attnames).first()


def change_of(instance: models.Model, *, user: Any = None) -> Change:
    return Change(row=row_of(instance), before=stored_row(instance), writer=Writer(user=user))


def enforce(instance: models.Model, *, user: Any = None) -> Change:
    """Apply the rules of ``instance``'s model to it before it is saved: the row they complete
    is set back on the instance; refusals raise ValidationError naming their fields."""
    change = change_of(instance, user=user)
    apply(type(instance), [change])
    if change.refused:
        raise ValidationError(change.errors)
    for attname, value in change.row.items():
        if getattr(instance, attname) != value:
            setattr(instance, attname, value)
    return change


def save_checked(instance: M, *, user: Any = None, validate_unique: bool = True) -> M:
    """Save one record as a services.py function does: its model's rules (``enforce``), then
    the model's own ``full_clean`` (``validate_unique=False`` where a rule already reports a
    taken pair in its own words), then the save."""
    enforce(instance, user=user)
    instance.full_clean(validate_unique=validate_unique)
    instance.save()
    return instance


def first_with(changes: Sequence[Change], key: Callable[[Change], Any]) -> dict[Any, Change]:
    """Facts helper: per key (None keys left out), the first change of the batch that has it;
    a later change with the same key names it ("Item 0 has the same reference.")."""
    first: dict[Any, Change] = {}
    for change in changes:
        value = key(change)
        if value is not None:
            first.setdefault(value, change)
    return first


def stored_pairs(
    model, changes: Sequence[Change], first: str, second: str, *, either_way: bool = False
) -> dict[tuple, int]:
    """Facts helper: the stored ``model`` records joining the changes' pairs (by the attnames
    ``first`` and ``second``; ``either_way``: in either order), pair -> id, in one query."""
    condition = models.Q(pk__in=[])
    for change in changes:
        a, b = change.row[first], change.row[second]
        if a is not None and b is not None:
            condition |= models.Q(**{first: a, second: b})
            if either_way:
                condition |= models.Q(**{first: b, second: a})
    return {
        (a, b): pk
        for pk, a, b in model._base_manager.filter(condition)
        .values_list("pk", first, second)
        .order_by()
    }


def pair_taken(change: Change, stored: dict[tuple, int], first: str, second: str) -> bool:
    """Whether another record than the change's own holds its pair (see ``stored_pairs``)."""
    pk = stored.get((change.row[first], change.row[second]))
    return pk is not None and pk != change.row.get("id")


def values_by_id(model: type[models.Model], ids, *fields: str) -> dict[int, dict[str, Any]]:
    """Facts helper: ``fields`` of the ``model`` records in ``ids``, by id, in one query."""
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return {
        row["id"]: row
        for row in model._base_manager.filter(pk__in=wanted).values("id", *fields).order_by()
    }


# --- Effective-dated edges ---------------------------------------------------------------------

ENDS_BEFORE_START = "It cannot end before it starts: give a last day on or after the first day."


def overlaps(a_from, a_to, b_from, b_to) -> bool:
    """Whether two spans of days overlap, both ends inclusive, an empty end being open."""
    return (a_from is None or b_to is None or a_from <= b_to) and (
        b_from is None or a_to is None or b_from <= a_to
    )


def span_text(valid_from, valid_to) -> str:
    """A span of days in words: ``from 2026-01-01 to 2026-03-31``, ``until 2026-03-31``."""
    if valid_from and valid_to:
        return f"from {valid_from.isoformat()} to {valid_to.isoformat()}"
    if valid_from:
        return f"from {valid_from.isoformat()}"
    if valid_to:
        return f"until {valid_to.isoformat()}"
    return ""


@dataclass
class DatedPairs:
    """Facts of an overlap rule: per pair, the stored edges the batch does not rewrite, as
    (id, valid_from, valid_to), and the batch's own changes in order."""

    stored: dict[tuple, list[tuple[int, Any, Any]]]
    batch: dict[tuple, list[Change]]


def dated_pairs(model, changes: Sequence[Change], first: str, second: str) -> DatedPairs:
    """Facts helper: the stored ``model`` edges joining the changes' pairs (the attnames
    ``first`` and ``second``) with their days, in one query, and the batch by pair."""
    condition = models.Q(pk__in=[])
    batch: dict[tuple, list[Change]] = defaultdict(list)
    rewritten = set()
    for change in changes:
        a, b = change.row[first], change.row[second]
        if change.row.get("id") is not None:
            rewritten.add(change.row["id"])
        if a is not None and b is not None:
            condition |= models.Q(**{first: a, second: b})
            batch[(a, b)].append(change)
    stored: dict[tuple, list[tuple[int, Any, Any]]] = defaultdict(list)
    for pk, a, b, valid_from, valid_to in (
        model._base_manager.filter(condition)
        .exclude(pk__in=rewritten)
        .values_list("pk", first, second, "valid_from", "valid_to")
        .order_by(models.F("valid_from").asc(nulls_first=True), "pk")
    ):
        stored[(a, b)].append((pk, valid_from, valid_to))
    return DatedPairs(stored=stored, batch=batch)


def dated_overlap(change: Change, facts: DatedPairs, first: str, second: str, taken: str):
    """The refusal of an edge whose days overlap another edge of its pair, or None. ``taken``
    says the pair is already recorded (``"This dependency is already recorded"``); the
    stored edge's days follow when it has any."""
    row = change.row
    pair = (row[first], row[second])
    mine = (row.get("valid_from"), row.get("valid_to"))
    for _pk, valid_from, valid_to in facts.stored.get(pair, ()):
        if overlaps(*mine, valid_from, valid_to):
            span = span_text(valid_from, valid_to)
            return f"{taken} {span}: the days overlap." if span else f"{taken}."
    for other in facts.batch.get(pair, ()):
        if other is change:
            break
        if overlaps(*mine, other.row.get("valid_from"), other.row.get("valid_to")):
            return f"Item {other.index} is the same pair on some of these days."
    return None


def effective_dated(
    model: type[models.Model], first: str, second: str, taken: str, *, field_name: str = ""
) -> None:
    """Register the rules of an effective-dated edge between ``first`` and ``second`` (the
    attnames): it does not end before it starts (refused under ``valid_to``), and no two edges
    of one pair are in force on the same day, stored or in one batch (refused under
    ``field_name``, by default the field of ``second``, with ``taken`` and the days of the
    edge it overlaps)."""
    field_name = field_name or second.removesuffix("_id")

    def facts(changes: Sequence[Change]) -> DatedPairs:
        return dated_pairs(model, changes, first, second)

    def check(change: Change, pairs: DatedPairs) -> None:
        valid_from, valid_to = change.row.get("valid_from"), change.row.get("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            change.error("valid_to", ENDS_BEFORE_START)
            return
        refusal = dated_overlap(change, pairs, first, second, taken)
        if refusal:
            change.error(field_name, refusal)

    add(model, Rule(check=check, facts=facts))


# --- Driven edges ------------------------------------------------------------------------------


@dataclass
class SourceEdges:
    """Facts of the one-driver rule: per source, the stored edges the batch does not rewrite,
    as (valid_from, valid_to, driver id), the batch's own changes, and driver names by id."""

    stored: dict[Any, list[tuple[Any, Any, Any]]]
    batch: dict[Any, list[Change]]
    driver_names: dict[int, str]
    retired_drivers: set[int]


def driven_by_text(driver_id, names: dict[int, str]) -> str:
    return f"driven by {names.get(driver_id, driver_id)}" if driver_id is not None else "weighted"


def one_driver_per_source(model: type[models.Model], source: str, noun: str) -> None:
    """Register the rule of an allocation edge that may be driven (a ``driver`` field): the
    edges from one source (the attname ``source``) in force on a same day are all weighted
    or all driven by the same driver, stored or in one batch (refused under ``driver``), so
    each month's share of the source is explainable; and a retired driver drives no new
    edge. ``noun`` names the source in the message (``"pool"``)."""
    driver_model = model._meta.get_field("driver").related_model

    def facts(changes: Sequence[Change]) -> SourceEdges:
        sources = {change.row[source] for change in changes if change.row[source] is not None}
        rewritten = {change.row["id"] for change in changes if change.row.get("id") is not None}
        stored: dict[Any, list[tuple[Any, Any, Any]]] = defaultdict(list)
        for key, valid_from, valid_to, driver_id in (
            model._base_manager.filter(**{f"{source}__in": sources})
            .exclude(pk__in=rewritten)
            .values_list(source, "valid_from", "valid_to", "driver_id")
            .order_by(models.F("valid_from").asc(nulls_first=True), "pk")
        ):
            stored[key].append((valid_from, valid_to, driver_id))
        batch: dict[Any, list[Change]] = defaultdict(list)
        for change in changes:
            batch[change.row[source]].append(change)
        wanted = {change.row.get("driver_id") for change in changes} | {
            driver_id for edges in stored.values() for *_, driver_id in edges
        }
        drivers = values_by_id(driver_model, wanted, "name", "retired_at")  # type: ignore[arg-type]
        return SourceEdges(
            stored,
            batch,
            {pk: row["name"] for pk, row in drivers.items()},
            {pk for pk, row in drivers.items() if row["retired_at"] is not None},
        )

    def check(change: Change, edges: SourceEdges) -> None:
        row = change.row
        mine = row.get("driver_id")
        if mine in edges.retired_drivers and (change.is_new or change.moved("driver_id")):
            change.error("driver", "This driver is retired: it drives no new edge.")
            return
        days = (row.get("valid_from"), row.get("valid_to"))
        for valid_from, valid_to, driver_id in edges.stored.get(row[source], ()):
            if driver_id != mine and overlaps(*days, valid_from, valid_to):
                span = span_text(valid_from, valid_to)
                described = driven_by_text(driver_id, edges.driver_names)
                change.error(
                    "driver",
                    f"Another edge of this {noun} in force {span or 'on these days'} is "
                    f"{described}: the edges of one {noun} in force together are all weighted or "
                    "all driven by the same driver.",
                )
                return
        for other in edges.batch.get(row[source], ()):
            if other is change:
                break
            if other.row.get("driver_id") != mine and overlaps(
                *days, other.row.get("valid_from"), other.row.get("valid_to")
            ):
                change.error(
                    "driver",
                    f"Item {other.index} is an edge of the same {noun} on some of these days "
                    f"and is {driven_by_text(other.row.get('driver_id'), edges.driver_names)}.",
                )
                return

    add(model, Rule(check=check, facts=facts))
