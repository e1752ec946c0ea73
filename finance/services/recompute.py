"""Scheduling the roll-up: a burst of edits marks periods dirty and becomes one run."""

import json
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TypeVar

from celery import signature
from django.db import connection
from django.db import transaction
from django.db.models import F
from django.db.models import Q
from django.utils import timezone

from finance.choices import PeriodStatus
from finance.choices import RunTrigger
from finance.models import Period
from finance.models import TcoRun
from finance.services.outbox import send_queued_tasks
from finance.services.rollup import reap_interrupted_runs
from finance.services.rollup import recompute_dirty_periods

logger = logging.getLogger(__name__)

Callback = TypeVar("Callback")


# A burst of edits becomes one run: the task waits this long before it looks for dirty periods.
COALESCE_SECONDS = 10
# ... or this long when every change is known node by node (cost booked on a service, an
# application, a contract or a pool): the run recomputes only what those nodes reach.
QUICK_COALESCE_SECONDS = 0.2
# More changed nodes than this make the next run a full one (as fast, and simpler).
MAX_CHANGED_NODES = 500
# A dirty marker older than this with no run since means the task was lost: enqueue again.
STALE_AFTER = timedelta(minutes=15)
# Tasks are sent by name: finance.tasks calls these services, not the other way round.
RECOMPUTE_TASK = "finance.tasks.recompute_dirty_periods"


class PendingRecompute:
    """What changed in one transaction. On commit it marks the affected open periods dirty
    with one UPDATE and enqueues the recomputation task only if a period became dirty
    (a task is already waiting for the others)."""

    def __init__(self):
        self.done = False
        self.all_periods = False
        # (period id, months from it; None = that period and every later one)
        self.spans: set[tuple[int, int | None]] = set()
        # The spans of changes known node by node, and those nodes ("service:12").
        self.node_spans: set[tuple[int, int | None]] = set()
        self.nodes: set[str] = set()

    def add(
        self,
        *,
        period_id: int | None = None,
        months: int | None = 1,
        all_periods=False,
        nodes: Iterable[tuple[str, int]] = (),
    ):
        keys = {f"{kind}:{pk}" for kind, pk in nodes}
        if all_periods or period_id is None:
            self.all_periods = True
        elif keys:
            self.node_spans.add((period_id, months))
            self.nodes |= keys
        else:
            self.spans.add((period_id, months))

    @property
    def countdown(self) -> float:
        """How long the task waits for more changes: briefly when the run will be an
        incremental one."""
        if self.all_periods or self.spans:
            return COALESCE_SECONDS
        return QUICK_COALESCE_SECONDS

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            if mark_dirty(self):
                enqueue_recompute(countdown=self.countdown)
        except Exception as exc:  # the marker stays: the minute's sweep takes it up
            logger.warning("Could not schedule the TCO recomputation: %s", exc)


def _spanned(spans: set[tuple[int, int | None]]) -> Q:
    """The periods ``spans`` cover."""
    starts = dict(Period.objects.filter(pk__in={pk for pk, _ in spans}).values_list("pk", "serial"))
    condition = Q(pk__in=[])
    for period_id, months in spans:
        start = starts.get(period_id)
        if start is None:
            continue
        if months is None:
            condition |= Q(serial__gte=start)
        else:
            condition |= Q(serial__gte=start, serial__lt=start + months)
    return condition


# Adds nodes to a period's changed nodes, once each; null stays null (a full run is due), and
# more than MAX_CHANGED_NODES make it null.
ADD_CHANGED_NODES_SQL = """
    UPDATE {table} SET changed_nodes = CASE
        WHEN changed_nodes IS NULL THEN NULL
        ELSE (SELECT CASE WHEN COUNT(DISTINCT node) > %(limit)s THEN NULL
                          ELSE jsonb_agg(DISTINCT node) END
                FROM jsonb_array_elements(changed_nodes || %(nodes)s::jsonb) AS node)
    END
    WHERE id = ANY(%(ids)s)
"""


def mark_dirty(pending: PendingRecompute) -> bool:
    """Mark the affected open periods dirty, with the nodes the changes touched (or null
    when some change is not known node by node); True when a task should be enqueued."""
    open_periods = Period.objects.filter(status=PeriodStatus.OPEN)
    # The nodes are recorded before the change is counted (change_serial, below): a run that
    # reads the count after it has read the nodes too, and one that read the nodes without
    # the count leaves them for the next run.
    if pending.all_periods:
        unknown = open_periods
    else:
        unknown = open_periods.filter(_spanned(pending.spans))
        if pending.node_spans:
            known = open_periods.filter(_spanned(pending.node_spans))
            ids = list(known.values_list("pk", flat=True))
            if ids:
                with connection.cursor() as cursor:
                    cursor.execute(
                        ADD_CHANGED_NODES_SQL.format(table=Period._meta.db_table),
                        {
                            "nodes": json.dumps(sorted(pending.nodes)),
                            "limit": MAX_CHANGED_NODES,
                            "ids": ids,
                        },
                    )
            open_periods = open_periods.filter(Q(pk__in=ids) | Q(pk__in=unknown.values("pk")))
        else:
            open_periods = unknown
    unknown.update(changed_nodes=None)
    # Every change counts, even on a period already dirty: a run that read its inputs before
    # it sees the count move and leaves the period dirty (rollup._recompute_held).
    open_periods.update(change_serial=F("change_serial") + 1)
    now = timezone.now()
    newly = open_periods.filter(recompute_requested_at__isnull=True).update(
        recompute_requested_at=now
    )
    stale = open_periods.filter(recompute_requested_at__lt=now - STALE_AFTER).update(
        recompute_requested_at=now
    )
    return bool(newly or stale)


def enqueue_recompute(countdown: float = COALESCE_SECONDS) -> None:
    signature(RECOMPUTE_TASK).apply_async(countdown=countdown)


def waiting_for_commit(kind: type[Callback]) -> list[Callback]:
    """The callbacks of class ``kind`` that the current transaction will run on commit.

    This is the one place that reads Django's private ``connection.run_on_commit``: a list of
    ``(savepoint ids, callback, robust)`` tuples, one per ``transaction.on_commit`` call made
    inside an atomic block; rolling back a savepoint drops the tuples made under it, and
    committing runs the rest in order. tests/finance/test_on_commit.py fails if Django
    changes that shape; the unpacking below fails loudly rather than misread it.
    """
    found = []
    for _savepoint_ids, callback, _robust in transaction.get_connection().run_on_commit:
        if isinstance(callback, kind):
            found.append(callback)
    return found


def discard_scheduled_recompute() -> None:
    """Drop the recomputation this transaction scheduled (for a loader that rolls up every
    period it touched itself before committing)."""
    for pending in waiting_for_commit(PendingRecompute):
        pending.done = True


def request_recompute(
    *,
    period_id: int | None = None,
    months: int | None = 1,
    all_periods=False,
    nodes: Iterable[tuple[str, int]] = (),
):
    """Schedule a recomputation of the open periods a change affects, after commit.
    ``nodes``: when the change is only to the cost recorded against these nodes, so that
    the run may recompute only what they reach.

    All requests of one transaction share one PendingRecompute, so a thousand edits make one
    UPDATE and at most one task.
    """
    request = {
        "period_id": period_id,
        "months": months,
        "all_periods": all_periods,
        "nodes": tuple(nodes),
    }
    if transaction.get_connection().in_atomic_block:
        for pending in waiting_for_commit(PendingRecompute):
            if not pending.done:
                pending.add(**request)
                return
    pending = PendingRecompute()
    pending.add(**request)
    transaction.on_commit(pending, robust=True)


def recompute_changed_periods() -> list[TcoRun]:
    """The task's work: recompute the dirty periods; a period that changed again while it
    ran stays dirty, and is taken up by the next task at once (the changes made during a run
    coalesce into the next one)."""
    runs = recompute_dirty_periods(trigger=RunTrigger.CHANGE)
    again = Period.objects.filter(
        pk__in={run.period_id for run in runs},
        status=PeriodStatus.OPEN,
        recompute_requested_at__isnull=False,
    ).values_list("changed_nodes", flat=True)
    if again:
        quick = all(nodes for nodes in again)
        try:
            enqueue_recompute(countdown=QUICK_COALESCE_SECONDS if quick else COALESCE_SECONDS)
        except Exception as exc:  # the marker stays: the minute's sweep takes it up
            logger.warning("Could not schedule the TCO recomputation: %s", exc)
    return runs


def sweep() -> dict[str, int]:
    """The minute's sweep: the tasks queued while the broker was unreachable are sent, runs
    left ``running`` by a dead process are marked failed and their periods dirty again, then
    every period dirty for longer than the coalescing delay is recomputed here (its task was
    lost, the broker was down, or its worker died)."""
    sent = send_queued_tasks()
    reaped = reap_interrupted_runs()
    settled = timezone.now() - timedelta(seconds=COALESCE_SECONDS)
    runs = recompute_dirty_periods(trigger=RunTrigger.CHANGE, marked_before=settled)
    return {"sent": sent, "reaped": len(reaped), "recomputed": len(runs)}
