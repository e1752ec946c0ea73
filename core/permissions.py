"""Who may do what, in one place: every view, API write and sync batch asks here.

- **Roles** (core.roles) grant an action on every record of a model: a Portfolio manager may
  change every service.
- **Owners**: a model names in ``ownership_lookups`` the lookups that lead to its owners
  (``("owner", "delegates")`` on a service, ``("service__owner", "service__delegates")`` on one
  of its items); they may change and delete the record.
- **Parents**: a model names in ``parent_lookups`` the records a new one is added under (a
  specification item's ``service``, a subscription's ``customer``). Whoever may change every
  parent a record names may add it there, and may move a record they may change there.
- **Grants**: an app registers with ``grant(model, allows, rows=...)`` what neither covers (the
  suggester of an improvement edits it while it is proposed).

For one record, views ask ``can`` or ``require`` (which raises PermissionDenied); for a
queryset, ``restrict(user, action)``; for a batch of writes, the sync engine asks
``refusals``, which is also what ``can`` asks for one record: one rule on every path.
"""

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Self

from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import OuterRef
from django.db.models import Value
from django.db.models.functions import Concat

from core.rules import Change
from core.rules import row_of
from core.rules import stored_row

ACTIONS = ("view", "add", "change", "delete")
OWNER_ACTIONS = ("change", "delete")


def perm_name(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def is_active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


# --- A user's role rights, read with the user ------------------------------------------------

USER_PERMISSIONS = "_portico_user_permissions"
GROUP_PERMISSIONS = "_portico_group_permissions"


def _permission_names(relation: str, user_id: str) -> ArraySubquery:
    names = (
        Permission.objects.filter(**{relation: OuterRef(user_id)})
        .order_by()
        .values(full_name=Concat("content_type__app_label", Value("."), "codename"))
    )
    return ArraySubquery(names)


def with_permissions(queryset: models.QuerySet, user: str = "") -> models.QuerySet:
    """``queryset`` (of users, or of rows whose ``user`` leads to one) with the names of the
    user's own and role permissions, so that reading the user costs no further query for
    its rights: Django's backend asks two queries a request otherwise (the API's token and
    the browser's session both load the user on every request)."""
    user_id = f"{user}__pk" if user else "pk"
    return queryset.annotate(
        **{
            USER_PERMISSIONS: _permission_names("user", user_id),
            GROUP_PERMISSIONS: _permission_names("group__user", user_id),
        }
    )


def remember_permissions(user, row=None) -> None:
    """Give ``user`` the permission names ``with_permissions`` read (on ``row``, or on the
    user itself), as Django's ModelBackend caches them: it then asks no query. A superuser's
    rights are all permissions, left to the backend."""
    row = user if row is None else row
    if not hasattr(row, USER_PERMISSIONS) or user.is_superuser:
        return
    if not user.is_active:
        user._perm_cache = set()
        return
    user._user_perm_cache = set(getattr(row, USER_PERMISSIONS))
    user._group_perm_cache = set(getattr(row, GROUP_PERMISSIONS))
    user._perm_cache = user._user_perm_cache | user._group_perm_cache


@dataclass(frozen=True)
class Grant:
    """A right beyond roles, owners and parents.

    allows: ``allows(user, action, before, after) -> bool`` on the record's rows by attname
            (``before`` None for an add, ``after`` None for a delete; both None asks whether
            the user may do it to some record at all, as an "Add" button does). It must not
            query the database per record.
    rows:   ``rows(user, action) -> Q | None``, the stored rows it allows, for ``restrict``.
    """

    allows: Callable[[Any, str, dict | None, dict | None], bool]
    rows: Callable[[Any, str], models.Q | None] | None = None


_grants: dict[type, list[Grant]] = {}


def grant(model, allows, *, rows=None) -> Grant:
    """Register a Grant on ``model`` (from the app's services module)."""
    new = Grant(allows=allows, rows=rows)
    _grants.setdefault(model, []).append(new)
    return new


def grants_of(model) -> list[Grant]:
    return _grants.get(model, [])


def parent_fields(model) -> list[models.ForeignKey]:
    return [model._meta.get_field(name) for name in getattr(model, "parent_lookups", ())]


def ownership_lookups(model) -> tuple[str, ...]:
    """The lookups from ``model`` to its owners (none: nobody owns its records)."""
    return getattr(model, "ownership_lookups", ())


def owner_q(model, user) -> models.Q:
    """Rows ``user`` owns or is a delegate for, as one Q (subqueries, so no duplicates)."""
    condition = models.Q(pk__in=[])
    for lookup in ownership_lookups(model):
        condition |= models.Q(pk__in=model._base_manager.filter(**{lookup: user}).values("pk"))
    return condition


def _rows_q(model, user, action: str) -> models.Q | None:
    """What ownership and grants allow ``user`` to ``action`` beyond the roles (None: nothing)."""
    condition = None
    if action in OWNER_ACTIONS and ownership_lookups(model):
        condition = owner_q(model, user)
    for each in grants_of(model):
        extra = each.rows(user, action) if each.rows is not None else None
        if extra is not None:
            condition = extra if condition is None else condition | extra
    return condition


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> Self:
        if action not in ACTIONS:
            raise ValueError(f"Unknown action {action!r}")
        if not is_active(user):
            return self.none()
        if user.has_perm(perm_name(self.model, action)):
            return self
        condition = _rows_q(self.model, user, action)
        return self.filter(condition) if condition is not None else self.none()


def restricted(model: type[models.Model]) -> RestrictedQuerySet:
    """Every record of ``model``, ready for ``restrict``: its manager is made from
    RestrictedQuerySet, as on every model a list or the API shows."""
    records = model._default_manager.all()
    assert isinstance(records, RestrictedQuerySet), f"{model.__name__} has no restrict()"
    return records


def _changeable(model, user, ids: set) -> set:
    """Of the ``model`` records ``ids``, those ``user`` may change (one query)."""
    if not ids:
        return set()
    if user.has_perm(perm_name(model, "change")):
        return set(ids)
    condition = _rows_q(model, user, "change")
    if condition is None:
        return set()
    return set(
        model._base_manager.filter(condition, pk__in=ids).values_list("pk", flat=True).order_by()
    )


def refusals(user, action: str, model, changes: Sequence[Change]) -> list[str | None]:
    """Why ``user`` may not ``action`` each of ``changes`` (None where allowed), with a
    constant number of queries: ``add`` judges ``row`` (its parents), ``change`` the stored
    ``before`` (its owners) and ``row`` (a new parent), ``delete`` the stored ``before``."""
    noun = model._meta.verbose_name
    if not is_active(user):
        return [f"You may not {action} this {noun}."] * len(changes)
    if user.has_perm(perm_name(model, action)):
        return [None] * len(changes)
    verdicts: list[str | None] = [None] * len(changes)
    parents = parent_fields(model)
    if action in OWNER_ACTIONS:
        ids = {change.before["id"] for change in changes if change.before}
        owned = _owned(model, user, action, ids)
        for i, change in enumerate(changes):
            if not change.before or change.before["id"] not in owned:
                verdicts[i] = f"You may not {action} this {noun}."
    if action in ("add", "change"):
        for parent in parents:
            named = [
                (i, change.row.get(parent.attname))
                for i, change in enumerate(changes)
                if verdicts[i] is None
                and (action == "add" or change.moved(parent.attname))
                and change.row.get(parent.attname) is not None
            ]
            may = _changeable(parent.related_model, user, {pk for _, pk in named})
            for i, pk in named:
                if pk not in may:
                    verdicts[i] = (
                        f"You may not add this {noun}."
                        if action == "add"
                        else f"You may not move this {noun} there."
                    )
    if action == "add":
        for i, change in enumerate(changes):
            named_parents = [p for p in parents if change.row.get(p.attname) is not None]
            if not named_parents:  # added under nothing: only the role's right would do
                verdicts[i] = f"You may not add this {noun}."
    for i, change in enumerate(changes):
        if verdicts[i] is not None:
            after = None if action == "delete" else change.row
            if any(g.allows(user, action, change.before, after) for g in grants_of(model)):
                verdicts[i] = None
    return verdicts


def _owned(model, user, action: str, ids: set) -> set:
    if not ids or not ownership_lookups(model):
        return set()
    condition = owner_q(model, user)
    return set(
        model._base_manager.filter(condition, pk__in=ids).values_list("pk", flat=True).order_by()
    )


def is_owner(user, obj: models.Model) -> bool:
    """Whether ``user`` is one of ``obj``'s owners or delegates (its ``ownership_lookups``),
    whatever their role: who may vouch for a record, as an attestation does."""
    if not is_active(user) or obj.pk is None or not ownership_lookups(type(obj)):
        return False
    model = type(obj)
    return model._base_manager.filter(owner_q(model, user), pk=obj.pk).exists()


def may_every(user, action: str, model: type[models.Model]) -> bool:
    """Whether ``user``'s role grants ``action`` on every record of ``model`` (a Portfolio
    manager's change of any service), whatever they own."""
    return is_active(user) and user.has_perm(perm_name(model, action))


def can(user, action: str, obj: models.Model | type[models.Model]) -> bool:
    """Whether ``user`` may ``action`` the record ``obj``, or, given a model, some record of
    it (for ``add``: the role's right, a parent the user may change, or a grant)."""
    if isinstance(obj, type):
        return _can_model(user, action, obj)
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    if not is_active(user):
        return False
    model = type(obj)
    if user.has_perm(perm_name(model, action)):
        return True
    if action == "view":
        return False
    if action == "add" or obj.pk is None:
        change = Change(row=row_of(obj))
        if action != "add":
            return False
    else:
        before = stored_row(obj) if (grants_of(model) or parent_fields(model)) else None
        before = before or {**row_of(obj), "id": obj.pk}
        after = row_of(obj) if action == "change" else before
        change = Change(row=after, before=before)
    return refusals(user, action, model, [change])[0] is None


def _can_model(user, action: str, model) -> bool:
    if not is_active(user):
        return False
    if user.has_perm(perm_name(model, action)):
        return True
    if any(g.allows(user, action, None, None) for g in grants_of(model)):
        return True
    if action == "add":
        return any(_changes_some(parent.related_model, user) for parent in parent_fields(model))
    return False


def may_edit_some(user, model: type[models.Model]) -> bool:
    """Whether ``user`` may add a record of ``model`` or change one: who may open its form."""
    return is_active(user) and (_can_model(user, "add", model) or _changes_some(model, user))


def _changes_some(model, user) -> bool:
    if user.has_perm(perm_name(model, "change")):
        return True
    condition = _rows_q(model, user, "change")
    return condition is not None and model._base_manager.filter(condition).exists()


def require(user, action: str, obj: models.Model | type[models.Model], message: str = "") -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``: the one way a view or the
    API refuses a user (a 403)."""
    if not can(user, action, obj):
        raise PermissionDenied(message or _refusal(action, obj))


def _refusal(action: str, obj: models.Model | type[models.Model]) -> str:
    model = obj if isinstance(obj, type) else type(obj)
    noun = model._meta.verbose_name
    if isinstance(obj, type):
        verb = "see" if action == "view" else action
        return f"You may not {verb} {model._meta.verbose_name_plural}."
    return f"You may not {action} this {noun}."
