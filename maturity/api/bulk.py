"""The rules of maturity.services in bulk form, for the sync engine (core.api.sync).

Each ``prepare_*`` function applies to a whole batch, with a constant number of queries, what
the matching services.py function does to one record; the model's ``clean()`` runs afterwards
on every new or changed row. The level and override rules are not repeated: both sides call
``services.rate``. Keep the rest in step with ``save_party``, ``_apply``/``update_assessment``
and ``save_self_assessment`` (tests/api/test_maturity_resources.py sends the same bad record
both ways).
"""

from django.core.exceptions import ValidationError

from maturity import services
from maturity.choices import PartyKind
from maturity.models import Party
from portfolio.models import Customer


def _name_parties(batch, party_ids) -> None:
    """Load the parties (and their customers, which name them) so the rules and the change
    records read them without a query each."""
    resolver = batch.resolver
    resolver.ensure(Party, party_ids)
    rows = [resolver.row(Party, pk) for pk in party_ids if resolver.row(Party, pk)]
    resolver.ensure(Customer, {row["customer_id"] for row in rows if row["customer_id"]})
    for row in rows:
        if row["customer_id"]:
            party = resolver.instance(Party, row["id"])
            party._state.fields_cache["customer"] = resolver.instance(Customer, row["customer_id"])


def prepare_parties(batch) -> None:
    """save_party: a party keeps its kind, a customer's party its customer, a unit stays a
    unit; one provider as a whole, unique unit names, one party per customer; a customer newly
    placed with a unit is placed with a unit of the provider that is not retired."""
    entries = []
    for entry in batch.valid_entries():
        row, existing = entry.row, entry.existing
        if existing is not None:
            if row["kind"] != existing["kind"]:
                batch.error(entry, "kind", services.PARTY_KIND_FIXED)
                continue
            if row["customer_id"] != existing["customer_id"]:
                batch.error(entry, "customer", services.PARTY_CUSTOMER_FIXED)
                continue
            if row["kind"] == PartyKind.PROVIDER and bool(row["unit_name"]) != bool(
                existing["unit_name"]
            ):
                batch.error(entry, "unit_name", services.PARTY_UNIT_FIXED)
                continue
        entries.append(entry)
    units, customers = {}, {}
    for entry in entries:
        row = entry.row
        if row["kind"] == PartyKind.PROVIDER:
            if row["unit_name"] in units:
                batch.error(
                    entry,
                    "unit_name",
                    f"Item {units[row['unit_name']].index} has the same unit name.",
                )
            else:
                units[row["unit_name"]] = entry
        elif row["customer_id"] is not None:
            if row["customer_id"] in customers:
                other = customers[row["customer_id"]].index
                batch.error(entry, "customer", f"Item {other} is the party of the same customer.")
            else:
                customers[row["customer_id"]] = entry
    if units or customers:
        stored = Party.objects.filter(
            kind=PartyKind.PROVIDER, unit_name__in=list(units)
        ) | Party.objects.filter(customer_id__in=list(customers))
        for pk, kind, unit_name, customer_id in stored.values_list(
            "pk", "kind", "unit_name", "customer_id"
        ):
            if kind == PartyKind.PROVIDER and unit_name in units:
                entry, field_name = units[unit_name], "unit_name"
                message = services.UNIT_NAME_TAKEN if unit_name else services.organisation_taken(pk)
            elif customer_id in customers:
                entry, field_name = customers[customer_id], "customer"
                message = services.customer_taken(pk)
            else:
                continue
            if entry.existing is None or entry.existing["id"] != pk:
                batch.error(entry, field_name, message)
    placed = [
        e
        for e in entries
        if e.row["kind"] == PartyKind.CUSTOMER
        and e.row["served_by_id"] is not None
        and (e.existing is None or e.row["served_by_id"] != e.existing["served_by_id"])
    ]
    batch.resolver.ensure(Party, {e.row["served_by_id"] for e in placed})
    # A unit the batch sends again is back in service with it.
    sent = {e.existing["id"]: e.row for e in entries if e.existing is not None}
    for entry in placed:
        pk = entry.row["served_by_id"]
        unit = Party(**sent[pk]) if pk in sent else batch.resolver.instance(Party, pk)
        problem = services.serving_unit_error(unit)
        if problem:
            batch.error(entry, "served_by", problem)


def prepare_assessments(batch) -> None:
    """_apply and update_assessment: an assessment stays with its party; a retired party is
    no longer assessed; no date in the future; the answers, the level they give and any
    override with its reason by services.rate; a new assessment names its assessor, the user
    who sends it."""
    entries = batch.valid_entries()
    _name_parties(batch, {e.row["party_id"] for e in entries})
    for entry in entries:
        row, existing = entry.row, entry.existing
        if existing is not None and row["party_id"] != existing["party_id"]:
            batch.error(entry, "party", services.PARTY_OF_ASSESSMENT_FIXED)
            continue
        party = batch.resolver.instance(Party, row["party_id"])
        errors = {}
        if row["assessed_on"] > batch.today:
            errors["assessed_on"] = ["An assessment cannot be dated in the future."]
        try:
            rating = services.rate(
                kind=party.kind,
                answers=row["answers"],
                override_level=row["override_level"],
                override_reason=row["override_reason"],
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            row["answers"] = rating.answers
            row["computed_level"] = rating.computed_level
            row["override_level"] = rating.override_level
            row["override_reason"] = rating.override_reason
            row["level"] = rating.level
        if entry.is_new:
            row["assessor_id"] = batch.user.pk
        # Sent again unchanged, an assessment of a party retired since is left as it is.
        if party.is_retired and (existing is None or row != existing):
            errors = {"party": [services.retired_party_error(party)], **errors}
        for field_name, messages in errors.items():
            for message in messages:
                batch.error(entry, field_name, message)


def prepare_self_assessments(batch) -> None:
    """save_self_assessment: no date in the future; a new self-assessment names its assessor,
    the user who sends it."""
    for entry in batch.valid_entries():
        if entry.row["assessed_on"] > batch.today:
            batch.error(entry, "assessed_on", services.SELF_ASSESSMENT_IN_FUTURE)
        if entry.is_new:
            entry.row["assessor_id"] = batch.user.pk
