"""The Value Maturity Model questionnaire: statements per level, for providers and customers.

Each party answers every statement of its kind with No, Partly or Yes (0, 1 or 2 points).
The level follows from the answers by the rule in ``maturity.scoring.level_from_answers``.
Statement codes are stored with the answers, so they never change meaning: reword a statement
only in ways that keep what it asks, and give a new statement a new code.
"""

from dataclasses import dataclass

from maturity.choices import Answer
from maturity.choices import MaturityLevel
from maturity.choices import PartyKind


@dataclass(frozen=True)
class LevelProfile:
    level: int
    focus: str
    provider_offers: str
    customer_wants: str


# The primer's table: what a provider at each level offers, and what a customer there wants.
LEVELS: dict[int, LevelProfile] = {
    1: LevelProfile(1, "technology / product", "goods and technology", "cheap goods"),
    2: LevelProfile(2, "system", "working systems (most IaaS, PaaS and SaaS)", "systems that work"),
    3: LevelProfile(3, "service", "integrated services", "services"),
    4: LevelProfile(
        4,
        "customer-driven",
        "solutions co-created with the customer",
        "integrated solutions for its business",
    ),
    5: LevelProfile(
        5,
        "business-driven",
        "partnership in the customer's business value",
        "a partner in its business",
    ),
}


@dataclass(frozen=True)
class Statement:
    code: str
    level: int
    text: str


_PROVIDER = (
    (
        1,
        "We supply products: hardware, software licences and other goods. What the customer "
        "does with them is up to the customer.",
    ),
    (1, "Customers judge us mainly on the price and delivery of what we supply."),
    (
        2,
        "We deliver working systems (infrastructure, platforms or applications) and keep them "
        "running.",
    ),
    (
        2,
        "Our agreements are about system availability and performance, not about what the "
        "customer achieves with the systems.",
    ),
    (
        3,
        "We offer integrated services: a facility together with the support users get while "
        "using it, specified in what it does and how well.",
    ),
    (
        3,
        "We describe our services in our customers' words and deliver them end to end, across "
        "the systems and suppliers behind them.",
    ),
    (
        4,
        "We shape solutions together with each customer, starting from the outcomes the "
        "customer wants to reach.",
    ),
    (
        4,
        "We agree measurable Successful Customer Outcomes with our customers and judge our "
        "success by them.",
    ),
    (
        5,
        "We are a partner in our customers' business: we share responsibility for the business "
        "value they create.",
    ),
    (5, "We plan and invest together with our customers, based on their business strategy."),
)

_CUSTOMER = (
    (1, "We want cheap goods: we buy products and technology and mainly compare prices."),
    (1, "We install, run and combine what we buy ourselves."),
    (2, "We want systems that work: availability and speed are what we check."),
    (2, "Making the systems serve our business is our own job, not the provider's."),
    (3, "We want services: a facility plus the support to use it, at an agreed quality."),
    (
        3,
        "We do not need to know which systems or suppliers are behind a service, as long as it "
        "works as agreed.",
    ),
    (4, "We want integrated solutions for our business, shaped together with our provider."),
    (4, "We can tell our provider the outcomes we need and how to measure them."),
    (5, "We want a partner in our business who shares responsibility for our results."),
    (5, "We involve our provider in our business strategy and plans."),
)


def _statements(prefix: str, rows) -> tuple[Statement, ...]:
    numbered = []
    seen: dict[int, int] = {}
    for level, text in rows:
        seen[level] = seen.get(level, 0) + 1
        numbered.append(Statement(f"{prefix}{level}{'abcdef'[seen[level] - 1]}", level, text))
    return tuple(numbered)


STATEMENTS: dict[str, tuple[Statement, ...]] = {
    PartyKind.PROVIDER: _statements("p", _PROVIDER),
    PartyKind.CUSTOMER: _statements("c", _CUSTOMER),
}


def statements_for(kind: str) -> tuple[Statement, ...]:
    return STATEMENTS[kind]


def statements_by_level(kind: str) -> dict[int, list[Statement]]:
    grouped: dict[int, list[Statement]] = {level: [] for level in MaturityLevel.values}
    for statement in STATEMENTS[kind]:
        grouped[statement.level].append(statement)
    return grouped


def answers_for_level(kind: str, level: int) -> dict[str, int]:
    """Sample answers that lead to ``level`` by the level rule: Yes to its statements; below it,
    a provider still does those things (Yes, Partly) and a customer no longer wants them
    (Partly, No); above it, Partly and No."""
    answers = {}
    seen: dict[int, int] = {}
    for statement in statements_for(kind):
        first = statement.level not in seen
        seen[statement.level] = seen.get(statement.level, 0) + 1
        if statement.level == level:
            points = Answer.YES
        elif statement.level < level and kind == PartyKind.PROVIDER:
            points = Answer.YES if first else Answer.PARTLY
        elif statement.level < level:
            points = Answer.PARTLY if first else Answer.NO
        else:
            points = Answer.PARTLY if first and statement.level == level + 1 else Answer.NO
        answers[statement.code] = int(points)
    return answers
