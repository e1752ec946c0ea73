"""The rules of portfolio.services in bulk form, for the sync engine (core.api.sync).

Each ``prepare_*`` function gets a Batch whose entries carry merged rows (attnames as keys:
``owner_id``, ``lifecycle`` …) and applies to all of them at once what the matching
``save_*`` function does to one record, with a constant number of queries. The model's own
``clean()`` runs afterwards on every new or changed row, so rules already in ``clean()`` are not
repeated here. Keep each function in step with its ``save_*`` function (the tests in
tests/api/test_rules_parity.py send the same bad record both ways).
"""

from django.contrib.auth.models import Group
from django.db.models import Max

from core import roles
from portfolio import services
from portfolio.choices import ApplicationLifecycle, Dimension, ServiceLifecycle
from portfolio.models import (
    Contract,
    Customer,
    Outcome,
    Service,
    SpecificationItem,
)


def prepare_services(batch) -> None:
    """save_service: a service owner creating a service without an owner becomes its owner;
    a lifecycle change stamps its date (and leaving "retired" clears the retirement date)."""
    entries = batch.valid_entries()
    unowned_new = [
        e for e in entries if e.is_new and not e.provided("owner") and e.row["owner_id"] is None
    ]
    if unowned_new and batch.user is not None:
        creator_owns = Group.objects.filter(name=roles.SERVICE_OWNER, user=batch.user).exists()
        if creator_owns:
            for entry in unowned_new:
                entry.row["owner_id"] = batch.user.pk
    for entry in entries:
        row = entry.row
        previous = entry.existing["lifecycle"] if entry.existing else None
        if row["lifecycle"] != previous:
            date_field = services.LIFECYCLE_DATE_FIELD[row["lifecycle"]]
            row[date_field] = row[date_field] or batch.today
            if row["lifecycle"] != ServiceLifecycle.RETIRED:
                row["retired_on"] = None


def service_is_retired(row: dict) -> bool:
    return row.get("lifecycle") == ServiceLifecycle.RETIRED


def prepare_specification_items(batch) -> None:
    """save_specification_item: a functionality item is a statement, so it has no measure;
    add_specification_item: a new item goes to the end of its quadrant."""
    entries = batch.valid_entries()
    for entry in entries:
        row = entry.row
        if row["dimension"] == Dimension.FUNCTIONALITY:
            for name in SpecificationItem.MEASURE_FIELDS:
                row[name] = None if name == "target" else ""
            row["actual_value"] = row["actual_on"] = None
    new = [e for e in entries if e.is_new]
    if not new:
        return
    last = {
        (r["service_id"], r["aspect"], r["dimension"]): r["last"]
        for r in SpecificationItem.objects.filter(service_id__in={e.row["service_id"] for e in new})
        .values("service_id", "aspect", "dimension")
        .annotate(last=Max("position"))
        .order_by()
    }
    for entry in new:
        quadrant = (entry.row["service_id"], entry.row["aspect"], entry.row["dimension"])
        position = 0 if last.get(quadrant) is None else last[quadrant] + 1
        entry.row["position"] = last[quadrant] = position


def prepare_subscriptions(batch) -> None:
    """save_subscription: a price (per unit or annual); no end before the start; a new
    subscription is not for a retired service or customer; a subscription keeps its service
    once outcomes refer to that service's items."""
    entries = batch.valid_entries()
    moved = {
        e.existing["id"]: e
        for e in entries
        if not e.is_new and e.row["service_id"] != e.existing["service_id"]
    }
    tied = set()
    if moved:
        tied = set(
            Outcome.objects.filter(
                subscription_id__in=list(moved), specification_item__isnull=False
            ).values_list("subscription_id", flat=True)
        )
    for entry in entries:
        row = entry.row
        if row["price_per_unit"] is None and row["annual_charge"] is None:
            batch.error(entry, "price_per_unit", "Give a price per unit or an annual charge.")
        if row["end_date"] and row["start_date"] and row["end_date"] < row["start_date"]:
            batch.error(entry, "end_date", "The end date cannot be before the start date.")
        if entry.is_new:
            service = batch.related(Service, row["service_id"])
            customer = batch.related(Customer, row["customer_id"])
            if service and service["lifecycle"] == ServiceLifecycle.RETIRED:
                batch.error(
                    entry, "service", "This service is retired: it takes no new subscriptions."
                )
            if customer and customer["retired_at"] is not None:
                batch.error(
                    entry, "customer", "This customer is retired: it takes no new subscriptions."
                )
        elif entry.existing["id"] in tied:
            batch.error(
                entry,
                "service",
                "Outcomes refer to items of the subscribed service: the service cannot change.",
            )


def prepare_contracts(batch) -> None:
    """save_contract: no end and no renewal before the start; a reference unique per
    supplier."""
    entries = batch.valid_entries()
    for entry in entries:
        row = entry.row
        if row["end_date"] and row["start_date"] and row["end_date"] < row["start_date"]:
            batch.error(entry, "end_date", "The end date cannot be before the start date.")
        if row["renewal_date"] and row["start_date"] and row["renewal_date"] < row["start_date"]:
            batch.error(entry, "renewal_date", "The renewal date cannot be before the start date.")
    seen = {}
    for entry in entries:
        pair = (entry.row["supplier_id"], entry.row["reference"])
        if pair in seen:
            batch.error(entry, "reference", f"Item {seen[pair].index} has the same reference.")
        seen[pair] = entry
    if not seen:
        return
    stored = Contract.objects.filter(
        supplier_id__in={s for s, _ in seen}, reference__in={r for _, r in seen}
    ).values_list("pk", "supplier_id", "reference")
    for pk, supplier_id, reference in stored:
        entry = seen.get((supplier_id, reference))
        if entry is not None and (entry.existing is None or entry.existing["id"] != pk):
            batch.error(
                entry, "reference", "This supplier already has a contract with this reference."
            )


def prepare_coverages(batch) -> None:
    """save_coverage: a coverage names exactly one service or one application (each pair once,
    which the key already ensures)."""
    for entry in batch.valid_entries():
        service, application = entry.row["service_id"], entry.row["application_id"]
        if service and application:
            batch.error(
                entry, "application", "Choose either a service or an application, not both."
            )
        elif not service and not application:
            batch.error(entry, "service", "Choose a service or an application.")


def prepare_applications(batch) -> None:
    """save_application: an application is retired exactly when its lifecycle says so."""
    for entry in batch.valid_entries():
        row = entry.row
        if row["lifecycle"] == ApplicationLifecycle.RETIRED:
            stored = entry.existing["retired_at"] if entry.existing else None
            row["retired_at"] = stored or batch.now
        else:
            row["retired_at"] = None


def application_is_retired(row: dict) -> bool:
    return bool(row.get("retired_at")) or row.get("lifecycle") == ApplicationLifecycle.RETIRED
