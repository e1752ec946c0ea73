"""Sync sessions: one sync sent in many requests, written at once.

A CMDB whose export is larger than one request (MAX_ITEMS items) opens a session, sends the
export in batches, and commits: the commit runs ``core.api.sync.sync_many`` over every item
sent, in one transaction, so a full sync retires only what the WHOLE export left out, with
the 20 % guard weighed on the whole. Until the commit nothing is written but the batches
(one JSONB row each); an item whose shape is wrong (unknown field, wrong type) is refused
when its batch is sent, the rest (references, rights, rules) is checked at the commit.

States: ``open`` (batches may be added), ``committed``, ``failed`` (the commit found bad or
forbidden items: nothing was written and the batches are deleted; open a new session), and
``expired`` (not committed within PORTICO_SYNC_SESSION_HOURS: the beat task
``core.tasks.expire_sync_sessions`` deletes its batches, and a commit answers 409). A commit
refused with 409 (too many retirements, a concurrent change) and a dry run leave the session
open. Only its opener, or a superuser, may use a session.
"""

import contextlib
import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.api.errors import Conflict
from core.api.errors import Forbidden
from core.api.errors import Invalid
from core.api.errors import PayloadTooLarge
from core.api.items import parse_item
from core.api.sync import FULL
from core.api.sync import MAX_ITEMS
from core.api.sync import sync_many
from core.choices import Channel
from core.choices import SyncSessionState
from core.models import SyncSession
from core.models import SyncSessionBatch

# A session is read back whole at its commit: this bounds the memory one commit takes.
MAX_SESSION_ITEMS = 500_000
COUNTS = ("created", "updated", "unchanged", "retired", "deleted")


def lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.PORTICO_SYNC_SESSION_HOURS)


def syncable(resource) -> bool:
    return resource.is_syncable


def visible_sessions(user):
    """The sessions ``user`` may use: their own; a superuser's, every one."""
    sessions = SyncSession.objects.all()
    return sessions if user.is_superuser else sessions.filter(user=user)


def open_session(*, user, resource, source: str, mode: str) -> SyncSession:
    return SyncSession.objects.create(
        user=user,
        resource=resource.name,
        source=source,
        mode=mode,
        expires_at=timezone.now() + lifetime(),
    )


def _locked(session: SyncSession) -> SyncSession:
    """The session's row, locked for this transaction (batches and the commit queue up)."""
    return SyncSession.objects.select_for_update().get(pk=session.pk)


def _require_open(session: SyncSession, *, now: datetime.datetime) -> None:
    if session.state == SyncSessionState.OPEN and session.expires_at <= now:
        raise Conflict(
            f"Sync session {session.pk} expired at {session.expires_at.isoformat()}: nothing "
            "was written. Open a new session and send the items again.",
            code="session_expired",
        )
    if session.state != SyncSessionState.OPEN:
        raise Conflict(
            f"Sync session {session.pk} is {session.state}: it takes no more batches or commits.",
            code=f"session_{session.state}",
        )


def add_batch(*, session: SyncSession, resource, items: list) -> SyncSession:
    """Store ``items`` as the session's next batch once each reads against the resource's
    field specs; errors name the item's index in the whole session (``items.<i>.<field>``)."""
    if len(items) > MAX_ITEMS:
        raise PayloadTooLarge(
            f"A batch holds at most {MAX_ITEMS} items; this one has {len(items)}.",
            code="too_many_items",
        )
    with _expiring(session), transaction.atomic():
        session = _locked(session)
        _require_open(session, now=timezone.now())
        if session.item_count + len(items) > MAX_SESSION_ITEMS:
            raise PayloadTooLarge(
                f"A session holds at most {MAX_SESSION_ITEMS} items: commit this one and open "
                "another for the rest (in upsert mode).",
                code="too_many_items",
            )
        errors: dict[str, list[str]] = {}
        for index, item in enumerate(items, start=session.item_count):
            errors.update(parse_item(resource, item, prefix=f"items.{index}.")[3])
        if errors:
            bad = len({path.split(".")[1] for path in errors})
            raise Invalid(
                f"{bad} of the {len(items)} items of this batch are malformed; the batch was "
                "not stored.",
                errors=errors,
            )
        SyncSessionBatch.objects.create(
            session=session,
            position=session.batch_count,
            first_index=session.item_count,
            items=items,
        )
        session.batch_count += 1
        session.item_count += len(items)
        session.save(update_fields=["batch_count", "item_count"])
    return session


@contextlib.contextmanager
def _expiring(session: SyncSession):
    """A session found past its time is marked expired (after the refused request's
    transaction has rolled back), whether or not the beat task has come by yet."""
    try:
        yield
    except Conflict as exc:
        if exc.default_code == "session_expired":
            with transaction.atomic():
                locked = _locked(session)
                if locked.state == SyncSessionState.OPEN:
                    expire(locked)
        raise


def commit(
    *,
    session: SyncSession,
    resource,
    user,
    allow_mass_retire: bool = False,
    dry_run: bool = False,
    progress=None,
) -> dict:
    """Sync every item the session holds, in one transaction; the sync's answer, with the
    session's id and state. See the module docstring for what a refusal does to it."""
    try:
        with _expiring(session), transaction.atomic():
            session = _locked(session)
            _require_open(session, now=timezone.now())
            items = [
                item
                for batch in SyncSessionBatch.objects.filter(session=session)
                .order_by("position")
                .values_list("items", flat=True)
                .iterator(chunk_size=20)
                for item in batch
            ]
            answer = sync_many(
                resource,
                user=user,
                source=session.source,
                mode=session.mode,
                items=items,
                allow_mass_retire=allow_mass_retire and session.mode == FULL,
                dry_run=dry_run,
                channel=Channel.SYNC,
                progress=progress,
            )
            if not dry_run:
                session.state = SyncSessionState.COMMITTED
                session.finished_at = timezone.now()
                session.counts = {name: answer[name] for name in COUNTS}
                session.save(update_fields=["state", "finished_at", "counts"])
                SyncSessionBatch.objects.filter(session=session).delete()
    except (Invalid, Forbidden) as exc:
        _fail(session, exc)
        raise
    return {"session": session.pk, "state": session.state, **answer}


def _fail(session: SyncSession, exc: Invalid | Forbidden) -> None:
    """The stored items are bad or forbidden: they cannot be mended in place, so the session
    ends (nothing was written), its batches go, and the answer is kept on it."""
    with transaction.atomic():
        session = _locked(session)
        if session.state != SyncSessionState.OPEN:
            return
        session.state = SyncSessionState.FAILED
        session.finished_at = timezone.now()
        session.failure = {"status": exc.status_code, "detail": str(exc.detail)}
        session.save(update_fields=["state", "finished_at", "failure"])
        SyncSessionBatch.objects.filter(session=session).delete()


def abort(session: SyncSession) -> None:
    """The opener gives the session up: it and its batches are deleted."""
    with transaction.atomic():
        _locked(session).delete()


def expire(session: SyncSession) -> None:
    """Mark an open session past its time expired and delete its batches."""
    session.state = SyncSessionState.EXPIRED
    session.finished_at = timezone.now()
    session.save(update_fields=["state", "finished_at"])
    SyncSessionBatch.objects.filter(session=session).delete()


def expire_sessions(*, now: datetime.datetime | None = None) -> int:
    """Expire every open session past its time (the beat task), with one UPDATE and one
    DELETE; the number expired. A session being committed right now is left to its commit."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            SyncSession.objects.select_for_update(skip_locked=True)
            .filter(state=SyncSessionState.OPEN, expires_at__lte=now)
            .values_list("pk", flat=True)
        )
        SyncSession.objects.filter(pk__in=ids).update(
            state=SyncSessionState.EXPIRED, finished_at=now
        )
        SyncSessionBatch.objects.filter(session_id__in=ids).delete()
    return len(ids)
