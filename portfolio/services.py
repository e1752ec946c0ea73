"""Writes and workflows of the service portfolio: the one place its business rules live.

Each model's write rules are written once, over rows (core.rules): the functions below apply
them to one record, and the sync engine applies the same rules to a batch. Callers own the
transaction (the generic views, the API and the tasks open it).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from core import changelog
from core import permissions
from core import roles
from core import rules
from core.choices import ChangeAction
from core.money import LARGEST_AMOUNT
from core.money import format_amount
from core.rules import Change
from core.rules import first_with
from core.rules import stored_pairs
from core.rules import values_by_id
from core.services import change_edge_from_month
from core.services import delete_or_retire
from core.services import dependents
from core.services import move_within
from core.services import renumber
from core.slugs import generate_slugs
from performance.services import record_target_change_of
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import Dimension
from portfolio.choices import ServiceLifecycle
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier

LIFECYCLE_DATE_FIELD = {
    ServiceLifecycle.PIPELINE: "pipeline_on",
    ServiceLifecycle.LIVE: "live_on",
    ServiceLifecycle.RETIRED: "retired_on",
}


generate_slugs(Service, "name")


HANDOVER = "Only the service's owner or a Portfolio manager hands it over."


@dataclass(frozen=True)
class ServiceWriter:
    is_service_owner: bool  # of the role: a service they create without an owner is theirs
    hands_over_any: bool  # may change every service's owner (a Portfolio manager)


def service_writer(changes: list[Change]) -> ServiceWriter:
    """Facts of the service rule: what the writer's role says (one query)."""
    user = changes[0].writer.user
    if user is None:  # a task or a command: no person to hold back
        return ServiceWriter(is_service_owner=False, hands_over_any=True)
    return ServiceWriter(
        is_service_owner=user.groups.filter(name=roles.SERVICE_OWNER).exists(),
        hands_over_any=permissions.may_every(user, "change", Service),
    )


def may_hand_over(writer: ServiceWriter, user, stored_owner_id) -> bool:
    """The owner hands their service over, and a Portfolio manager any; a delegate does not."""
    return writer.hands_over_any or (user is not None and stored_owner_id == user.pk)


@rules.rule(Service, facts=service_writer)
def service_rule(change: Change, writer: ServiceWriter) -> None:
    """A service owner who creates a service without naming an owner becomes its owner; only
    the owner or a Portfolio manager changes the owner; a lifecycle change of a stored
    service stamps its date unless one is given (and leaving "retired" clears the retirement
    date). A new service keeps the dates it is given and no others: a service recorded (or
    imported) today did not go live today, and an unknown date is shown as unknown."""
    row, user = change.row, change.writer.user
    if change.is_new and row["owner_id"] is None and writer.is_service_owner:
        row["owner_id"] = user.pk
    if change.moved("owner_id") and not may_hand_over(writer, user, change.before["owner_id"]):
        change.error("owner", HANDOVER)
    if change.before is None:
        if row["lifecycle"] != ServiceLifecycle.RETIRED:
            row["retired_on"] = None
    elif row["lifecycle"] != change.before["lifecycle"]:
        date_field = LIFECYCLE_DATE_FIELD[row["lifecycle"]]
        row[date_field] = row[date_field] or change.writer.today
        if row["lifecycle"] != ServiceLifecycle.RETIRED:
            row["retired_on"] = None


def service_is_retired(row: dict) -> bool:
    return row.get("lifecycle") == ServiceLifecycle.RETIRED


def save_service(*, service: Service, user=None, delegates=None) -> Service:
    """Create or update a service (service_rule) and, given, its delegates: chosen by the
    owner or a Portfolio manager, not by a delegate."""
    change = rules.enforce(service, user=user)
    if delegates is not None and service.pk is not None:
        chosen = {getattr(d, "pk", d) for d in delegates}
        current = set(service.delegates.values_list("pk", flat=True))
        stored_owner = change.before["owner_id"] if change.before else None
        if chosen != current and not may_hand_over(service_writer([change]), user, stored_owner):
            raise ValidationError({"delegates": HANDOVER})
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


def service_retirement(now) -> dict:
    """What a full sync's retirement sets on each service it retires, in one UPDATE for all
    (service_rule then stamps the retirement date, as for any lifecycle change)."""
    return {"lifecycle": ServiceLifecycle.RETIRED}


def retire_service(service: Service) -> None:
    service.lifecycle = ServiceLifecycle.RETIRED
    service.retired_on = timezone.localdate()
    service.save()


def service_dependents(service: Service) -> list[str]:
    """What keeps a service from being deleted: the records that refer to it (dependencies,
    cost items, contracts, stages, subscriptions …; its specification items go with it) and
    its changes since it was created. None: a service made by mistake, deleted for good."""
    return dependents(service, parts=(SpecificationItem,), history=True)


def remove_service(service: Service) -> str:
    """Delete a service nothing depends on (``service_dependents``); retire any other."""
    return delete_or_retire(
        service, parts=(SpecificationItem,), retire=retire_service, history=True
    )


# --- Specification items (the four quadrants) ---------------------------------------------


def _quadrant(row: dict) -> tuple:
    return (row["service_id"], row["aspect"], row["dimension"])


def last_positions(changes: list[Change]) -> dict[tuple, int]:
    """Facts of the item rule: the last position in each quadrant new items go to."""
    new = [change.row for change in changes if change.is_new]
    if not new:
        return {}
    return {
        (row["service_id"], row["aspect"], row["dimension"]): row["last"]
        for row in SpecificationItem.objects.filter(service_id__in={r["service_id"] for r in new})
        .values("service_id", "aspect", "dimension")
        .annotate(last=Max("position"))
        .order_by()
    }


@rules.rule(SpecificationItem, facts=last_positions)
def specification_item_rule(change: Change, last: dict[tuple, int]) -> None:
    """A new item goes to the end of its quadrant; a functionality item is a statement, so a
    measure on it would mean nothing and is cleared."""
    row = change.row
    if row["dimension"] == Dimension.FUNCTIONALITY:
        for name in SpecificationItem.MEASURE_FIELDS:
            row[name] = None if name == "target" else ""
    if change.is_new:
        quadrant = _quadrant(row)
        row["position"] = last[quadrant] = last[quadrant] + 1 if quadrant in last else 0


def add_specification_item(*, item: SpecificationItem) -> SpecificationItem:
    """Add an item at the end of its quadrant."""
    return save_specification_item(item=item)


def save_specification_item(*, item: SpecificationItem) -> SpecificationItem:
    """Save an item; a new or changed target is kept in its target history."""
    before = rules.stored_row(item)
    rules.save_checked(item)
    record_target_change_of(item, before)
    return item


def move_specification_item(*, item: SpecificationItem, offset: int) -> None:
    """Move an item up (-1) or down (+1) within its quadrant; the ends stay put."""
    siblings = SpecificationItem.objects.filter(
        service_id=item.service_id, aspect=item.aspect, dimension=item.dimension
    ).order_by("position", "id")
    move_within(siblings, item, offset)


def remove_specification_item(*, item: SpecificationItem) -> None:
    service_id, aspect, dimension = item.service_id, item.aspect, item.dimension
    item.delete()
    renumber(
        SpecificationItem.objects.filter(
            service_id=service_id, aspect=aspect, dimension=dimension
        ).order_by("position", "id")
    )


# --- Dependencies ----------------------------------------------------------------------------


# A dependency is recorded once for any day: two of one pair never overlap.
rules.effective_dated(
    ServiceDependency, "consumer_id", "provider_id", "This dependency is already recorded"
)
# A provider's consumers share its cost all by weight or all by one driver's quantities.
rules.one_driver_per_source(ServiceDependency, "provider_id", "provider service")


def remove_dependency(*, dependency: ServiceDependency) -> None:
    dependency.delete()


def save_dependency(*, dependency: ServiceDependency) -> ServiceDependency:
    return rules.save_checked(dependency, validate_unique=False)


def change_dependency_from_month(
    *, dependency: ServiceDependency, month: date, weight: Decimal, user
) -> ServiceDependency:
    """End the dependency with the month before ``month`` and carry on from ``month`` with
    ``weight`` (core.services.change_edge_from_month)."""
    return change_edge_from_month(
        dependency,
        month=month,
        weight=weight,
        user=user,
        save=lambda edge: save_dependency(dependency=edge),
    )


# --- Customers, suppliers, contracts, applications --------------------------------------------


def _retire(obj) -> None:
    obj.retired_at = obj.retired_at or timezone.now()
    obj.save()


generate_slugs(Customer, "name")


def save_customer(*, customer: Customer) -> Customer:
    """Create or update a customer; a new one gets a unique slug from its name."""
    return rules.save_checked(customer)


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


@dataclass
class SubscriptionFacts:
    retired_services: set
    retired_customers: set
    tied: set  # moved subscriptions whose outcomes refer to items of their service


def subscription_facts(changes: list[Change]) -> SubscriptionFacts:
    new = [change.row for change in changes if change.is_new]
    services = values_by_id(Service, {row["service_id"] for row in new}, "lifecycle")
    customers = values_by_id(Customer, {row["customer_id"] for row in new}, "retired_at")
    moved = [change.row["id"] for change in changes if change.moved("service_id")]
    tied = set()
    if moved:
        tied = set(
            Outcome.objects.filter(subscription_id__in=moved, specification_item__isnull=False)
            .values_list("subscription_id", flat=True)
            .order_by()
        )
    return SubscriptionFacts(
        retired_services={pk for pk, r in services.items() if service_is_retired(r)},
        retired_customers={pk for pk, r in customers.items() if r["retired_at"] is not None},
        tied=tied,
    )


@rules.rule(Subscription, facts=subscription_facts)
def subscription_rule(change: Change, facts: SubscriptionFacts) -> None:
    """Its revenue needs a price: a monthly price per unit or an annual charge, and units ×
    price per unit is an amount (at most LARGEST_AMOUNT a month). It cannot end
    before it starts; a new one cannot be for a retired service or customer; and it keeps its
    service once outcomes are tied to that service's specification items."""
    row = change.row
    if row["price_per_unit"] is None and row["annual_charge"] is None:
        change.error("price_per_unit", "Give a price per unit or an annual charge.")
    elif row["price_per_unit"] is not None and row["units"] is not None:
        monthly = row["units"] * row["price_per_unit"]
        if monthly > LARGEST_AMOUNT:
            change.error(
                "price_per_unit",
                f"Units × price per unit make a monthly charge of {format_amount(monthly)}, "
                f"more than the largest amount ({format_amount(LARGEST_AMOUNT)}).",
            )
    if row["end_date"] and row["start_date"] and row["end_date"] < row["start_date"]:
        change.error("end_date", "The end date cannot be before the start date.")
    if change.is_new:
        if row["service_id"] in facts.retired_services:
            change.error("service", "This service is retired: it takes no new subscriptions.")
        if row["customer_id"] in facts.retired_customers:
            change.error("customer", "This customer is retired: it takes no new subscriptions.")
    elif row["id"] in facts.tied:
        change.error(
            "service",
            "Outcomes refer to items of the subscribed service: the service cannot change.",
        )


def save_subscription(*, subscription: Subscription) -> Subscription:
    """Create or update a subscription (subscription_rule)."""
    return rules.save_checked(subscription)


def remove_subscription(*, subscription: Subscription) -> str:
    """Delete a subscription nothing refers to; one with outcomes (or cost, or other links)
    is ended (retired), so its Successful Customer Outcomes stay on record."""
    return delete_or_retire(subscription)


def outcome_facts(changes: list[Change]) -> tuple[dict, dict]:
    """The service of each subscription and of each specification item the outcomes name."""
    subscriptions = values_by_id(
        Subscription, {change.row["subscription_id"] for change in changes}, "service_id"
    )
    items = values_by_id(
        SpecificationItem,
        {change.row["specification_item_id"] for change in changes},
        "service_id",
    )
    return subscriptions, items


@rules.rule(Outcome, facts=outcome_facts)
def outcome_rule(change: Change, facts: tuple[dict, dict]) -> None:
    """The statement is the customer's; its measure (metric, target, unit) may come later, and
    until it does the outcome is shown as not yet an SCO. A specification item it refers to
    must belong to the subscribed service."""
    subscriptions, items = facts
    row = change.row
    if not (row["statement"] or "").strip():
        change.error("statement", "Write the outcome in the customer's own words.")
        return
    item = items.get(row["specification_item_id"])
    subscription = subscriptions.get(row["subscription_id"])
    if item and subscription and item["service_id"] != subscription["service_id"]:
        change.error("specification_item", "Choose an item of the subscribed service.")


def save_outcome(*, outcome: Outcome) -> Outcome:
    """Create or update a Successful Customer Outcome (outcome_rule); a new or changed
    target is kept in its target history."""
    before = rules.stored_row(outcome)
    rules.save_checked(outcome)
    record_target_change_of(outcome, before)
    return outcome


def remove_outcome(*, outcome: Outcome) -> None:
    outcome.delete()


generate_slugs(Supplier, "name")


def save_supplier(*, supplier: Supplier) -> Supplier:
    return rules.save_checked(supplier)


def remove_supplier(*, supplier: Supplier) -> str:
    """Delete a supplier nothing refers to; retire one with contracts or applications (they
    keep running until they are retired on their own)."""
    return delete_or_retire(supplier, retire=_retire)


def contract_facts(changes: list[Change]) -> tuple[dict, dict]:
    """The first contract of the batch with each (supplier, reference), and the stored ones."""
    first = first_with(changes, lambda c: (c.row["supplier_id"], c.row["reference"]))
    return first, stored_pairs(Contract, changes, "supplier_id", "reference")


@rules.rule(Contract, facts=contract_facts)
def contract_rule(change: Change, facts: tuple[dict, dict]) -> None:
    """A reference unique per supplier; no end and no renewal before the start."""
    first, stored = facts
    row = change.row
    if row["end_date"] and row["start_date"] and row["end_date"] < row["start_date"]:
        change.error("end_date", "The end date cannot be before the start date.")
    if row["renewal_date"] and row["start_date"] and row["renewal_date"] < row["start_date"]:
        change.error("renewal_date", "The renewal date cannot be before the start date.")
    pair = (row["supplier_id"], row["reference"])
    if first[pair] is not change:
        change.error("reference", f"Item {first[pair].index} has the same reference.")
    elif stored.get(pair, row["id"]) != row["id"]:
        change.error("reference", "This supplier already has a contract with this reference.")


def save_contract(*, contract: Contract) -> Contract:
    """Create or update a contract (contract_rule)."""
    return rules.save_checked(contract)


def remove_contract(*, contract: Contract) -> str:
    """Delete a contract nothing refers to (its coverages go with it); retire it otherwise."""
    return delete_or_retire(contract, parts=(ContractCoverage,), retire=_retire)


def coverage_facts(changes: list[Change]) -> dict[str, rules.DatedPairs]:
    """The stored coverages of the changes' (contract, service) and (contract, application)
    pairs, with their days."""
    return {
        target: rules.dated_pairs(ContractCoverage, changes, "contract_id", f"{target}_id")
        for target in ("service", "application")
    }


@rules.rule(ContractCoverage, facts=coverage_facts)
def coverage_rule(change: Change, facts: dict[str, rules.DatedPairs]) -> None:
    """A contract covers exactly one service or one application, each at most once for any
    day; a coverage does not end before it starts."""
    row = change.row
    if row["service_id"] and row["application_id"]:
        change.error("application", "Choose either a service or an application, not both.")
        return
    if not row["service_id"] and not row["application_id"]:
        change.error("service", "Choose a service or an application.")
        return
    if row["valid_from"] and row["valid_to"] and row["valid_to"] < row["valid_from"]:
        change.error("valid_to", rules.ENDS_BEFORE_START)
        return
    target = "service" if row["service_id"] else "application"
    refusal = rules.dated_overlap(
        change,
        facts[target],
        "contract_id",
        f"{target}_id",
        f"This contract already covers this {target}",
    )
    if refusal:
        change.error(target, refusal)


def save_coverage(*, coverage: ContractCoverage) -> ContractCoverage:
    """Create or update a coverage (coverage_rule)."""
    return rules.save_checked(coverage, validate_unique=False)


def change_coverage_from_month(
    *, coverage: ContractCoverage, month: date, weight: Decimal, user
) -> ContractCoverage:
    """End the coverage with the month before ``month`` and carry on from ``month`` with
    ``weight`` (core.services.change_edge_from_month)."""
    return change_edge_from_month(
        coverage,
        month=month,
        weight=weight,
        user=user,
        save=lambda edge: save_coverage(coverage=edge),
    )


def remove_coverage(*, coverage: ContractCoverage) -> None:
    coverage.delete()


generate_slugs(Application, "name")


@rules.rule(Application)
def application_rule(change: Change, facts: None) -> None:
    """An application is retired exactly when its lifecycle says so."""
    row = change.row
    if row["lifecycle"] == ApplicationLifecycle.RETIRED:
        row["retired_at"] = row["retired_at"] or change.writer.now
    else:
        row["retired_at"] = None


def application_is_retired(row: dict) -> bool:
    return bool(row.get("retired_at")) or row.get("lifecycle") == ApplicationLifecycle.RETIRED


def save_application(*, application: Application) -> Application:
    """Create or update an application; retiring it through its lifecycle retires it."""
    return rules.save_checked(application)


def application_retirement(now) -> dict:
    """What a full sync's retirement sets on each application it retires, in one UPDATE for
    all (application_rule then sets ``retired_at``)."""
    return {"lifecycle": ApplicationLifecycle.RETIRED}


def retire_application(application: Application) -> None:
    application.lifecycle = ApplicationLifecycle.RETIRED
    application.retired_at = application.retired_at or timezone.now()
    application.save()


def application_dependents(*, application: Application) -> list[str]:
    """What keeps an application from being deleted: a contract covering it, cost, stages,
    its changes since it was created (the services it supports are its own links)."""
    return dependents(application, parts=(ApplicationSupport,), history=True)


def remove_application(*, application: Application) -> str:
    """Delete an application nothing depends on (``application_dependents``); retire any
    other."""
    return delete_or_retire(
        application, parts=(ApplicationSupport,), retire=retire_application, history=True
    )


# The application supports a service at most once for any day.
rules.effective_dated(
    ApplicationSupport,
    "application_id",
    "service_id",
    "This application already supports this service",
)
# An application's services share its cost all by weight or all by one driver's quantities.
rules.one_driver_per_source(ApplicationSupport, "application_id", "application")


def save_application_support(*, support: ApplicationSupport) -> ApplicationSupport:
    return rules.save_checked(support, validate_unique=False)


def change_application_support_from_month(
    *, support: ApplicationSupport, month: date, weight: Decimal, user
) -> ApplicationSupport:
    """End the support with the month before ``month`` and carry on from ``month`` with
    ``weight`` (core.services.change_edge_from_month)."""
    return change_edge_from_month(
        support,
        month=month,
        weight=weight,
        user=user,
        save=lambda edge: save_application_support(support=edge),
    )


def remove_application_support(*, support: ApplicationSupport) -> None:
    support.delete()
