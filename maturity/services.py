"""Writes of the maturity app: parties, assessments (rated by maturity.scoring, the level
and mismatch rules that need no database), self-assessments and balance snapshots, each with
its write rules over rows (core.rules).

docs/maturity.md states each rule in plain words; keep the two in step.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from core import rules
from core.rules import Change
from core.rules import first_with
from core.rules import values_by_id
from core.services import delete_or_retire
from maturity import selectors
from maturity.choices import BalanceElement
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import BalanceSnapshot
from maturity.models import Party
from maturity.scoring import rate
from people.models import OrganisationUnit
from portfolio.models import Customer

# --- Parties -----------------------------------------------------------------------------------


def organisation_party(*, source: str = "", external_id: str = "") -> Party:
    """The provider as a whole, created with its first assessment."""
    party = Party.objects.filter(kind=PartyKind.PROVIDER, unit__isnull=True).first()
    if party is None:
        party = Party(kind=PartyKind.PROVIDER, source=source, external_id=external_id)
        party.full_clean()
        party.save()
    return party


def party_for_customer(*, customer: Customer, source: str = "", external_id: str = "") -> Party:
    """The customer's party, created with its first assessment or its first serving unit."""
    party = Party.objects.filter(customer=customer).first()
    if party is None:
        party = Party(
            kind=PartyKind.CUSTOMER, customer=customer, source=source, external_id=external_id
        )
        party.full_clean()
        party.save()
    return party


def save_provider_unit(*, unit: Party) -> Party:
    """Add a unit of the provider, or change the organisation unit it is (party_rule, as
    every write of a party). A provider unit is an organisation unit (people.models): it is
    named, renamed and placed in the hierarchy there."""
    unit.kind = PartyKind.PROVIDER
    if unit.unit_id is None:
        raise ValidationError({"unit": UNIT_REQUIRED})
    return save_party(party=unit)


def _retire_unit(unit: Party) -> None:
    # Its customers are served by the organisation as a whole until someone says otherwise.
    for customer_party in Party.objects.filter(served_by=unit):
        customer_party.served_by = None
        customer_party.save()
    unit.retired_at = unit.retired_at or timezone.now()
    unit.save()


def remove_provider_unit(*, unit: Party) -> str:
    """Delete a unit nobody refers to; retire one with assessments or customers."""
    if not unit.is_provider or unit.is_organisation:
        raise ValidationError("Only a unit of the provider can be removed.")
    return delete_or_retire(unit, retire=_retire_unit)


def serving_unit_error(unit: Party) -> str | None:
    """Why ``unit`` cannot be named as the one serving a customer, or None."""
    if not unit.is_provider or unit.is_organisation:
        return "Choose a unit of the provider."
    if unit.is_retired:
        return f"{unit} is retired."
    return None


def set_serving_unit(*, customer: Customer, unit: Party | None) -> Party:
    """Name the provider unit that serves ``customer`` (None: the whole organisation); the
    customer's party is made with it if it has none (party_rule, as every write of a party)."""
    party = Party.objects.filter(customer=customer).first()
    if party is None:
        party = Party(kind=PartyKind.CUSTOMER, customer=customer)
    party.served_by = unit
    return save_party(party=party)


PARTY_KIND_FIXED = "A party keeps its kind: add a party of the other kind instead."
PARTY_CUSTOMER_FIXED = "A customer's party stays with its customer."
PARTY_UNIT_FIXED = "A unit's party stays a unit's, and the provider as a whole has no unit."
UNIT_REQUIRED = "Choose the organisation unit assessed; the whole organisation needs none."
ONLY_PROVIDER_UNITS = "Only the provider has units."


def unit_taken(pk: int) -> str:
    return f"This organisation unit is assessed already: party {pk}."


def unit_retired(name: str) -> str:
    return f"{name} is retired: choose a unit in use."


def organisation_taken(pk: int) -> str:
    return f"The provider as a whole is party {pk} already."


def customer_taken(pk: int) -> str:
    return f"This customer has a party already: party {pk}."


@dataclass
class PartyFacts:
    units: dict  # the first party of the batch of each organisation unit (key 0: the whole)
    customers: dict  # the first party of the batch of each customer
    stored: dict  # ("unit", unit id or 0) or ("customer", id) -> the stored party's id
    unit_facts: dict  # organisation unit id -> its (name, retired_at), of each unit named
    serving: dict  # id -> row of each unit a customer is newly placed with


def _newly_placed(change: Change) -> bool:
    row = change.row
    return (
        row["kind"] == PartyKind.CUSTOMER
        and row["served_by_id"] is not None
        and (change.is_new or change.moved("served_by_id"))
    )


WHOLE = 0  # the key of the provider as a whole among the units (no record has id 0)


def _unit_key(change: Change) -> int:
    return change.row["unit_id"] or WHOLE


def party_facts(changes: list[Change]) -> PartyFacts:
    providers = [c for c in changes if c.row["kind"] == PartyKind.PROVIDER]
    customers = [c for c in changes if c.row["kind"] == PartyKind.CUSTOMER]
    units = first_with(providers, _unit_key)
    by_customer = first_with(customers, lambda c: c.row["customer_id"])
    unit_ids = [pk for pk in units if pk]
    stored = {}
    clashing = Party.objects.filter(customer_id__in=list(by_customer)) | Party.objects.filter(
        kind=PartyKind.PROVIDER, unit_id__in=unit_ids
    )
    if WHOLE in units:
        clashing |= Party.objects.filter(kind=PartyKind.PROVIDER, unit__isnull=True)
    for pk, kind, unit_id, customer_id in clashing.values_list(
        "pk", "kind", "unit_id", "customer_id"
    ).order_by("pk"):
        key = (
            ("unit", unit_id or WHOLE) if kind == PartyKind.PROVIDER else ("customer", customer_id)
        )
        stored.setdefault(key, pk)
    named = {c.row["unit_id"] for c in changes if c.row["unit_id"] is not None}
    unit_facts = {
        pk: (name, retired_at)
        for pk, name, retired_at in OrganisationUnit.objects.filter(pk__in=named).values_list(
            "pk", "name", "retired_at"
        )
    }
    wanted = {c.row["served_by_id"] for c in changes if _newly_placed(c)}
    # A unit the batch sends again is judged as sent (back in service with it).
    sent = {c.row["id"]: c.row for c in changes if c.row["id"] in wanted}
    serving = {
        **values_by_id(Party, wanted - set(sent), "kind", "unit_id", "retired_at", "customer_id"),
        **sent,
    }
    return PartyFacts(
        units=units,
        customers=by_customer,
        stored=stored,
        serving=serving,
        unit_facts=unit_facts,
    )


@rules.rule(Party, facts=party_facts)
def party_rule(change: Change, facts: PartyFacts) -> None:
    """A party keeps its kind, a customer's party its customer, and a unit's party stays a
    unit's. A provider party is its organisation unit (none: the provider as a whole): one
    party per unit, one for the whole, and a unit newly assessed is not retired. Only the
    provider has units, and a customer has one party. A customer newly placed with a unit is
    placed with a unit of the provider that is not retired."""
    row, before = change.row, change.before
    if before is not None:
        if row["kind"] != before["kind"]:
            change.error("kind", PARTY_KIND_FIXED)
            return
        if row["customer_id"] != before["customer_id"]:
            change.error("customer", PARTY_CUSTOMER_FIXED)
            return
        if row["kind"] == PartyKind.PROVIDER and (row["unit_id"] is None) != (
            before["unit_id"] is None
        ):
            change.error("unit", PARTY_UNIT_FIXED)
            return
    if row["kind"] == PartyKind.PROVIDER:
        first = facts.units[_unit_key(change)]
        clash = facts.stored.get(("unit", _unit_key(change)), row["id"])
        if first is not change:
            same = "the same organisation unit" if row["unit_id"] else "no unit either"
            change.error("unit", f"Item {first.index} has {same}.")
        elif clash != row["id"]:
            taken = unit_taken(clash) if row["unit_id"] else organisation_taken(clash)
            change.error("unit", taken)
        elif row["unit_id"] is not None and (change.is_new or change.moved("unit_id")):
            name, retired_at = facts.unit_facts.get(row["unit_id"], ("", None))
            if retired_at is not None:
                change.error("unit", unit_retired(name))
        return
    if row["unit_id"] is not None:
        change.error("unit", ONLY_PROVIDER_UNITS)
        return
    if row["customer_id"] is not None:
        first = facts.customers[row["customer_id"]]
        clash = facts.stored.get(("customer", row["customer_id"]), row["id"])
        if first is not change:
            change.error("customer", f"Item {first.index} is the party of the same customer.")
        elif clash != row["id"]:
            change.error("customer", customer_taken(clash))
    if _newly_placed(change):
        unit = facts.serving.get(row["served_by_id"])
        problem = serving_unit_error(Party(**unit)) if unit is not None else None
        if problem:
            change.error("served_by", problem)


def save_party(*, party: Party) -> Party:
    """Create or change any party: the provider as a whole (no unit), one of its units,
    or a customer's party (naming the unit that serves it); see party_rule."""
    return rules.save_checked(party)


def remove_party(*, party: Party) -> str:
    """Delete a party nothing refers to; retire one with assessments (or, a unit, customers).
    A retired unit hands its customers to the provider as a whole."""
    if party.is_provider and not party.is_organisation:
        return remove_provider_unit(unit=party)
    return delete_or_retire(party)


def retire_party(party: Party) -> None:
    """A party its source no longer sends (a full sync) is retired: no longer assessed, its
    history kept; a unit hands its customers to the provider as a whole."""
    if party.is_provider and not party.is_organisation:
        _retire_unit(party)
    elif party.retired_at is None:
        party.retired_at = timezone.now()
        party.save()


# --- Assessments -------------------------------------------------------------------------------

PARTY_OF_ASSESSMENT_FIXED = (
    "An assessment stays with its party: record a new one for the other party."
)


def retired_party_error(party) -> str:
    return f"{party} is retired and is no longer assessed."


def assessed_parties(changes: list[Change]) -> dict[int, Party]:
    """Facts of the assessment rule: the parties assessed (with what names them)."""
    ids = {change.row["party_id"] for change in changes}
    return Party.objects.select_related("customer").in_bulk(ids)


@rules.rule(Assessment, facts=assessed_parties)
def assessment_rule(change: Change, parties: dict[int, Party]) -> None:
    """An assessment stays with its party; a retired party is no longer assessed (one sent
    again unchanged is left as it is); no date in the future; the answers, the level they give
    and any override with its reason by ``rate``; a new assessment names its assessor, the
    user who records it."""
    row = change.row
    if change.moved("party_id"):
        change.error("party", PARTY_OF_ASSESSMENT_FIXED)
        return
    party = parties[row["party_id"]]
    if row["assessed_on"] > change.writer.today:
        change.error("assessed_on", "An assessment cannot be dated in the future.")
    try:
        rating = rate(
            kind=party.kind,
            answers=row["answers"],
            override_level=row["override_level"],
            override_reason=row["override_reason"] or "",
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                change.error(name, message)
    else:
        row["answers"] = rating.answers
        row["computed_level"] = rating.computed_level
        row["override_level"] = rating.override_level
        row["override_reason"] = rating.override_reason
        row["level"] = rating.level
    row["note"] = (row["note"] or "").strip()
    if change.is_new and row["assessor_id"] is None and change.writer.user is not None:
        row["assessor_id"] = change.writer.user.pk
    if party.is_retired and (change.is_new or row != change.before):
        change.error("party", retired_party_error(party))


def save_assessment(*, assessment: Assessment, user=None) -> Assessment:
    """Record or change an assessment (assessment_rule)."""
    return rules.save_checked(assessment, user=user)


def record_assessment(
    *,
    party: Party,
    assessed_on: datetime.date,
    answers: Mapping[str, object],
    override_level: int | None = None,
    override_reason: str = "",
    note: str = "",
    assessor=None,
    source: str = "",
    external_id: str = "",
) -> Assessment:
    """Rate ``party`` from its questionnaire answers; an override needs a reason.

    ``source`` and ``external_id`` key an assessment that comes from another system.
    """
    assessment = Assessment(
        party=party,
        assessor=assessor,
        source=source,
        external_id=external_id,
        assessed_on=assessed_on,
        answers=answers,
        override_level=override_level,
        override_reason=override_reason,
        note=note,
    )
    return save_assessment(assessment=assessment, user=assessor)


def update_assessment(
    *,
    assessment: Assessment,
    assessed_on: datetime.date,
    answers: Mapping[str, object],
    override_level: int | None = None,
    override_reason: str = "",
    note: str = "",
) -> Assessment:
    """Change an assessment; it stays with its party."""
    assessment.assessed_on = assessed_on
    assessment.answers = answers
    assessment.override_level = override_level
    assessment.override_reason = override_reason
    assessment.note = note
    return save_assessment(assessment=assessment)


def remove_assessment(*, assessment: Assessment) -> None:
    """An assessment recorded in error is deleted; the change log keeps what it said."""
    assessment.delete()


# --- The balance ------------------------------------------------------------------------------


SELF_ASSESSMENT_IN_FUTURE = "A self-assessment cannot be dated in the future."


@rules.rule(BalanceSelfAssessment)
def self_assessment_rule(change: Change, facts: None) -> None:
    """Dated today or before (three scores from 0 to 100: the model's own rule); a new one
    names its assessor, the user who records it."""
    row = change.row
    if row["assessed_on"] and row["assessed_on"] > change.writer.today:
        change.error("assessed_on", SELF_ASSESSMENT_IN_FUTURE)
    row["note"] = (row["note"] or "").strip()
    if change.is_new and row["assessor_id"] is None and change.writer.user is not None:
        row["assessor_id"] = change.writer.user.pk


def save_self_assessment(
    *, self_assessment: BalanceSelfAssessment, user=None
) -> BalanceSelfAssessment:
    """Create or change a self-assessment (self_assessment_rule)."""
    return rules.save_checked(self_assessment, user=user)


def record_self_assessment(
    *,
    assessed_on: datetime.date,
    customer_focus: int,
    process_orientation: int,
    cost_optimisation: int,
    note: str = "",
    assessor=None,
    source: str = "",
    external_id: str = "",
) -> BalanceSelfAssessment:
    return save_self_assessment(
        self_assessment=BalanceSelfAssessment(
            assessed_on=assessed_on,
            customer_focus=customer_focus,
            process_orientation=process_orientation,
            cost_optimisation=cost_optimisation,
            note=note,
            assessor=assessor,
            source=source,
            external_id=external_id,
        )
    )


def remove_self_assessment(*, self_assessment: BalanceSelfAssessment) -> None:
    """A self-assessment recorded in error is deleted; the change log keeps what it said."""
    self_assessment.delete()


def record_balance_snapshot(*, on: datetime.date | None = None) -> BalanceSnapshot:
    """Read the balance from the portfolio now and keep it as the snapshot of ``on`` (today by
    default); a second run the same day updates that day's snapshot."""
    on = on or timezone.localdate()
    balance = selectors.balance(today=on)
    values = {
        "customer_focus": balance.score(BalanceElement.CUSTOMER_FOCUS),
        "process_orientation": balance.score(BalanceElement.PROCESS_ORIENTATION),
        "cost_optimisation": balance.score(BalanceElement.COST_OPTIMISATION),
        "evidence": {
            element.element: {
                "considered": element.considered,
                "meeting": element.meeting,
                # The sum of the shares of evidence, to two decimals (the score's numerator).
                "evidence": str(
                    (Decimal(element.evidence.numerator) / element.evidence.denominator).quantize(
                        Decimal("0.01")
                    )
                ),
            }
            for element in balance.elements
        },
    }
    snapshot = BalanceSnapshot.objects.filter(taken_on=on).first()
    if snapshot is None:
        return BalanceSnapshot.objects.create(taken_on=on, **values)
    if any(getattr(snapshot, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(snapshot, name, value)
        snapshot.save()
    return snapshot
