"""Writes and rules of the maturity app: the level rule, the mismatch rule, the balance scores
and the danger zone, and every write to assessments, parties and balance snapshots.

docs/maturity.md states each rule in plain words; keep the two in step.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.permissions import can
from core.services import delete_or_retire
from maturity import selectors
from maturity.choices import (
    Answer,
    BalanceElement,
    MaturityLevel,
    MismatchDirection,
    PartyKind,
    Strength,
)
from maturity.models import Assessment, BalanceSelfAssessment, BalanceSnapshot, Party
from maturity.questionnaire import LEVELS, statements_for
from portfolio.models import Customer

# --- The level rule ----------------------------------------------------------------------------

# A level is recognised when its statements earn at least this share of their points.
RECOGNISED_SHARE = (3, 4)


def level_points(*, kind: str, answers: Mapping[str, int]) -> dict[int, tuple[int, int]]:
    """Per level: (points earned, points available) from the answers of one questionnaire."""
    points = dict.fromkeys(MaturityLevel.values, (0, 0))
    for statement in statements_for(kind):
        earned, available = points[statement.level]
        points[statement.level] = (
            earned + int(answers.get(statement.code, 0)),
            available + max(Answer.values),
        )
    return points


def level_from_answers(*, kind: str, answers: Mapping[str, int]) -> int:
    """The highest level whose statements earn at least three quarters of their points;
    level 1 when no level does (every party stands somewhere on the scale)."""
    numerator, denominator = RECOGNISED_SHARE
    recognised = [
        level
        for level, (earned, available) in level_points(kind=kind, answers=answers).items()
        if available and earned * denominator >= available * numerator
    ]
    return max(recognised, default=MaturityLevel.TECHNOLOGY)


ANSWER_MISSING = "Not answered: answer with 0 (No), 1 (Partly) or 2 (Yes) points."
ANSWER_POINTS = "Answer with 0 (No), 1 (Partly) or 2 (Yes) points."
OVERRIDE_NEEDS_REASON = "Give the reason for overriding the level of the answers."


def answer_errors(*, kind: str, answers: object) -> dict[str, str]:
    """Why each answer of one questionnaire is refused, by statement code: every statement of
    the party's questionnaire answered with 0, 1 or 2 points, and no other code. The key ""
    stands for the answers as a whole (not an object of code → points)."""
    if not isinstance(answers, Mapping):
        return {"": "Give the answers as an object: statement code → 0, 1 or 2 points."}
    errors = {}
    codes = [statement.code for statement in statements_for(kind)]
    for code in codes:
        value = answers.get(code)
        if isinstance(value, bool) or value not in Answer.values:
            errors[code] = ANSWER_MISSING if value is None else ANSWER_POINTS
    known = set(codes)
    for code in answers:
        if code not in known:
            errors[str(code)] = (
                f"Not a statement of the {PartyKind(kind).label.lower()} questionnaire."
            )
    return errors


@dataclass(frozen=True)
class Rating:
    """What one questionnaire rates: the answers kept, the level they give, any override."""

    answers: dict[str, int]
    computed_level: int
    override_level: int | None
    override_reason: str

    @property
    def level(self) -> int:
        """The level in force: the override, else the level of the answers."""
        return self.override_level or self.computed_level


def rate(*, kind: str, answers: object, override_level: int | None, override_reason: str) -> Rating:
    """The level rule and the override rule on one questionnaire, without touching the
    database (the single write and the bulk sync both call it).

    Raises ValidationError naming every bad field: ``answers.<statement code>`` for each bad,
    missing or unknown answer (``answers`` when they are not an object), ``override_level``,
    and ``override_reason`` for an override without its reason. Choosing the level the answers
    give is no override; without an override no reason is kept.
    """
    errors = {
        f"answers.{code}" if code else "answers": message
        for code, message in answer_errors(kind=kind, answers=answers).items()
    }
    if override_level is not None and override_level not in MaturityLevel.values:
        errors["override_level"] = "Choose a level from 1 to 5."
    if errors:
        raise ValidationError(errors)
    cleaned = {statement.code: int(answers[statement.code]) for statement in statements_for(kind)}
    computed = level_from_answers(kind=kind, answers=cleaned)
    override_reason = override_reason.strip()
    if override_level == computed:
        # Agreeing with the rule is not an override.
        override_level = None
    if override_level is not None and not override_reason:
        raise ValidationError({"override_reason": OVERRIDE_NEEDS_REASON})
    return Rating(
        answers=cleaned,
        computed_level=computed,
        override_level=override_level,
        override_reason=override_reason if override_level is not None else "",
    )


# --- The mismatch rule -------------------------------------------------------------------------

MISMATCH_GAP = 2


def mismatch_direction(*, provider_level: int, customer_level: int) -> str | None:
    """A mismatch when provider and customer are two or more levels apart, named by direction."""
    gap = provider_level - customer_level
    if gap <= -MISMATCH_GAP:
        return MismatchDirection.PROVIDER_BEHIND
    if gap >= MISMATCH_GAP:
        return MismatchDirection.PROVIDER_AHEAD
    return None


def mismatch_explanation(
    *, direction: str, provider: str, provider_level: int, customer: str, customer_level: int
) -> str:
    offers = LEVELS[provider_level].provider_offers
    wants = LEVELS[customer_level].customer_wants
    if direction == MismatchDirection.PROVIDER_BEHIND:
        return (
            f"{provider} is at level {provider_level} and offers {offers}, but {customer} is at "
            f"level {customer_level} and wants {wants}. A provider behind its customer cannot "
            "give what the customer is looking for: expect disappointment, workarounds, and the "
            "customer turning to other providers."
        )
    return (
        f"{provider} is at level {provider_level} and offers {offers}, but {customer} is at "
        f"level {customer_level} and wants {wants}. A provider offering more than its customer "
        "seeks is neither valued nor paid for it: the customer compares on what it wants, and "
        "the extra effort is lost."
    )


# --- The balance: three scores, strength and the danger zone ----------------------------------

STRONG_FROM = 60
WEAK_BELOW = 40
# A self-assessed score this far from the evidence is marked as belief ahead of (or behind) it.
BELIEF_GAP_FLAG = 20

DANGER_CONSEQUENCES = {
    BalanceElement.CUSTOMER_FOCUS: (
        "Process orientation and cost optimisation without customer focus: service "
        "management slides into being a cost centre."
    ),
    BalanceElement.PROCESS_ORIENTATION: (
        "Customer focus and cost optimisation without process orientation: cost is cut "
        "without sight of the processes that deliver the outcomes, so the optimisation cuts "
        "off its own benefits."
    ),
    BalanceElement.COST_OPTIMISATION: (
        "Customer focus and process orientation without cost data cannot show value: what an "
        "outcome costs stays unknown, so nobody can show it is worth its price."
    ),
}


def share_score(*, meeting: int, considered: int) -> int:
    """100 × meeting / considered, to the nearest whole number (halves up); 0 when nothing
    can be considered, for an element without evidence is not strong."""
    if considered <= 0:
        return 0
    return (200 * meeting + considered) // (2 * considered)


def strength(score: int) -> str:
    if score >= STRONG_FROM:
        return Strength.STRONG
    if score < WEAK_BELOW:
        return Strength.WEAK
    return Strength.MIDDLING


def danger_zone(scores: Mapping[str, int]) -> str | None:
    """The weak element when the other two are strong; else None."""
    strengths = {element: strength(scores[element]) for element in BalanceElement.values}
    weak = [e for e, s in strengths.items() if s == Strength.WEAK]
    strong = [e for e, s in strengths.items() if s == Strength.STRONG]
    if len(strong) == 2 and len(weak) == 1:
        return weak[0]
    return None


# --- Permissions beyond the model rights -------------------------------------------------------


def may_assess_customer(user, customer: Customer) -> bool:
    """Portfolio managers assess every party; a customer's relationship manager assesses that
    customer (and names the provider unit serving it)."""
    if can(user, "add", Assessment):
        return True
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and customer.relationship_manager_id == user.pk
    )


def may_assess(user, party: Party | None) -> bool:
    """``party`` None stands for the whole organisation before its first assessment."""
    if party is not None and party.kind == PartyKind.CUSTOMER:
        return may_assess_customer(user, party.customer)
    return can(user, "add", Assessment)


# --- Parties -----------------------------------------------------------------------------------


def organisation_party(*, source: str = "", external_id: str = "") -> Party:
    """The provider as a whole, created with its first assessment."""
    party = Party.objects.filter(kind=PartyKind.PROVIDER, unit_name="").first()
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
    unit.kind = PartyKind.PROVIDER
    unit.unit_name = unit.unit_name.strip()
    if not unit.unit_name:
        raise ValidationError({"unit_name": "Name the unit; the whole organisation needs none."})
    unit.full_clean()
    unit.save()
    return unit


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
    """Name the provider unit that serves ``customer`` (None: the whole organisation)."""
    problem = serving_unit_error(unit) if unit is not None else None
    if problem:
        raise ValidationError({"served_by": problem})
    party = party_for_customer(customer=customer)
    party.served_by = unit
    party.full_clean()
    party.save()
    return party


PARTY_KIND_FIXED = "A party keeps its kind: add a party of the other kind instead."
PARTY_CUSTOMER_FIXED = "A customer's party stays with its customer."
PARTY_UNIT_FIXED = "A unit keeps a name, and the provider as a whole has none."
UNIT_NAME_TAKEN = "The provider already has a unit of this name."


def organisation_taken(pk: int) -> str:
    return f"The provider as a whole is party {pk} already."


def customer_taken(pk: int) -> str:
    return f"This customer has a party already: party {pk}."


@transaction.atomic
def save_party(*, party: Party) -> Party:
    """Create or change any party: the provider as a whole (no unit name), one of its units,
    or a customer's party (naming the unit that serves it).

    A party keeps its kind, a customer's party its customer, and a unit stays a unit. There is
    one provider as a whole, unit names are unique, and a customer has one party. A customer
    newly placed with a unit is placed with a unit of the provider that is not retired.
    ``maturity.api.bulk.prepare_parties`` is the same rule for a sync batch.
    """
    stored = (
        Party.objects.filter(pk=party.pk).values("kind", "customer_id", "unit_name", "served_by_id")
    ).first()
    if stored is not None:
        if party.kind != stored["kind"]:
            raise ValidationError({"kind": PARTY_KIND_FIXED})
        if party.customer_id != stored["customer_id"]:
            raise ValidationError({"customer": PARTY_CUSTOMER_FIXED})
        if party.is_provider and bool(party.unit_name) != bool(stored["unit_name"]):
            raise ValidationError({"unit_name": PARTY_UNIT_FIXED})
    errors = {}
    others = Party.objects.exclude(pk=party.pk)
    if party.is_provider:
        clash = (
            others.filter(kind=PartyKind.PROVIDER, unit_name=party.unit_name)
            .values_list("pk", flat=True)
            .first()
        )
        if clash is not None:
            errors["unit_name"] = UNIT_NAME_TAKEN if party.unit_name else organisation_taken(clash)
    elif party.customer_id is not None:
        clash = others.filter(customer_id=party.customer_id).values_list("pk", flat=True).first()
        if clash is not None:
            errors["customer"] = customer_taken(clash)
        placed = stored is None or party.served_by_id != stored["served_by_id"]
        if party.served_by_id is not None and placed:
            problem = serving_unit_error(party.served_by)
            if problem:
                errors["served_by"] = problem
    if errors:
        raise ValidationError(errors)
    party.full_clean()
    party.save()
    return party


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


def _apply(
    assessment: Assessment,
    *,
    assessed_on: datetime.date,
    answers: Mapping[str, object],
    override_level: int | None,
    override_reason: str,
    note: str,
) -> Assessment:
    party = assessment.party
    errors = {}
    if party.is_retired:
        errors["party"] = [retired_party_error(party)]
    if assessed_on > timezone.localdate():
        errors["assessed_on"] = ["An assessment cannot be dated in the future."]
    try:
        rating = rate(
            kind=party.kind,
            answers=answers,
            override_level=override_level,
            override_reason=override_reason,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assessment.assessed_on = assessed_on
    assessment.answers = rating.answers
    assessment.computed_level = rating.computed_level
    assessment.override_level = rating.override_level
    assessment.override_reason = rating.override_reason
    assessment.level = rating.level
    assessment.note = note.strip()
    assessment.full_clean()
    assessment.save()
    return assessment


@transaction.atomic
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
    assessment = Assessment(party=party, assessor=assessor, source=source, external_id=external_id)
    return _apply(
        assessment,
        assessed_on=assessed_on,
        answers=answers,
        override_level=override_level,
        override_reason=override_reason,
        note=note,
    )


@transaction.atomic
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
    stored_party = (
        Assessment.objects.filter(pk=assessment.pk).values_list("party_id", flat=True).first()
    )
    if stored_party is not None and stored_party != assessment.party_id:
        raise ValidationError({"party": PARTY_OF_ASSESSMENT_FIXED})
    return _apply(
        assessment,
        assessed_on=assessed_on,
        answers=answers,
        override_level=override_level,
        override_reason=override_reason,
        note=note,
    )


@transaction.atomic
def remove_assessment(*, assessment: Assessment) -> None:
    """An assessment recorded in error is deleted; the change log keeps what it said."""
    assessment.delete()


# --- The balance ------------------------------------------------------------------------------


SELF_ASSESSMENT_IN_FUTURE = "A self-assessment cannot be dated in the future."


@transaction.atomic
def save_self_assessment(*, self_assessment: BalanceSelfAssessment) -> BalanceSelfAssessment:
    """Create or change a self-assessment: dated today or before, three scores from 0 to 100."""
    if self_assessment.assessed_on and self_assessment.assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": SELF_ASSESSMENT_IN_FUTURE})
    self_assessment.note = self_assessment.note.strip()
    self_assessment.full_clean()
    self_assessment.save()
    return self_assessment


@transaction.atomic
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


@transaction.atomic
def remove_self_assessment(*, self_assessment: BalanceSelfAssessment) -> None:
    """A self-assessment recorded in error is deleted; the change log keeps what it said."""
    self_assessment.delete()


@transaction.atomic
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
            element.element: {"considered": element.considered, "meeting": element.meeting}
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
