"""The maturity app's API resources: one declaration each (see core.api.resources).

Balance snapshots are not a resource: they are read from the portfolio by a daily task and
recomputed, never written, and keep no change log, so nothing could sync or follow them.
"""

from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from maturity import selectors
from maturity import services
from maturity.api import filtersets as api_filtersets
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import Party
from maturity.questionnaire import statements_for

LEVEL = {"type": "integer", "minimum": 1, "maximum": 5}
SCORE = {"type": "integer", "minimum": 0, "maximum": 100}


def questionnaire_schema(kind: str) -> dict:
    """The answers of one kind of party: each of its statements, by code, with its points."""
    statements = statements_for(kind)
    return {
        "type": "object",
        "title": f"{PartyKind(kind).label} answers",
        "properties": {
            s.code: {
                "type": "integer",
                "minimum": 0,
                "maximum": 2,
                "description": f"Level {s.level}: {s.text}",
            }
            for s in statements
        },
        "required": [s.code for s in statements],
        "additionalProperties": False,
    }


ANSWERS = {
    "description": (
        "The questionnaire: statement code → points, 0 (No), 1 (Partly) or 2 (Yes). Every "
        "statement of the party's questionnaire is answered, a provider's (p1a … p5b) or a "
        "customer's (c1a … c5b), and no other code; the answers are replaced as a whole. A "
        "refused answer is named `answers.<code>`."
    ),
    "oneOf": [
        questionnaire_schema(PartyKind.PROVIDER),
        questionnaire_schema(PartyKind.CUSTOMER),
    ],
}


register(
    Resource(
        "parties",
        model=Party,
        fields=("kind", "customer", "unit", "served_by"),
        description=(
            "Who is assessed: the provider as a whole (kind provider, no unit), one of its "
            "units (an organisation unit, one party each), or a customer, served by a unit "
            "(none: by the provider as a whole)."
        ),
        reads=Reads(
            computed={
                "latest_level": {
                    **LEVEL,
                    "nullable": True,
                    "description": (
                        "The level in force of its latest assessment (by date, then by entry); "
                        "null before the first."
                    ),
                },
                "latest_assessed_on": {
                    "type": "string",
                    "format": "date",
                    "nullable": True,
                    "description": "The date of its latest assessment.",
                },
            },
            filterset=api_filtersets.PartyFilterSet,
            queryset=selectors.with_latest_level,
        ),
        writes=Writes(
            save=lambda party, user: services.save_party(party=party),
            remove=lambda party: services.remove_party(party=party),
            retire=services.retire_party,
        ),
    )
)


register(
    Resource(
        "assessments",
        model=Assessment,
        fields=(
            "party",
            "assessed_on",
            "answers",
            "computed_level",
            "override_level",
            "override_reason",
            "level",
            "assessor",
            "note",
        ),
        read_only=("computed_level", "level", "assessor"),
        schemas={
            "answers": ANSWERS,
            "computed_level": {**LEVEL, "description": "The level the answers give."},
            "override_level": {
                **LEVEL,
                "nullable": True,
                "description": (
                    "The assessor's level instead of the answers' one; needs override_reason. "
                    "The level the answers give is no override."
                ),
            },
            "level": {**LEVEL, "description": "The level in force: the override, else computed."},
        },
        description=(
            "One dated rating of a party on the Value Maturity Model, from its answers to the "
            "questionnaire of its kind; the assessor is the user who records it."
        ),
        reads=Reads(
            filterset=api_filtersets.AssessmentFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_assessment(assessment=obj, user=user),
            remove=lambda assessment: services.remove_assessment(assessment=assessment),
        ),
    )
)


register(
    Resource(
        "balance-self-assessments",
        model=BalanceSelfAssessment,
        fields=(
            "assessed_on",
            "customer_focus",
            "process_orientation",
            "cost_optimisation",
            "note",
            "assessor",
        ),
        read_only=("assessor",),
        schemas={
            "customer_focus": SCORE,
            "process_orientation": SCORE,
            "cost_optimisation": SCORE,
        },
        description=(
            "What the organisation believes of its customer–process–cost balance: three "
            "scores from 0 to 100; the latest is shown beside the evidence."
        ),
        reads=Reads(
            filterset=api_filtersets.BalanceSelfAssessmentFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_self_assessment(self_assessment=obj, user=user),
            remove=lambda obj: services.remove_self_assessment(self_assessment=obj),
        ),
    )
)
