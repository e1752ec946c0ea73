"""Data-quality scores (docs/quality.md): weighted criteria per record, and their means per
owner, per kind and for the portfolio.

Each criterion is a boolean SQL expression over the record (NULL where it does not apply, as
the freshness of figures for a service without functioning items), so the score of every
record of a kind is one query, however many there are: the score is the weight of the
criteria met over the weight of those that apply, as a whole percentage (rounded half up).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_UP
from decimal import Decimal

from django.db.models import BooleanField
from django.db.models import Case
from django.db.models import Exists
from django.db.models import Expression
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Func
from django.db.models import IntegerField
from django.db.models import Model
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import Value
from django.db.models import When

from attestation.choices import AttestationStatus
from attestation.selectors import ATTESTED_KINDS
from attestation.selectors import in_use
from attestation.selectors import status_from
from attestation.selectors import valid_since
from attestation.selectors import with_attestation
from attestation.selectors import with_confirmation
from core import translations
from finance.choices import PeriodStatus
from finance.models import Period
from finance.models import TcoResult
from people.models import OrganisationUnit
from people.selectors import unit_lines
from performance.choices import Standing
from performance.selectors import with_item_status
from portfolio.choices import Aspect
from portfolio.choices import Dimension
from portfolio.choices import OutcomeAgreement
from portfolio.models import ApplicationSupport
from portfolio.models import ContractCoverage
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from valuestreams.models import Stage
from valuestreams.models import StageService


@dataclass(frozen=True)
class Criterion:
    """One check of a record's data: ``test(today)`` gives (applies, met) as conditions on
    the record (``applies`` None: always)."""

    key: str
    label: str
    weight: int
    advice: str
    test: Callable[[datetime.date | None], tuple[Q | None, Q]]


def _boolean(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _owner_active(today):
    return None, Q(owner__isnull=False, owner__is_active=True)


def _attested(today):
    return None, Q(
        attestation_status__in=(AttestationStatus.ATTESTED, AttestationStatus.CHECK_NEEDED)
    )


def _no_check_needed(today):
    return None, ~Q(attestation_status=AttestationStatus.CHECK_NEEDED)


def _quadrants(today):
    met = Q()
    for aspect in Aspect.values:
        for dimension in Dimension.values:
            met &= Q(
                Exists(
                    SpecificationItem.objects.filter(
                        service=OuterRef("pk"), aspect=aspect, dimension=dimension
                    )
                )
            )
    return None, met


def _functioning_fresh(today):
    functioning = SpecificationItem.objects.filter(
        service=OuterRef("pk"), dimension=Dimension.FUNCTIONING
    )
    unmeasured = with_item_status(functioning, today).filter(
        status__in=(Standing.STALE, Standing.NOT_MEASURED)
    )
    return Q(Exists(functioning)), ~Q(Exists(unmeasured))


def _outcomes_agreed(today):
    subscriptions = Subscription.objects.filter(service=OuterRef("pk"), retired_at__isnull=True)
    outcomes = Outcome.objects.filter(
        subscription__service=OuterRef("pk"), subscription__retired_at__isnull=True
    )
    return Q(Exists(subscriptions)), Q(Exists(outcomes)) & ~Q(
        Exists(outcomes.exclude(agreement=OutcomeAgreement.AGREED))
    )


def _tco_complete(today):
    # The reporting period as maturity reads it (the latest closed period with results, else
    # the latest with results), chosen by the database so a query built once stays true.
    has_results = Exists(
        TcoResult.objects.filter(period=OuterRef("pk"), version=OuterRef("current_version"))
    )
    reporting = (
        Period.objects.filter(has_results)
        .annotate(open_first=Case(When(status=PeriodStatus.CLOSED, then=Value(0)), default=1))
        .order_by("open_first", "-serial")
    )
    with_tco = TcoResult.objects.filter(
        service=OuterRef("pk"),
        period=Subquery(reporting.values("pk")[:1]),
        version=Subquery(reporting.values("current_version")[:1]),
        tco__gt=0,
    )
    return None, Q(Exists(with_tco))


def _in_value_stream(today):
    links = StageService.objects.filter(
        service=OuterRef("pk"), stage__value_stream__retired_at__isnull=True
    )
    return None, Q(Exists(links))


def _supports_a_service(today):
    return None, Q(Exists(ApplicationSupport.objects.filter(application=OuterRef("pk"))))


def _covers_something(today):
    return None, Q(Exists(ContractCoverage.objects.filter(contract=OuterRef("pk"))))


def _has_stages(today):
    return None, Q(Exists(Stage.objects.filter(value_stream=OuterRef("pk"))))


OWNER_ACTIVE = Criterion(
    "owner_active",
    "Owner set and active",
    15,
    "Name an owner whose account is active; hand it over when its owner leaves.",
    _owner_active,
)
ATTESTED = Criterion(
    "attested",
    "Attested",
    10,
    "Its owner (or a delegate) confirms it is correct, again each time the confirmation is due.",
    _attested,
)
NO_CHECK_NEEDED = Criterion(
    "no_check_needed",
    "No check needed",
    5,
    "Someone other than its owner changed it since it was confirmed: its owner checks the "
    "change and confirms it again.",
    _no_check_needed,
)

CRITERIA: dict[str, tuple[Criterion, ...]] = {
    "service": (
        Criterion(
            "quadrants",
            "Four quadrants specified",
            20,
            "Add at least one item to each quadrant: facility and support, functionality and "
            "functioning.",
            _quadrants,
        ),
        Criterion(
            "functioning_fresh",
            "Functioning measured and fresh",
            15,
            "Record a figure for each functioning item, and keep recording them as they fall "
            "due (only for services with functioning items).",
            _functioning_fresh,
        ),
        OWNER_ACTIVE,
        Criterion(
            "outcomes_agreed",
            "Outcomes agreed",
            10,
            "Agree a measurable outcome with each customer, and mark it agreed (only for "
            "services with customers).",
            _outcomes_agreed,
        ),
        Criterion(
            "tco_complete",
            "TCO complete",
            15,
            "Make cost reach it: a TCO above zero in the reporting period (the latest closed "
            "period with results); its TCO panel shows what is missing.",
            _tco_complete,
        ),
        Criterion(
            "in_value_stream",
            "In a value stream",
            10,
            "Link it to a stage of a value stream it underpins.",
            _in_value_stream,
        ),
        ATTESTED,
        NO_CHECK_NEEDED,
    ),
    "application": (
        OWNER_ACTIVE,
        Criterion(
            "supports_service",
            "Supports a service",
            10,
            "Link it to the services it supports, so its cost reaches them.",
            _supports_a_service,
        ),
        ATTESTED,
        NO_CHECK_NEEDED,
    ),
    "contract": (
        OWNER_ACTIVE,
        Criterion(
            "covers_something",
            "Underpins a service or application",
            10,
            "Link it to the services or applications it underpins, so its cost reaches them.",
            _covers_something,
        ),
        ATTESTED,
        NO_CHECK_NEEDED,
    ),
    "valuestream": (
        OWNER_ACTIVE,
        Criterion(
            "has_stages",
            "Stages mapped",
            10,
            "Map its stages, from the trigger to the result.",
            _has_stages,
        ),
        ATTESTED,
        NO_CHECK_NEEDED,
    ),
}


def criteria_of(model: type[Model]) -> tuple[Criterion, ...]:
    return CRITERIA[model._meta.model_name]


def column(criterion: Criterion) -> str:
    return f"quality_{criterion.key}"


def _check(criterion: Criterion, today: datetime.date | None) -> Expression:
    applies, met = criterion.test(today)
    check = _boolean(met)
    if applies is not None:
        check = Case(When(applies, then=check), default=None, output_field=BooleanField())
    return check


class ScoreOnce(Func):
    """A record's score with each criterion evaluated once: the criteria (and the record's
    attestation status, which two criteria read) are the columns of a one-row derived table,
    which the score then reads by name. Written as SQL with the criteria inline, PostgreSQL
    would compute each criterion's subquery once per mention (three times: the criterion,
    the weight earned, the weight possible); ``OFFSET 0`` keeps the planner from inlining
    the derived table's columns back into the formula."""

    output_field = IntegerField()

    def __init__(self, criteria: tuple[Criterion, ...], today: datetime.date | None):
        self.criteria = criteria
        in_sql = [c for c in criteria if c.key not in BY_STATUS]
        self.in_sql = in_sql
        super().__init__(F("attestation_status"), *[_check(c, today) for c in in_sql])

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.source_expressions:
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params += expression_params
        names = ["status", *[f"c{n}" for n in range(len(self.in_sql))]]
        earned, possible, formula_params = [], [], []
        for criterion in self.criteria:
            if criterion.key in BY_STATUS:
                statuses = BY_STATUS_MET[criterion.key]
                condition = f"quality.status {statuses[0]} ({', '.join(['%s'] * len(statuses[1]))})"
                earned.append(f"CASE WHEN {condition} THEN {int(criterion.weight)} ELSE 0 END")
                formula_params += statuses[1]
                possible.append(str(int(criterion.weight)))
                continue
            name = names[1 + self.in_sql.index(criterion)]
            earned.append(f"CASE WHEN quality.{name} THEN {int(criterion.weight)} ELSE 0 END")
            possible.append(
                f"CASE WHEN quality.{name} IS NULL THEN 0 ELSE {int(criterion.weight)} END"
            )
        sql = (
            f"(SELECT ROUND(100.0 * ({' + '.join(earned)}) / ({' + '.join(possible)}))::integer "
            f"FROM (SELECT {', '.join(parts)} OFFSET 0) AS quality({', '.join(names)}))"
        )
        # The formula's parameters precede the derived table's in the SQL.
        return sql, (*formula_params, *params)


class CompiledOnce(ExpressionWrapper):
    """An expression whose SQL is compiled once and then reused. The API's querysets are
    built once per process (``Reads.queryset``), but Django compiles their SQL again on
    each request; for the attestation and the score, dozens of subqueries, that took longer
    than the query itself. Their SQL depends only on the resolved expression (its aliases
    and parameters are fixed when it is resolved, and ``today`` None reads the date from
    the database's clock), so it is kept per database connection alias; a relabelled copy
    (the queryset used inside another) compiles afresh."""

    def __init__(self, expression, output_field):
        super().__init__(expression, output_field=output_field)
        self._compiled: dict[str, tuple[str, tuple]] = {}

    def as_sql(self, compiler, connection):
        found = self._compiled.get(connection.alias)
        if found is None:
            sql, params = compiler.compile(self.expression)
            found = self._compiled[connection.alias] = (sql, tuple(params))
        return found

    def relabeled_clone(self, change_map):
        clone = super().relabeled_clone(change_map)
        clone._compiled = {}
        return clone

    def resolve_expression(self, *args, **kwargs):
        resolved = super().resolve_expression(*args, **kwargs)
        resolved._compiled = {}
        return resolved


def with_quality(queryset: QuerySet, today: datetime.date | None) -> QuerySet:
    """``queryset`` (of an attested kind) with its attestation (``with_attestation``), each
    criterion as ``quality_<key>`` (True, False, or None where it does not apply) and
    ``quality_score`` (0–100). Each is computed only where it is read: a list that reads
    only the score evaluates each criterion once per record (``ScoreOnce``)."""
    criteria = criteria_of(queryset.model)
    queryset = with_attestation(queryset, today)
    queryset = queryset.annotate(**{column(c): _check(c, today) for c in criteria})
    queryset = queryset.annotate(quality_score=ScoreOnce(criteria, today))
    return queryset.annotate(
        **{
            name: CompiledOnce(F(name), output_field=queryset.query.annotations[name].output_field)
            for name in ("attested_at", "attestation_status", "quality_score")
        }
    )


def score_of(checks: dict[str, bool | None], criteria: tuple[Criterion, ...]) -> int:
    """The score of one record from its checks (the same rule as ``with_quality``)."""
    possible = sum(c.weight for c in criteria if checks[c.key] is not None)
    earned = sum(c.weight for c in criteria if checks[c.key])
    return int((Decimal(100 * earned) / possible).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class Check:
    criterion: Criterion
    met: bool | None

    @property
    def applies(self) -> bool:
        return self.met is not None


def checks_of(record: Model, today: datetime.date) -> tuple[int, list[Check]]:
    """One record's score and each criterion's check, for its page (one query)."""
    model = type(record)
    criteria = criteria_of(model)
    row = (
        with_quality(model._base_manager.filter(pk=record.pk), today)
        .values("quality_score", *[column(c) for c in criteria])
        .get()
    )
    return row["quality_score"], [Check(c, row[column(c)]) for c in criteria]


# The organisation unit a record counts in: its own, or for a contract its supplier's.
UNIT_OF = {
    "service": "unit_id",
    "application": "unit_id",
    "contract": "supplier__unit_id",
    "valuestream": "unit_id",
}


@dataclass
class Scored:
    """A record's score, for the steward's lists."""

    kind: str
    pk: int
    name: str
    owner_id: int | None
    unit_id: int | None
    score: int
    status: str
    url: str
    failed: list[str] = field(default_factory=list)


# Criteria read from the attestation's status, which the steward's reads derive in Python.
BY_STATUS = {
    ATTESTED.key: lambda status: (
        status in (AttestationStatus.ATTESTED, AttestationStatus.CHECK_NEEDED)
    ),
    NO_CHECK_NEEDED.key: lambda status: status != AttestationStatus.CHECK_NEEDED,
}
# The same rules as conditions on the status, for ``ScoreOnce``: operator, statuses.
BY_STATUS_MET: dict[str, tuple[str, list[str]]] = {
    ATTESTED.key: ("IN", [AttestationStatus.ATTESTED, AttestationStatus.CHECK_NEEDED]),
    NO_CHECK_NEEDED.key: ("NOT IN", [AttestationStatus.CHECK_NEEDED]),
}


def scores(model: type[Model], today: datetime.date) -> list[Scored]:
    """The score of every record of ``model`` in use (one query). The same rules as
    ``with_quality``, but the status and the score are derived from the row in Python: in
    SQL each would repeat every criterion's subquery (PostgreSQL computes an expression once
    per mention), which for 10,000 services costs seconds."""
    criteria = criteria_of(model)
    kind = model._meta.model_name
    name = "name" if any(f.name == "name" for f in model._meta.fields) else "pk"
    key = model.url_key
    in_sql = [c for c in criteria if c.key not in BY_STATUS]
    checks = {column(c): _check(c, today) for c in in_sql}
    # A record named in the reader's language reads its translations last in the row.
    named = translations.is_translatable(model)
    columns = ("pk", name, "owner_id", UNIT_OF[kind], key, "attested_at", "broken_by_id")
    rows = (
        with_confirmation(model._default_manager.filter(in_use(model)))
        .annotate(**checks)
        .values_list(*columns, *checks, *(["translations"] if named else []))
        .order_by()
    )
    since = valid_since(model, today).value
    url_of = model.url_of_key()
    found = []
    for pk, label, owner_id, unit_id, key_value, attested_at, broken_by_id, *values in rows:
        if named:
            label = translations.translated({"name": label, "translations": values.pop()}, "name")
        status = status_from(attested_at, broken_by_id, since)
        met = dict(zip((c.key for c in in_sql), values, strict=True))
        met.update({k: rule(status) for k, rule in BY_STATUS.items()})
        failed = [c.label for c in criteria if met[c.key] is False]
        url = url_of(key_value)
        score = score_of(met, criteria)
        found.append(Scored(kind, pk, str(label), owner_id, unit_id, score, status, url, failed))
    return found


def mean(values: list[int]) -> Decimal:
    if not values:
        return Decimal(0)
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Part:
    records: int
    score: Decimal


@dataclass
class PortfolioScore:
    score: Decimal
    records: int
    by_kind: dict[str, Part]
    rows: list[Scored]


def portfolio_score(today: datetime.date) -> PortfolioScore:
    """Every record of every attested kind scored, with the means per kind and overall (one
    query per kind): the portfolio's score is the mean of its records' scores."""
    rows: list[Scored] = []
    by_kind = {}
    for kind, model in ATTESTED_KINDS.items():
        of_kind = scores(model, today)
        by_kind[kind] = Part(len(of_kind), mean([r.score for r in of_kind]))
        rows += of_kind
    return PortfolioScore(mean([r.score for r in rows]), len(rows), by_kind, rows)


def service_scores(today: datetime.date) -> dict[int, int]:
    """Service id -> score, for every service in use (one query): the benchmark's figure."""
    return {row.pk: row.score for row in scores(Service, today)}


@dataclass
class UnitScore:
    """A unit's score: the mean of the scores of its records and its sub-units' records."""

    unit: OrganisationUnit
    path: str
    records: int
    own_records: int
    score: Decimal


def unit_scores(rows: list[Scored]) -> list[UnitScore]:
    """The score of every unit with records in its sub-tree, in the order of the hierarchy
    (one query, whatever the depth): a record counts in its unit and every unit above it."""
    lines = unit_lines()
    units = OrganisationUnit.objects.in_bulk(lines)
    by_unit: dict[int, list[int]] = {}
    own: dict[int, int] = {}
    for row in rows:
        if row.unit_id is None:
            continue
        own[row.unit_id] = own.get(row.unit_id, 0) + 1
        for unit_id in lines[row.unit_id]:
            by_unit.setdefault(unit_id, []).append(row.score)
    found = [
        UnitScore(
            units[unit_id],
            " › ".join(units[pk].name for pk in reversed(lines[unit_id])),
            len(values),
            own.get(unit_id, 0),
            mean(values),
        )
        for unit_id, values in by_unit.items()
    ]
    return sorted(found, key=lambda entry: entry.path.casefold())
