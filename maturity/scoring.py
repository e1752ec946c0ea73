"""The maturity rules that need no database: the level rule (with the override rule), the
mismatch rule, and the balance scores with the danger zone. Pure functions, so reads
(maturity.selectors) and writes (maturity.services) both use them; docs/maturity.md states
each in plain words, keep the two in step.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from django.core.exceptions import ValidationError

from maturity.choices import Answer
from maturity.choices import BalanceElement
from maturity.choices import MaturityLevel
from maturity.choices import MismatchDirection
from maturity.choices import PartyKind
from maturity.choices import Strength
from maturity.questionnaire import LEVELS
from maturity.questionnaire import statements_for

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


def share_score(*, meeting: int | Fraction, considered: int) -> int:
    """100 × meeting / considered, to the nearest whole number (halves up); 0 when nothing
    can be considered, for an element without evidence is not strong. ``meeting`` is the sum
    of the records' shares of the evidence (each 0 to 1), exact as a fraction."""
    if considered <= 0:
        return 0
    return int((200 * Fraction(meeting) + considered) // (2 * considered))


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
