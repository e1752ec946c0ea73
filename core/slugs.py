"""Slugs of the records shown at ``/<section>/<slug>/``: unique, and never one of the fixed
addresses beside those pages (``/services/new/``, ``/services/mine/``,
``/value-streams/processes/`` …), which would hide the record's page."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify

from core import rules

RESERVED_SLUGS = frozenset({"new", "options", "mine", "processes", "improvements", "ownership"})


def validate_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(
            f"“{value}” is the address of a page: choose another slug.", code="reserved"
        )


def slug_base(model, name: str) -> str:
    """The slug ``name`` gives before numbering: a reserved one takes the model's name."""
    base = slugify(name)[:180] or model._meta.model_name
    if base in RESERVED_SLUGS:
        base = slugify(f"{name} {model._meta.verbose_name}")[:180]
    return base


# model -> the field a generated slug is made from (see ``generate_slugs``)
_generated_from: dict = {}


def generated_from(model) -> str:
    """The field ``model``'s slugs are made from when a record has none ("" if never)."""
    return _generated_from.get(model, "")


def generate_slugs(model, from_field: str, *, field: str = "slug") -> None:
    """Register the slug rule of ``model`` (core.rules): a record without a slug gets one made
    from ``from_field``, unique (numbered ``-2``, ``-3`` …) and never
    a fixed address; a slug given to a record must be unique. Three queries for a batch."""
    _generated_from[model] = from_field
    noun = model._meta.verbose_name

    def slug_facts(changes):
        given: dict[str, rules.Change] = {}
        for change in changes:
            slug = change.row.get(field)
            if slug and (change.is_new or change.moved(field)):
                given.setdefault(slug, change)
        manager = model._base_manager
        holders = dict(manager.filter(**{f"{field}__in": list(given)}).values_list(field, "pk"))
        bases = {
            id(change): slug_base(model, str(change.row.get(from_field) or ""))
            for change in changes
            if not change.row.get(field)
        }
        taken = set(given)
        exact = set(
            manager.filter(**{f"{field}__in": set(bases.values())}).values_list(field, flat=True)
        )
        condition = Q(pk__in=[])
        for base in {base for base in bases.values() if base in exact}:
            condition |= Q(**{f"{field}__startswith": f"{base}-"})
        taken |= exact | set(manager.filter(condition).values_list(field, flat=True))
        return {"given": given, "holders": holders, "bases": bases, "taken": taken}

    def slug_rule(change, facts):
        slug = change.row.get(field)
        if not slug:
            base = facts["bases"][id(change)]
            slug, n = base, 2
            while slug in facts["taken"]:
                slug, n = f"{base}-{n}", n + 1
            facts["taken"].add(slug)
            change.row[field] = slug[: model._meta.get_field(field).max_length]
            return
        first = facts["given"].get(slug)
        if first is None:  # unchanged
            return
        if first is not change:
            change.error(field, f"Item {first.index} has the same slug.")
        elif facts["holders"].get(slug, change.row.get("id")) != change.row.get("id"):
            change.error(field, f"Another {noun} has this slug.")

    rules.add(model, rules.Rule(check=slug_rule, facts=slug_facts))
