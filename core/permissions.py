"""Model-level rights from roles, object-level rights from ownership.

A user may act on an object when their role grants the model permission for that action
(for example a Portfolio manager may change every service), or, for change and delete,
when they own the object or are one of its owner's delegates. A model names the lookups
that lead to its owners in ``ownership_lookups`` (``("owner", "delegates")`` on a service,
``("service__owner", "service__delegates")`` on one of its items).
"""

from django.db import models

ACTIONS = ("view", "add", "change", "delete")
OWNER_ACTIONS = ("change", "delete")


def perm_name(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def owner_q(model, user) -> models.Q:
    """Rows ``user`` owns or is a delegate for, as one Q (subqueries, so no duplicates)."""
    condition = models.Q(pk__in=[])
    for lookup in getattr(model, "ownership_lookups", ()):
        condition |= models.Q(pk__in=model._base_manager.filter(**{lookup: user}).values("pk"))
    return condition


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        if action not in ACTIONS:
            raise ValueError(f"Unknown action {action!r}")
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_perm(perm_name(self.model, action)):
            return self
        if action in OWNER_ACTIONS and getattr(self.model, "ownership_lookups", ()):
            return self.filter(owner_q(self.model, user))
        return self.none()


def can(user, action: str, obj) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj`` (or on its model, for ``add``)."""
    model = type(obj) if not isinstance(obj, type) else obj
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm(perm_name(model, action)):
        return True
    if action in OWNER_ACTIONS and not isinstance(obj, type) and obj.pk is not None:
        lookups = getattr(model, "ownership_lookups", ())
        return (
            bool(lookups)
            and model._base_manager.filter(pk=obj.pk).filter(owner_q(model, user)).exists()
        )
    return False
