"""Slugs of the records shown at ``/<section>/<slug>/``: unique, and never one of the fixed
addresses beside those pages (``/services/new/``, ``/services/mine/``,
``/value-streams/processes/`` …), which would hide the record's page."""

from django.core.exceptions import ValidationError
from django.utils.text import slugify

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


def unique_slug(model, name: str, *, instance_pk=None, field: str = "slug") -> str:
    base = slug_base(model, name)
    slug, n = base, 2
    while model._base_manager.filter(**{field: slug}).exclude(pk=instance_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
