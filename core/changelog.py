"""Writing change records. Signals call ``record`` for single saves; bulk writers (data
generators, bulk rules) call ``record_many`` with records made by ``build`` (or
``record_created`` for the records they inserted), and the sync engine, which has rows rather
than instances, calls ``write_rows`` with rows made by ``row``. Both bulk paths write with one
``COPY``."""

import json
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from core import context
from core.choices import ChangeAction
from core.models import ObjectChange

# The columns ``write_rows`` fills, in the order of a ``row``.
COLUMNS = (
    "time",
    "user_id",
    "user_name",
    "channel",
    "source",
    "request_id",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "before",
    "after",
)


def build(instance, *, action: str, before: dict | None, after: dict | None) -> ObjectChange:
    ctx = context.current()
    user = ctx.user
    return ObjectChange(
        user=user,
        user_name=getattr(user, "username", "") if user else "",
        channel=ctx.channel,
        source=ctx.source,
        request_id=ctx.request_id,
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        before=before,
        after=after,
    )


def record(instance, *, action: str, before: dict | None, after: dict | None) -> None:
    if action == ChangeAction.UPDATE and before == after:
        return
    build(instance, action=action, before=before, after=after).save()


def record_many(changes: list[ObjectChange]) -> None:
    """Write change records made by ``build`` (unsaved) in one COPY."""
    now = timezone.now()
    write_rows(
        [
            (
                change.time or now,
                change.user_id,
                change.user_name,
                change.channel,
                change.source,
                change.request_id,
                change.action,
                change.content_type_id,
                change.object_id,
                change.object_repr[:200],
                _json(change.before),
                _json(change.after),
            )
            for change in changes
        ]
    )


def record_created(instances: Iterable) -> None:
    """Record the creation of ``instances`` that were written in bulk (no post_save ran for
    them), in one COPY."""
    record_many(
        [
            build(
                instance,
                action=ChangeAction.CREATE,
                before=None,
                after=instance.changelog_snapshot(),
            )
            for instance in instances
        ]
    )


def row(
    ctx: context.ChangeContext,
    *,
    time,
    action: str,
    content_type_id: int,
    object_id,
    object_repr: str,
    before: dict | None,
    after: dict | None,
) -> tuple:
    """A change record as a row for ``write_rows``: ``before``/``after`` are snapshots
    (JSON-ready dicts, as ChangeLoggedModel.changelog_snapshot makes them)."""
    user = ctx.user
    return (
        time,
        user.pk if user else None,
        user.get_username() if user else "",
        ctx.channel,
        ctx.source,
        ctx.request_id,
        action,
        content_type_id,
        str(object_id),
        object_repr[:200],
        _json(before),
        _json(after),
    )


def write_rows(rows: list[tuple]) -> None:
    """Change records (rows in the order of ``COLUMNS``) in one COPY, in the transaction in
    force: the bulk writers' single way into the change log."""
    if not rows:
        return
    table = ObjectChange._meta.db_table
    sql = f'COPY "{table}" ({", ".join(COLUMNS)}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for values in rows:
            copy.write_row(values)


def _json(snapshot: dict | None) -> str | None:
    return None if snapshot is None else json.dumps(snapshot)


def history_for(instance):
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
    ).select_related("user")
