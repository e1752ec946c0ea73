"""Single-object writes (POST, PUT, PATCH, DELETE): read the body with the same field specs as
the sync engine, resolve its references, check the rights with core.permissions, then call the
resource's services.py function in a transaction, under the change-log channel ``api``."""

from django.db import transaction

from core import context
from core.api.errors import Forbidden, Invalid
from core.api.items import missing_required, parse_item
from core.api.references import Resolver
from core.choices import Channel
from core.permissions import can


def default_save(instance, user):
    instance.full_clean()
    instance.save()
    return instance


def default_remove(instance) -> str:
    from core.services import delete_or_retire

    return delete_or_retire(instance)


def apply_body(resource, *, user, data, instance, partial: bool):
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
    before_parents = {p: getattr(instance, resource.writable[p].attname) for p in resource.parents}
    for attname, value in values.items():
        setattr(instance, attname, value)
    return before_parents


def row_of(instance) -> dict:
    """A record's stored fields by attname, as the sync engine's rows have them."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def also_allowed(resource, user, action: str, before: dict | None, after: dict | None) -> bool:
    """The resource's own rule for writes the role and ownership rights do not allow."""
    return resource.also_allowed is not None and resource.also_allowed(user, action, before, after)


def check_write_rights(resource, *, user, instance, before_parents: dict, before_row=None) -> None:
    """Adding needs the model's add right or the change right on a parent record (an item of
    one's own service); changing needs the change right on the record, and moving it to
    another parent the change right there too. What these refuse, the resource's
    ``also_allowed`` may still allow, judging the record before and after the write."""
    try:
        _check_role_rights(resource, user=user, instance=instance, before_parents=before_parents)
    except Forbidden:
        action = "add" if instance.pk is None else "change"
        if not also_allowed(resource, user, action, before_row, row_of(instance)):
            raise


def _check_role_rights(resource, *, user, instance, before_parents: dict) -> None:
    name = resource.verbose_name
    parents = [
        getattr(instance, p)
        for p in resource.parents
        if getattr(instance, resource.writable[p].attname) is not None
    ]
    if instance.pk is None:
        if can(user, "add", resource.model):
            return
        if any(can(user, "change", parent) for parent in parents):
            return
        raise Forbidden(f"You may not add this {name}.")
    if not can(user, "change", instance):
        raise Forbidden(f"You may not change this {name}.")
    moved = any(
        getattr(instance, resource.writable[p].attname) != before_parents.get(p)
        for p in resource.parents
    )
    if (
        moved
        and not can(user, "change", resource.model)
        and not any(can(user, "change", parent) for parent in parents)
    ):
        raise Forbidden(f"You may not move this {name} there.")


def save(resource, *, user, data, instance, partial: bool):
    """Validate and save one record through the resource's services.py function."""
    name = resource.verbose_name
    before_row = row_of(instance) if instance.pk is not None else None
    if (
        instance.pk is not None
        and not can(user, "change", instance)
        and not also_allowed(resource, user, "change", before_row, before_row)
    ):
        raise Forbidden(f"You may not change this {name}.")
    if (
        instance.pk is None
        and not resource.parents
        and resource.also_allowed is None
        and not can(user, "add", resource.model)
    ):
        raise Forbidden(f"You may not add a {name}.")
    with transaction.atomic(), context.change_context(user=user, channel=Channel.API):
        before_parents = apply_body(
            resource, user=user, data=data, instance=instance, partial=partial
        )
        check_write_rights(
            resource,
            user=user,
            instance=instance,
            before_parents=before_parents,
            before_row=before_row,
        )
        saver = resource.save or default_save
        return saver(instance, user)


def remove(resource, *, user, instance) -> str:
    if not can(user, "delete", instance) and not also_allowed(
        resource, user, "delete", row_of(instance), None
    ):
        raise Forbidden(f"You may not delete this {resource.verbose_name}.")
    with transaction.atomic(), context.change_context(user=user, channel=Channel.API):
        remover = resource.remove or default_remove
        return remover(instance) or "deleted"
