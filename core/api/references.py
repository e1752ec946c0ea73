"""References resolved in bulk: one query per referenced model, whatever the batch size.

A reference is a record id, or ``{"external_id": …, "source": …}`` (source defaulting to the
payload's own); a user is referenced by username.
"""

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from core.api.fields import RECORD
from core.api.fields import RefKey


class Resolver:
    def __init__(self, *, user):
        self.user = user
        self._rows: dict[type, dict[int, dict]] = defaultdict(dict)
        self._instances: dict[tuple[type, int], object] = {}
        self._users: dict[str, int] = {}

    # --- records ----------------------------------------------------------------------------

    def _attnames(self, model) -> list[str]:
        return [f.attname for f in model._meta.concrete_fields]

    def _visible(self, model):
        manager = model.objects if hasattr(model.objects, "restrict") else None
        if manager is None:
            return model._base_manager.all()
        return manager.restrict(self.user, "view")

    def resolve(self, model, keys, *, default_source: str, natural_key=None) -> tuple[dict, dict]:
        """Map each RefKey in ``keys`` to a primary key; return (found, errors).

        With ``natural_key`` (core.api.resources.NaturalKey), references by that key are
        resolved too, with one more query; the records it names that do not exist are made
        by its ``create`` (then read), or refused without one."""
        keys = set(keys)
        if not keys:
            return {}, {}
        if natural_key is not None and any(k.natural is not None for k in keys):
            return self._resolve_natural(model, keys, natural_key)
        synced = _is_synced(model)
        ids = {k.id for k in keys if k.id is not None}
        by_source: dict[str, set[str]] = defaultdict(set)
        for k in keys:
            if k.id is None and synced:
                by_source[k.source if k.source is not None else default_source].add(k.external_id)
        condition = Q(pk__in=ids) if ids else Q(pk__in=[])
        for source, external_ids in by_source.items():
            condition |= Q(source=source, external_id__in=external_ids)
        rows = self._visible(model).filter(condition).values(*self._attnames(model))
        by_key, visible = {}, set()
        for row in rows:
            self._rows[model][row["id"]] = row
            visible.add(row["id"])
            if synced and row["external_id"]:
                by_key[(row["source"], row["external_id"])] = row["id"]
        found, errors = {}, {}
        name = model._meta.verbose_name
        for k in keys:
            if k.id is not None:
                row = self._rows[model].get(k.id) if k.id in visible else None
                if row is None:
                    errors[k] = f"No {name} has id {k.id}."
                elif k.external_id is not None and (
                    not synced
                    or row["external_id"] != k.external_id
                    or (k.source is not None and row["source"] != k.source)
                ):
                    errors[k] = f"The {name} with id {k.id} has another source or external id."
                else:
                    found[k] = k.id
            elif not synced:
                errors[k] = f"Refer to a {name} by its id."
            else:
                source = k.source if k.source is not None else default_source
                pk = by_key.get((source, k.external_id))
                if pk is None:
                    errors[k] = (
                        f"No {name} has source “{source}” and external id “{k.external_id}”."
                    )
                else:
                    found[k] = pk
        return found, errors

    def _natural_rows(self, model, natural_key, wanted: set) -> dict[tuple, int]:
        fields = list(natural_key.fields)
        condition = Q(pk__in=[])
        for values in wanted:
            condition |= Q(**dict(zip(fields, values, strict=True)))
        by_key = {}
        for row in self._visible(model).filter(condition).values(*self._attnames(model)):
            self._rows[model][row["id"]] = row
            by_key[tuple(row[f] for f in fields)] = row["id"]
        return by_key

    def _resolve_natural(self, model, keys, natural_key) -> tuple[dict, dict]:
        """References by id, by natural key, or both (which must agree)."""
        by_id = {k.id for k in keys if k.id is not None}
        wanted = {k.natural for k in keys if k.natural is not None}
        found_ids, id_errors = (
            self.resolve(model, {RefKey(id=pk) for pk in by_id}, default_source="")
            if by_id
            else ({}, {})
        )
        by_key = self._natural_rows(model, natural_key, wanted)
        missing = wanted - set(by_key)
        refused: dict[tuple, str] = {}
        if missing and natural_key.create is not None:
            refused = natural_key.create(sorted(missing)) or {}
            by_key.update(self._natural_rows(model, natural_key, missing))
        found, errors = {}, {}
        name = model._meta.verbose_name
        for k in keys:
            if k.id is not None and RefKey(id=k.id) in id_errors:
                errors[k] = id_errors[RefKey(id=k.id)]
                continue
            if k.natural is None:
                found[k] = found_ids[RefKey(id=k.id)]
                continue
            pk = by_key.get(k.natural)
            if pk is None and k.natural in refused:
                errors[k] = refused[k.natural]
            elif pk is None:
                errors[k] = f"No {name} has the {natural_key.name} “{k.label}”."
            elif k.id is not None and k.id != pk:
                errors[k] = f"The {name} with id {k.id} has another {natural_key.name}."
            else:
                found[k] = pk
        return found, errors

    def ensure(self, model, pks) -> None:
        """Load rows of ``model`` not yet known (ids already stored on records)."""
        missing = {pk for pk in pks if pk is not None and pk not in self._rows[model]}
        if missing:
            for row in model._base_manager.filter(pk__in=missing).values(*self._attnames(model)):
                self._rows[model][row["id"]] = row

    def row(self, model, pk) -> dict | None:
        return self._rows[model].get(pk)

    def instance(self, model, pk):
        """A model instance of a resolved row, for rules and names (``str``)."""
        key = (model, pk)
        if key not in self._instances:
            row = self._rows[model].get(pk)
            self._instances[key] = model(**row) if row is not None else None
        return self._instances[key]

    def resolve_items(self, resource, items_refs: list[dict], *, default_source: str) -> list:
        """The references of several items of ``resource`` (field name -> RefKey, username
        or None, as core.api.items.parse_item reads them), resolved together: one query per
        referenced model and one for the users. For each item: (values by attname, error
        message by field name)."""
        writable = resource.writable
        wanted = defaultdict(set)
        usernames = set()
        for refs in items_refs:
            for name, ref in refs.items():
                if ref is None:
                    continue
                spec = writable[name]
                if spec.kind == RECORD:
                    wanted[spec.related_model].add(ref)
                else:
                    usernames.add(ref)
        found, problems = {}, {}
        for model, keys in wanted.items():
            found[model], problems[model] = self.resolve(
                model,
                keys,
                default_source=default_source,
                natural_key=resource.natural_keys.get(model),
            )
        users, user_problems = self.resolve_users(usernames)
        resolved = []
        for refs in items_refs:
            values: dict[str, Any] = {}
            errors: dict[str, str] = {}
            for name, ref in refs.items():
                spec = writable[name]
                if ref is None:
                    values[spec.attname] = None
                elif spec.kind == RECORD:
                    model = spec.related_model
                    if ref in found[model]:
                        values[spec.attname] = found[model][ref]
                    else:
                        errors[name] = problems[model][ref]
                elif ref in users:
                    values[spec.attname] = users[ref]
                else:
                    errors[name] = user_problems[ref]
            resolved.append((values, errors))
        return resolved

    # --- users ------------------------------------------------------------------------------

    def resolve_users(self, usernames) -> tuple[dict, dict]:
        wanted = {u for u in usernames if u not in self._users}
        if wanted:
            for pk, username in (
                get_user_model()
                .objects.filter(username__in=wanted, is_active=True)
                .values_list("pk", "username")
            ):
                self._users[username] = pk
        found, errors = {}, {}
        for username in set(usernames):
            if username in self._users:
                found[username] = self._users[username]
            else:
                errors[username] = f"No active user has the username “{username}”."
        return found, errors


def _is_synced(model) -> bool:
    from core.models import SyncedModel

    return issubclass(model, SyncedModel)


__all__ = ["RefKey", "Resolver"]
