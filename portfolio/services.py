"""Writes and workflows of the service portfolio: the one place its business rules live."""

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from core import roles
from core.services import delete_or_retire
from portfolio.choices import Dimension, ServiceLifecycle
from portfolio.models import Service, ServiceDependency, SpecificationItem

LIFECYCLE_DATE_FIELD = {
    ServiceLifecycle.PIPELINE: "pipeline_on",
    ServiceLifecycle.LIVE: "live_on",
    ServiceLifecycle.RETIRED: "retired_on",
}


def unique_slug(model, name: str, *, instance_pk=None, field: str = "slug") -> str:
    base = slugify(name)[:180] or model._meta.model_name
    slug, n = base, 2
    while model._base_manager.filter(**{field: slug}).exclude(pk=instance_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def save_service(*, service: Service, user=None, delegates=None) -> Service:
    """Create or update a service, keeping its lifecycle dates and slug right.

    A service owner who creates a service without naming an owner becomes its owner.
    """
    if not service.slug:
        service.slug = unique_slug(Service, service.name, instance_pk=service.pk)
    creator_owns = (
        service.pk is None
        and service.owner_id is None
        and user is not None
        and user.groups.filter(name=roles.SERVICE_OWNER).exists()
    )
    if creator_owns:
        service.owner = user
    previous = (
        Service.objects.filter(pk=service.pk).values_list("lifecycle", flat=True).first()
        if service.pk
        else None
    )
    if service.lifecycle != previous:
        date_field = LIFECYCLE_DATE_FIELD[service.lifecycle]
        setattr(service, date_field, getattr(service, date_field) or timezone.localdate())
        if service.lifecycle != ServiceLifecycle.RETIRED:
            service.retired_on = None
    service.full_clean()
    service.save()
    if delegates is not None:
        service.delegates.set(delegates)
    return service


def retire_service(service: Service) -> None:
    service.lifecycle = ServiceLifecycle.RETIRED
    service.retired_on = timezone.localdate()
    service.save()


def remove_service(service: Service) -> str:
    """Delete a draft service; retire one that anything refers to."""
    return delete_or_retire(service, parts=(SpecificationItem,), retire=retire_service)


# --- Specification items (the four quadrants) ---------------------------------------------


def add_specification_item(*, item: SpecificationItem) -> SpecificationItem:
    """Add an item at the end of its quadrant."""
    last = SpecificationItem.objects.filter(
        service=item.service, aspect=item.aspect, dimension=item.dimension
    ).aggregate(last=Max("position"))["last"]
    item.position = 0 if last is None else last + 1
    return save_specification_item(item=item)


def save_specification_item(*, item: SpecificationItem) -> SpecificationItem:
    if item.dimension == Dimension.FUNCTIONALITY:
        # Functionality items are statements: a measure on them would mean nothing.
        for name in SpecificationItem.MEASURE_FIELDS:
            setattr(item, name, None if name == "target" else "")
        item.actual_value = item.actual_on = None
    item.full_clean()
    item.save()
    return item


def move_specification_item(*, item: SpecificationItem, offset: int) -> None:
    """Move an item up (-1) or down (+1) within its quadrant; the ends stay put."""
    siblings = list(
        SpecificationItem.objects.filter(
            service_id=item.service_id, aspect=item.aspect, dimension=item.dimension
        ).order_by("position", "id")
    )
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    target = index + offset
    if not 0 <= target < len(siblings):
        return
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position", "updated_at"])


def remove_specification_item(*, item: SpecificationItem) -> None:
    service_id, aspect, dimension = item.service_id, item.aspect, item.dimension
    item.delete()
    remaining = SpecificationItem.objects.filter(
        service_id=service_id, aspect=aspect, dimension=dimension
    ).order_by("position", "id")
    for position, sibling in enumerate(remaining):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position", "updated_at"])


# --- Dependencies ----------------------------------------------------------------------------


def save_dependency(*, dependency: ServiceDependency) -> ServiceDependency:
    if (
        dependency.pk is None
        and ServiceDependency.objects.filter(
            consumer_id=dependency.consumer_id, provider_id=dependency.provider_id
        ).exists()
    ):
        raise ValidationError({"provider": "This dependency is already recorded."})
    dependency.full_clean(validate_unique=False)
    dependency.save()
    return dependency
