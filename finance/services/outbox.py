"""Background tasks asked for by a change are written to the database in the change's own
transaction (QueuedTask) and sent to the broker after commit. While the broker is
unreachable they wait there: the request that asked still gets its answer, and the minute's
sweep sends them once the broker answers again. Sent at least once; the tasks are idempotent."""

import logging

from celery import signature
from django.db import transaction
from django.db.models import F
from kombu.exceptions import OperationalError as BrokerUnreachable

from finance.models import QueuedTask

logger = logging.getLogger(__name__)


def queue_task(*, task: str, args: list | None = None, kwargs: dict | None = None) -> QueuedTask:
    """Queue ``task`` (a task name) in the current transaction; it is sent after commit."""
    queued = QueuedTask.objects.create(task=task, args=args or [], kwargs=kwargs or {})
    transaction.on_commit(send_queued_tasks, robust=True)
    return queued


def send_queued_tasks() -> int:
    """Send the queued tasks to the broker, oldest first, each once even with several
    senders; the number sent. Stops at the first the broker refuses: it is down, and the
    sweep tries again. A task refused for another reason is kept with its error."""
    sent, refused = 0, set()
    while True:
        with transaction.atomic():
            queued = (
                QueuedTask.objects.select_for_update(skip_locked=True)
                .exclude(pk__in=refused)
                .order_by("pk")
                .first()
            )
            if queued is None:
                return sent
            try:
                signature(queued.task, args=queued.args, kwargs=queued.kwargs).apply_async()
            except BrokerUnreachable as exc:
                _record_attempt(queued, exc)
                logger.warning("The job queue is unreachable; %s stays queued: %s", queued, exc)
                return sent
            except Exception as exc:
                _record_attempt(queued, exc)
                logger.exception("Could not send %s", queued)
                refused.add(queued.pk)
                continue
            queued.delete()
            sent += 1


def _record_attempt(queued: QueuedTask, exc: Exception) -> None:
    QueuedTask.objects.filter(pk=queued.pk).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
    )


def is_sent(queued: QueuedTask) -> bool:
    """Whether ``queued`` has reached the broker (it is no longer waiting)."""
    return not QueuedTask.objects.filter(pk=queued.pk).exists()
