"""Reads about people and organisation units: the sub-tree of a unit, and what a person owns."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models.functions import Coalesce

from core.ordering import by_name
from people.models import OrganisationUnit

# Who owns what: (label, model path, owner field, the records still in use). The kinds of
# record that a person who leaves must hand over; retired records need nobody.
OWNED_KINDS: tuple[tuple[str, str, str, Q], ...] = (
    ("services", "portfolio.Service", "owner", ~Q(lifecycle="retired")),
    ("value streams", "valuestreams.ValueStream", "owner", Q(retired_at__isnull=True)),
    ("applications", "portfolio.Application", "owner", Q(retired_at__isnull=True)),
    ("contracts", "portfolio.Contract", "owner", Q(retired_at__isnull=True)),
    ("customers", "portfolio.Customer", "relationship_manager", Q(retired_at__isnull=True)),
)


def unit_subtree_ids(unit_ids) -> list[int]:
    """The ids of ``unit_ids`` and every unit below them, at any depth (one recursive query)."""
    ids = [int(pk) for pk in unit_ids]
    if not ids:
        return []
    table = OrganisationUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH RECURSIVE tree(id) AS (SELECT id FROM "{table}" WHERE id = ANY(%s) '
            f'UNION SELECT u.id FROM "{table}" u JOIN tree t ON u.parent_id = t.id) '
            "SELECT id FROM tree",
            [ids],
        )
        return [row[0] for row in cursor.fetchall()]


def unit_lines() -> dict[int, list[int]]:
    """Every unit's line up the hierarchy: its id, its parent's, up to the top unit's, by unit
    id (one recursive query)."""
    table = OrganisationUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE line(unit_id, id, parent_id, depth) AS (SELECT id, id, parent_id, 0 "
            f'FROM "{table}" UNION ALL SELECT l.unit_id, u.id, u.parent_id, l.depth + 1 '
            f'FROM "{table}" u JOIN line l ON u.id = l.parent_id) '
            "SELECT unit_id, id FROM line ORDER BY unit_id, depth"
        )
        lines: dict[int, list[int]] = {}
        for unit_id, pk in cursor.fetchall():
            lines.setdefault(unit_id, []).append(pk)
        return lines


def in_units(queryset: QuerySet, unit_ids, *, field: str = "unit") -> QuerySet:
    """The records of ``queryset`` that belong to one of the units or a unit below them."""
    return queryset.filter(**{f"{field}__in": unit_subtree_ids(unit_ids)})


def _model(path: str):
    from django.apps import apps

    return apps.get_model(path)


def owned_model(kind: str):
    """The model of a kind of owned record (``"services"``)."""
    return next(_model(path) for label, path, _, _ in OWNED_KINDS if label == kind)


def owner_field(kind: str) -> str:
    """The field naming the owner of a kind of owned record."""
    return next(owner for label, _, owner, _ in OWNED_KINDS if label == kind)


@dataclass(frozen=True)
class Owned:
    """One record a person owns, as a hand-over lists it."""

    kind: str
    id: int
    name: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "name": self.name}


def owned_by(user_ids) -> dict[int, list[Owned]]:
    """What each of the users owns that is still in use, by user id (one query per kind of
    record, whatever the number of users)."""
    wanted = list(user_ids)
    found: dict[int, list[Owned]] = {}
    if not wanted:
        return found
    for kind, path, owner, in_use in OWNED_KINDS:
        model = _model(path)
        rows = (
            model._base_manager.filter(in_use, **{f"{owner}_id__in": wanted})
            .order_by(owner, "pk")
            .values_list(f"{owner}_id", "pk", _name_field(model))
        )
        for user_id, pk, name in rows:
            found.setdefault(user_id, []).append(Owned(kind=kind, id=pk, name=str(name)))
    return found


def _name_field(model) -> str:
    names = {f.name for f in model._meta.concrete_fields}
    return "name" if "name" in names else "title"


def owned_records(user, kind: str | None = None) -> dict[str, list]:
    """The records ``user`` owns that are still in use, by kind (model instances)."""
    result = {}
    for label, path, owner, in_use in OWNED_KINDS:
        if kind is not None and label != kind:
            continue
        model = _model(path)
        result[label] = list(model._base_manager.filter(in_use, **{owner: user}).order_by("pk"))
    return result


def people() -> QuerySet:
    """Every account with its unit, roles and how many records in use it owns of each kind
    (``owns_services`` …, one subquery each), for the people page: one query, by name."""
    counts = {}
    for label, path, owner, in_use in OWNED_KINDS:
        model = _model(path)
        owned = (
            model._base_manager.filter(in_use, **{owner: OuterRef("pk")})
            .order_by()
            .values(owner)
            .annotate(n=Count("pk"))
            .values("n")
        )
        counts[owns_attribute(label)] = Coalesce(Subquery(owned), 0)
    return by_name(
        get_user_model()
        .objects.select_related("profile__unit")
        .prefetch_related("groups")
        .annotate(**counts)
    )


def owns_attribute(kind: str) -> str:
    """The annotation of ``people()`` counting one kind of owned record."""
    return "owns_" + kind.replace(" ", "_")


def unit_members(unit) -> QuerySet:
    return by_name(get_user_model().objects.filter(profile__unit=unit).prefetch_related("groups"))
