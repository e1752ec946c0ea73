"""Cross-cutting write rules shared by every app."""

import datetime
from collections.abc import Callable
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core import permissions
from core import search


def referencing_relations(obj, *, parts: tuple = ()) -> list[str]:
    """Names of the other records that refer to ``obj`` (its own ``parts`` aside)."""
    found = []
    for relation in obj._meta.related_objects:
        if relation.related_model in parts or relation.related_model._meta.app_label == "auth":
            continue
        accessor = relation.get_accessor_name()
        if relation.many_to_many or relation.one_to_many:
            if getattr(obj, accessor).exists():
                found.append(relation.related_model._meta.verbose_name_plural)
        elif relation.one_to_one and hasattr(obj, accessor):
            found.append(relation.related_model._meta.verbose_name)
    return found


def namesakes(model, name: str) -> QuerySet:
    """The records of ``model`` already named ``name`` (ignoring case and the spaces around
    it), found through its search index: a new record of the same name would be a second one,
    its slug numbered (``billing-and-payments-2``)."""
    name = name.strip()
    if not name:
        return model._default_manager.none()
    return model._default_manager.filter(search.matching(model, ["name"], name), name__iexact=name)


def changes_since_creation(obj) -> int:
    """How many changes the change log holds of ``obj`` besides those of the request that
    created it (which may have set its delegates as well)."""
    from django.contrib.contenttypes.models import ContentType

    from core.choices import ChangeAction
    from core.models import ObjectChange

    changes = ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
    )
    created_by = changes.filter(action=ChangeAction.CREATE).values("request_id")[:1]
    return changes.exclude(action=ChangeAction.CREATE).exclude(request_id__in=created_by).count()


def dependents(obj, *, parts: tuple = (), history: bool = False) -> list[str]:
    """What keeps ``obj`` from being deleted (it is retired instead): the other records that
    refer to it (its own ``parts`` aside, which go with it) and, with ``history``, its
    changes since it was created. [] for a record made by mistake and left alone."""
    found = list(dict.fromkeys(referencing_relations(obj, parts=parts)))
    if history:
        edits = changes_since_creation(obj)
        if edits:
            found.append(f"{edits} change{'s' if edits > 1 else ''} since it was created")
    return found


def delete_or_retire(obj, *, parts: tuple = (), retire=None, history: bool = False) -> str:
    """Delete ``obj`` unless something depends on it (``dependents``); then retire it
    instead. The change log records either.

    ``retire`` marks the object retired (default: set ``retired_at``). Returns "deleted"
    or "retired".
    """
    if dependents(obj, parts=parts, history=history):
        if retire is not None:
            retire(obj)
        else:
            obj.retired_at = obj.retired_at or timezone.now()
            obj.save()
        return "retired"
    obj.delete()
    return "deleted"


def renumber(rows: Iterable) -> None:
    """Number ``rows`` 0, 1, 2 … in their order (``position``), saving those that move."""
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position", "updated_at"])


def move_within(rows: Iterable, row, offset: int) -> None:
    """Move ``row`` ``offset`` places earlier (negative) or later among ``rows`` (in their
    order) and renumber them; the ends stay put."""
    rows = list(rows)
    index = next(i for i, other in enumerate(rows) if other.pk == row.pk)
    target = min(max(index + offset, 0), len(rows) - 1)
    if target == index:
        return
    rows.insert(target, rows.pop(index))
    renumber(rows)


# What a successor does not take over: its own identity, and the key a source gave the edge.
NOT_COPIED = ("id", "created_at", "updated_at", "source", "external_id")


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def change_edge_from_month(
    edge,
    *,
    month: datetime.date,
    weight: Decimal,
    user,
    save: Callable,
):
    """Change an effective-dated edge's weight from ``month`` on, keeping the months before
    as they were: the edge ends on the last day of the month before, and a copy of it with
    ``weight`` starts on the 1st of ``month`` (and ends when the edge ended, if it did). Both
    are written through ``save`` (the edge's services function, so its rules apply) in one
    transaction, if ``user`` may change the edge and add the new one. Returns the new edge.
    """
    permissions.require(user, "change", edge)
    start = first_of_month(month)
    if edge.valid_from is not None and edge.valid_from >= start:
        raise ValidationError(
            {
                "month": f"It starts on {edge.valid_from.isoformat()}: choose a later month, "
                "or edit its weight."
            }
        )
    if edge.valid_to is not None and edge.valid_to < start:
        raise ValidationError(
            {"month": f"It ended on {edge.valid_to.isoformat()}: choose an earlier month."}
        )
    model = type(edge)
    stored = model._base_manager.get(pk=edge.pk)
    copied = {
        f.attname: getattr(stored, f.attname)
        for f in model._meta.concrete_fields
        if f.attname not in NOT_COPIED
    }
    successor = model(**{**copied, "weight": weight, "valid_from": start})
    permissions.require(user, "add", successor)
    with transaction.atomic():
        edge.valid_to = start - datetime.timedelta(days=1)
        save(edge)
        save(successor)
    return successor
