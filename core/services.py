"""Cross-cutting write rules shared by every app."""

from collections.abc import Iterable

from django.utils import timezone


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


def delete_or_retire(obj, *, parts: tuple = (), retire=None) -> str:
    """Delete ``obj`` unless another record refers to it; then retire it instead.

    ``retire`` marks the object retired (default: set ``retired_at``). Returns "deleted"
    or "retired".
    """
    if referencing_relations(obj, parts=parts):
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
