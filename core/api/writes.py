"""Single-object writes (POST, PUT, PATCH, DELETE): the rights first (core.permissions), then
the body read with the same field specs as the sync engine and its references resolved, the
rights again on what the body asks for (a new parent), then the resource's services.py
function, in a transaction, under the change-log channel ``api``."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from core import context
from core import permissions
from core.api.errors import Forbidden
from core.api.errors import Invalid
from core.api.items import missing_required
from core.api.items import parse_item
from core.api.references import Resolver
from core.choices import Channel
from core.services import delete_or_retire


def require(user, action: str, obj) -> None:
    """core.permissions.require, answered as the API's 403."""
    try:
        permissions.require(user, action, obj)
    except PermissionDenied as exc:
        raise Forbidden(str(exc)) from None


def may_write_at_all(resource, *, user, instance) -> None:
    """Before the body is read: a user who may not write such a record at all learns nothing
    from its field errors."""
    if instance.pk is None:
        require(user, "add", resource.model)
    else:
        require(user, "change", instance)


def apply_body(resource, *, user, data, instance, partial: bool) -> None:
    """Set the body's values on ``instance``; raise Invalid naming every bad field."""
    values, refs, given, errors = parse_item(resource, data)
    if not partial and isinstance(data, dict):
        errors.update(missing_required(resource, given))
    if not isinstance(data, dict):
        raise Invalid(errors=errors)
    default_source = values.get("source", getattr(instance, "source", ""))
    resolver = Resolver(user=user)
    ((ref_values, ref_errors),) = resolver.resolve_items(
        resource, [refs], default_source=default_source
    )
    values.update(ref_values)
    errors.update({name: [message] for name, message in ref_errors.items()})
    if errors:
        raise Invalid(errors=errors)
    for attname, value in values.items():
        setattr(instance, attname, value)


def renamed(resource, exc: DjangoValidationError) -> DjangoValidationError:
    """A rule's or the model's error under the API's name of its field."""
    names = resource.writes.error_names
    if not names or not hasattr(exc, "error_dict"):
        return exc
    return DjangoValidationError(
        {names.get(name, name): errors for name, errors in exc.error_dict.items()}
    )


def save(resource, *, user, data, instance, partial: bool):
    """Validate and save one record through the resource's services.py function. The caller
    has asked may_write_at_all before reading the body; the record as the body leaves it (a
    move to another parent) is asked here."""
    action = "add" if instance.pk is None else "change"
    with transaction.atomic(), context.change_context(user=user, channel=Channel.API):
        apply_body(resource, user=user, data=data, instance=instance, partial=partial)
        require(user, action, instance)
        try:
            return resource.writes.save(instance, user)
        except DjangoValidationError as exc:
            raise renamed(resource, exc) from None


def remove(resource, *, user, instance) -> str:
    require(user, "delete", instance)
    with transaction.atomic(), context.change_context(user=user, channel=Channel.API):
        remover = resource.writes.remove or delete_or_retire
        return remover(instance) or "deleted"
