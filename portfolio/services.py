"""Writes and workflows of the service portfolio: the one place its business rules live."""

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from core import changelog, roles
from core.choices import ChangeAction
from core.services import delete_or_retire
from core.slugs import unique_slug
from portfolio.choices import ApplicationLifecycle, Dimension, ServiceLifecycle
from portfolio.models import (
    Application,
    ApplicationSupport,
    Contract,
    ContractCoverage,
    Customer,
    Outcome,
    Service,
    ServiceDependency,
    SpecificationItem,
    Subscription,
    Supplier,
)

LIFECYCLE_DATE_FIELD = {
    ServiceLifecycle.PIPELINE: "pipeline_on",
    ServiceLifecycle.LIVE: "live_on",
    ServiceLifecycle.RETIRED: "retired_on",
}


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
        _set_delegates(service, delegates)
    return service


def _set_delegates(service: Service, delegates) -> None:
    """Set the delegates, with one change record of the whole set (usernames) if it moved."""
    before = sorted(service.delegates.values_list("username", flat=True))
    service.delegates.set(delegates)
    after = sorted(service.delegates.values_list("username", flat=True))
    changelog.record(
        service,
        action=ChangeAction.UPDATE,
        before={"delegates": before},
        after={"delegates": after},
    )


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


# --- Customers, suppliers, contracts, applications --------------------------------------------


def _retire(obj) -> None:
    obj.retired_at = obj.retired_at or timezone.now()
    obj.save()


def save_customer(*, customer: Customer) -> Customer:
    """Create or update a customer; a new one gets a unique slug from its name."""
    if not customer.slug:
        customer.slug = unique_slug(Customer, customer.name, instance_pk=customer.pk)
    customer.full_clean()
    customer.save()
    return customer


def retire_customer(customer: Customer) -> None:
    """A retired customer consumes nothing any more: its current subscriptions end with it."""
    now = timezone.now()
    for subscription in customer.subscriptions.filter(retired_at__isnull=True):
        subscription.retired_at = now
        subscription.save()
    customer.retired_at = customer.retired_at or now
    customer.save()


def remove_customer(*, customer: Customer) -> str:
    """Delete a customer nothing refers to; retire one with subscriptions or other links."""
    return delete_or_retire(customer, retire=retire_customer)


def save_subscription(*, subscription: Subscription) -> Subscription:
    """Create or update a subscription.

    Its revenue needs a price: a monthly price per unit or an annual charge. It cannot end
    before it starts; a new one cannot be for a retired service or customer; and it keeps
    its service once outcomes are tied to that service's specification items.
    """
    errors = {}
    if subscription.price_per_unit is None and subscription.annual_charge is None:
        errors["price_per_unit"] = "Give a price per unit or an annual charge."
    if (
        subscription.end_date
        and subscription.start_date
        and subscription.end_date < subscription.start_date
    ):
        errors["end_date"] = "The end date cannot be before the start date."
    if subscription.pk is None:
        if subscription.service_id and subscription.service.is_retired:
            errors["service"] = "This service is retired: it takes no new subscriptions."
        if subscription.customer_id and subscription.customer.is_retired:
            errors["customer"] = "This customer is retired: it takes no new subscriptions."
    else:
        previous_service = (
            Subscription.objects.filter(pk=subscription.pk).values_list("service_id", flat=True)
        ).first()
        if (
            previous_service != subscription.service_id
            and subscription.outcomes.filter(specification_item__isnull=False).exists()
        ):
            errors["service"] = (
                "Outcomes refer to items of the subscribed service: the service cannot change."
            )
    if errors:
        raise ValidationError(errors)
    subscription.full_clean()
    subscription.save()
    return subscription


def remove_subscription(*, subscription: Subscription) -> str:
    """Delete a subscription nothing refers to; one with outcomes (or cost, or other links)
    is ended (retired), so its Successful Customer Outcomes stay on record."""
    return delete_or_retire(subscription)


def save_outcome(*, outcome: Outcome) -> Outcome:
    """Create or update a Successful Customer Outcome.

    The statement is the customer's; its measure (metric, target, unit) may come later, and
    until it does the outcome is shown as not yet an SCO. A specification item it refers to
    must belong to the subscribed service.
    """
    if not (outcome.statement or "").strip():
        raise ValidationError({"statement": "Write the outcome in the customer's own words."})
    if (
        outcome.specification_item_id
        and outcome.specification_item.service_id != outcome.subscription.service_id
    ):
        raise ValidationError({"specification_item": "Choose an item of the subscribed service."})
    outcome.full_clean()
    outcome.save()
    return outcome


def remove_outcome(*, outcome: Outcome) -> None:
    outcome.delete()


def save_supplier(*, supplier: Supplier) -> Supplier:
    if not supplier.slug:
        supplier.slug = unique_slug(Supplier, supplier.name, instance_pk=supplier.pk)
    supplier.full_clean()
    supplier.save()
    return supplier


def remove_supplier(*, supplier: Supplier) -> str:
    """Delete a supplier nothing refers to; retire one with contracts or applications (they
    keep running until they are retired on their own)."""
    return delete_or_retire(supplier, retire=_retire)


def save_contract(*, contract: Contract) -> Contract:
    """Create or update a contract: a reference unique per supplier, ending after it starts."""
    errors = {}
    if contract.end_date and contract.start_date and contract.end_date < contract.start_date:
        errors["end_date"] = "The end date cannot be before the start date."
    if (
        contract.renewal_date
        and contract.start_date
        and contract.renewal_date < contract.start_date
    ):
        errors["renewal_date"] = "The renewal date cannot be before the start date."
    if (
        contract.supplier_id
        and contract.reference
        and Contract.objects.filter(supplier_id=contract.supplier_id, reference=contract.reference)
        .exclude(pk=contract.pk)
        .exists()
    ):
        errors["reference"] = "This supplier already has a contract with this reference."
    if errors:
        raise ValidationError(errors)
    contract.full_clean()
    contract.save()
    return contract


def remove_contract(*, contract: Contract) -> str:
    """Delete a contract nothing refers to (its coverages go with it); retire it otherwise."""
    return delete_or_retire(contract, parts=(ContractCoverage,), retire=_retire)


def save_coverage(*, coverage: ContractCoverage) -> ContractCoverage:
    """A contract covers exactly one service or one application, each at most once."""
    if coverage.service_id and coverage.application_id:
        raise ValidationError(
            {"application": "Choose either a service or an application, not both."}
        )
    if not coverage.service_id and not coverage.application_id:
        raise ValidationError({"service": "Choose a service or an application."})
    if coverage.service_id:
        field, duplicates = "service", {"service_id": coverage.service_id}
    else:
        field, duplicates = "application", {"application_id": coverage.application_id}
    if (
        ContractCoverage.objects.filter(contract_id=coverage.contract_id, **duplicates)
        .exclude(pk=coverage.pk)
        .exists()
    ):
        raise ValidationError({field: f"This contract already covers this {field}."})
    coverage.full_clean(validate_unique=False)
    coverage.save()
    return coverage


def remove_coverage(*, coverage: ContractCoverage) -> None:
    coverage.delete()


def save_application(*, application: Application) -> Application:
    """Create or update an application; retiring it through its lifecycle retires it."""
    if not application.slug:
        application.slug = unique_slug(Application, application.name, instance_pk=application.pk)
    if application.lifecycle == ApplicationLifecycle.RETIRED:
        application.retired_at = application.retired_at or timezone.now()
    else:
        application.retired_at = None
    application.full_clean()
    application.save()
    return application


def retire_application(application: Application) -> None:
    application.lifecycle = ApplicationLifecycle.RETIRED
    application.retired_at = application.retired_at or timezone.now()
    application.save()


def remove_application(*, application: Application) -> str:
    """Delete an application nothing refers to (the services it supports are its own links);
    retire it when a contract covers it or cost and history refer to it."""
    return delete_or_retire(application, parts=(ApplicationSupport,), retire=retire_application)


def save_application_support(*, support: ApplicationSupport) -> ApplicationSupport:
    """The application supports a service at most once."""
    if (
        ApplicationSupport.objects.filter(
            application_id=support.application_id, service_id=support.service_id
        )
        .exclude(pk=support.pk)
        .exists()
    ):
        raise ValidationError({"service": "This application already supports this service."})
    support.full_clean(validate_unique=False)
    support.save()
    return support


def remove_application_support(*, support: ApplicationSupport) -> None:
    support.delete()
