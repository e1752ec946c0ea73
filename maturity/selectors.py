"""Reusable reads of the maturity app: latest levels, customer relationships and their
mismatches, assessment history, and the customer–process–cost balance read from the portfolio."""

import calendar
import datetime
from dataclasses import dataclass
from dataclasses import field
from fractions import Fraction

from django.db.models import BooleanField
from django.db.models import Count
from django.db.models import Exists
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.utils import timezone

from finance.choices import NodeKind
from finance.choices import PeriodStatus
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.selectors.inputs import edges_in_force
from finance.selectors.results import applications_with_cost
from finance.selectors.results import supports_in_use
from maturity import scoring
from maturity.choices import BalanceElement
from maturity.choices import MismatchDirection
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import BalanceSnapshot
from maturity.models import Party
from maturity.questionnaire import LEVELS
from people.models import OrganisationUnit
from portfolio.choices import OutcomeAgreement
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.models import ApplicationSupport
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import Subscription
from portfolio.selectors import subscriptions_in_force
from valuestreams.choices import StreamState
from valuestreams.choices import ValueClass
from valuestreams.models import Stage
from valuestreams.models import ValueStream

# --- Levels and history ------------------------------------------------------------------------


def latest_assessments(*, party_ids=None) -> dict[int, Assessment]:
    """The latest assessment of each party (by date, then by entry), keyed by party id."""
    rows = Assessment.objects.select_related("party", "party__customer", "party__unit")
    if party_ids is not None:
        rows = rows.filter(party_id__in=party_ids)
    rows = rows.order_by("party_id", "-assessed_on", "-id").distinct("party_id")
    return {assessment.party_id: assessment for assessment in rows}


def with_latest_level(parties: QuerySet) -> QuerySet:
    """Parties annotated with the level in force of their latest assessment (by date, then by
    entry, as ``latest_assessments``) and its date: ``latest_level``, ``latest_assessed_on``
    (None before the first)."""
    latest = Assessment.objects.filter(party=OuterRef("pk")).order_by("-assessed_on", "-id")
    return parties.annotate(
        latest_level=Subquery(latest.values("level")[:1]),
        latest_assessed_on=Subquery(latest.values("assessed_on")[:1]),
    )


def party_history(party: Party) -> list[Assessment]:
    """Every assessment of ``party``, oldest first (the trend reads left to right)."""
    return list(party.assessments.select_related("assessor").order_by("assessed_on", "id"))


@dataclass(frozen=True)
class Trend:
    level: int
    previous_level: int | None
    previous_on: datetime.date | None

    @property
    def change(self) -> int:
        return 0 if self.previous_level is None else self.level - self.previous_level

    @property
    def word(self) -> str:
        if self.previous_level is None:
            return "first assessment"
        if self.change > 0:
            return "rising"
        if self.change < 0:
            return "falling"
        return "steady"


def trend_of(history: list[Assessment]) -> Trend | None:
    """The latest level against the one before it (``history`` oldest first)."""
    if not history:
        return None
    latest = history[-1]
    previous = history[-2] if len(history) > 1 else None
    return Trend(
        level=latest.level,
        previous_level=previous.level if previous else None,
        previous_on=previous.assessed_on if previous else None,
    )


def provider_parties() -> list[Party]:
    """The organisation (when assessed) and its units, the organisation first."""
    return list(
        Party.objects.filter(kind=PartyKind.PROVIDER, retired_at__isnull=True)
        .select_related("unit")
        .order_by(F("unit__name").asc(nulls_first=True))
    )


def organisation() -> Party | None:
    return Party.objects.filter(kind=PartyKind.PROVIDER, unit__isnull=True).first()


def units_to_assess(party: Party) -> QuerySet:
    """The organisation units a provider unit may be: those in use that no other party
    assesses (its own among them)."""
    free = Q(maturity_party__isnull=True)
    if party.pk is not None:
        free |= Q(maturity_party=party)
    return OrganisationUnit.objects.filter(free, retired_at__isnull=True).order_by("name")


def units_for_choice() -> QuerySet:
    return Party.objects.filter(
        kind=PartyKind.PROVIDER, retired_at__isnull=True, unit__isnull=False
    ).select_related("unit")


# --- Customer relationships and mismatches ----------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    direction: str
    gap: int
    explanation: str

    @property
    def label(self) -> str:
        return MismatchDirection(self.direction).label


@dataclass
class Relationship:
    """A customer and the provider (unit) serving it, each at its latest level."""

    customer: Customer
    party: Party | None
    assessment: Assessment | None
    provider: Party | None
    provider_assessment: Assessment | None
    # True when the serving unit has no assessment and the organisation's level stands for it.
    provider_is_fallback: bool = False
    mismatch: Mismatch | None = None
    current_subscriptions: int = 0

    @property
    def level(self) -> int | None:
        return self.assessment.level if self.assessment else None

    @property
    def provider_level(self) -> int | None:
        return self.provider_assessment.level if self.provider_assessment else None

    @property
    def serving_unit(self) -> Party | None:
        return self.party.served_by if self.party else None

    @property
    def wants(self) -> str:
        return LEVELS[self.level].customer_wants if self.level else ""


def _relate(customer: Customer, latest: dict[int, Assessment], org: Party | None):
    party = getattr(customer, "maturity_party", None)
    assessment = latest.get(party.pk) if party else None
    unit = party.served_by if party else None
    provider = unit if unit is not None and not unit.is_retired else org
    provider_assessment = latest.get(provider.pk) if provider else None
    fallback = False
    if provider_assessment is None and provider is not org and org is not None:
        provider_assessment, fallback = latest.get(org.pk), True
    relationship = Relationship(
        customer=customer,
        party=party,
        assessment=assessment,
        provider=provider,
        provider_assessment=provider_assessment,
        provider_is_fallback=fallback and provider_assessment is not None,
        current_subscriptions=getattr(customer, "current_subscription_count", 0),
    )
    if assessment is not None and provider_assessment is not None:
        direction = scoring.mismatch_direction(
            provider_level=provider_assessment.level, customer_level=assessment.level
        )
        if direction:
            relationship.mismatch = Mismatch(
                direction=direction,
                gap=abs(provider_assessment.level - assessment.level),
                explanation=scoring.mismatch_explanation(
                    direction=direction,
                    provider=str(provider),
                    provider_level=provider_assessment.level,
                    customer=str(customer),
                    customer_level=assessment.level,
                ),
            )
    return relationship


def _customers(today: datetime.date) -> QuerySet:
    return (
        Customer.objects.filter(retired_at__isnull=True)
        .select_related(
            "maturity_party",
            "maturity_party__served_by",
            "maturity_party__served_by__unit",
            "relationship_manager",
        )
        .annotate(
            current_subscription_count=Count(
                "subscriptions",
                filter=subscriptions_in_force(today, prefix="subscriptions__"),
                distinct=True,
            )
        )
        .order_by("name")
    )


def customer_relationships(
    *, today: datetime.date | None = None, latest: dict[int, Assessment] | None = None
) -> list[Relationship]:
    """Every customer in the portfolio with its level, its provider's level and any mismatch.

    Three queries, however many customers and assessments there are (two when the caller
    passes the ``latest_assessments()`` it already read).
    """
    today = today or timezone.localdate()
    customers = list(_customers(today))
    if latest is None:
        latest = latest_assessments()
    org = organisation()
    return [_relate(customer, latest, org) for customer in customers]


def customers_served_by(provider: Party) -> list[Relationship]:
    """The relationships in which ``provider`` (the organisation or a unit) serves."""
    return [r for r in customer_relationships() if r.provider and r.provider.pk == provider.pk]


def mismatches(
    *, today: datetime.date | None = None, relationships: list[Relationship] | None = None
) -> list[Relationship]:
    """The customer relationships whose two sides are too far apart, widest gap first (of
    ``relationships`` when the caller has read them already)."""
    if relationships is None:
        relationships = customer_relationships(today=today)
    found = [r for r in relationships if r.mismatch]
    return sorted(found, key=lambda r: (-r.mismatch.gap, r.customer.name))


def relationship_for_customer(customer: Customer) -> Relationship | None:
    """One customer's relationship, read with a fixed handful of queries (None for a customer
    that has none any more: a retired one)."""
    today = timezone.localdate()
    customer = _customers(today).filter(pk=customer.pk).first()
    if customer is None:
        return None
    party = getattr(customer, "maturity_party", None)
    org = organisation()
    ids = [p.pk for p in (party, party.served_by if party else None, org) if p is not None]
    return _relate(customer, latest_assessments(party_ids=ids), org)


def mismatch_for_customer(customer: Customer) -> Mismatch | None:
    """The mismatch between ``customer`` and the provider serving it, or None."""
    relationship = relationship_for_customer(customer)
    return relationship.mismatch if relationship else None


def customers_by_level(relationships: list[Relationship]) -> list[tuple[int | None, list]]:
    """Relationships grouped by customer level, 5 down to 1, then those not yet assessed."""
    groups: dict[int | None, list[Relationship]] = {5: [], 4: [], 3: [], 2: [], 1: [], None: []}
    for relationship in relationships:
        groups[relationship.level].append(relationship)
    return list(groups.items())


# --- The customer–process–cost balance ---------------------------------------------------------


@dataclass
class Shortfall:
    """A record that pulls a balance score down, why, and the records that explain it."""

    record: object
    reasons: list[str]
    related: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    # The share of its evidence the record shows, 0 to 1 (a shortfall shows less than all).
    share: Fraction = Fraction(0)

    @property
    def percent(self) -> int:
        return scoring.share_score(meeting=self.share, considered=1)


@dataclass
class ElementEvidence:
    """One balance element: each record considered brings a share of evidence from 0 to 1;
    ``evidence`` is their sum, ``meeting`` counts the records with all of it."""

    element: str
    considered: int
    meeting: int
    shortfalls: list[Shortfall] = field(default_factory=list)
    # What is counted, for the page ("live customer-facing services", ...).
    population: str = ""
    # The finance period the cost evidence was read from (cost optimisation only).
    period: object = None
    evidence: Fraction = Fraction(0)

    def count(self, record, share: Fraction, reasons: list[str], related=()) -> None:
        """Count ``record`` with its ``share`` of the evidence, and why it falls short."""
        self.considered += 1
        self.evidence += share
        if share == 1:
            self.meeting += 1
        else:
            self.shortfalls.append(Shortfall(record, reasons, list(related), share))

    @property
    def label(self) -> str:
        return BalanceElement(self.element).label

    @property
    def score(self) -> int:
        return scoring.share_score(meeting=self.evidence, considered=self.considered)

    @property
    def strength(self) -> str:
        return scoring.strength(self.score)


@dataclass
class Balance:
    elements: list[ElementEvidence]

    def element(self, element: str) -> ElementEvidence:
        return next(e for e in self.elements if e.element == element)

    def score(self, element: str) -> int:
        return self.element(element).score

    @property
    def scores(self) -> dict[str, int]:
        return {e.element: e.score for e in self.elements}

    @property
    def danger(self) -> str | None:
        return scoring.danger_zone(self.scores)

    @property
    def danger_label(self) -> str:
        return BalanceElement(self.danger).label if self.danger else ""

    @property
    def consequence(self) -> str:
        return scoring.DANGER_CONSEQUENCES[self.danger] if self.danger else ""


def live_customer_facing() -> QuerySet:
    return Service.objects.filter(
        kind=ServiceKind.CUSTOMER_FACING, lifecycle=ServiceLifecycle.LIVE
    ).order_by("name")


def agreed_measurable_outcomes() -> QuerySet:
    """Successful Customer Outcomes the customer agreed (a proposed one is IT's guess) that
    carry a measure (an SCO without one is not yet an SCO)."""
    return (
        Outcome.objects.filter(agreement=OutcomeAgreement.AGREED)
        .filter(target__isnull=False)
        .exclude(metric="")
        .exclude(unit="")
    )


def customer_focus_evidence(*, today: datetime.date) -> ElementEvidence:
    """Live customer-facing services, each with the share of its current subscriptions (from
    customers not retired) that carry an agreed, measurable SCO. Two queries."""
    services = list(live_customer_facing())
    agreed = agreed_measurable_outcomes().filter(subscription=OuterRef("pk"))
    current: dict[int, list[bool]] = {}
    for service_id, has_outcome in (
        Subscription.objects.filter(
            subscriptions_in_force(today),
            service_id__in=[service.pk for service in services],
            customer__retired_at__isnull=True,
        )
        .annotate(has_outcome=Exists(agreed))
        .values_list("service_id", "has_outcome")
        .order_by()
    ):
        current.setdefault(service_id, []).append(has_outcome)
    evidence = ElementEvidence(
        BalanceElement.CUSTOMER_FOCUS, 0, 0, population="live customer-facing services"
    )
    for service in services:
        subscriptions = current.get(service.pk, [])
        with_outcome = sum(subscriptions)
        share = Fraction(with_outcome, len(subscriptions)) if subscriptions else Fraction(0)
        reasons = []
        if not subscriptions:
            reasons.append("no current customer")
        if not with_outcome:
            reasons.append("no agreed, measurable Successful Customer Outcome")
        elif with_outcome < len(subscriptions):
            reasons.append(
                f"{len(subscriptions) - with_outcome} of {len(subscriptions)} current "
                "subscriptions without an agreed, measurable Successful Customer Outcome"
            )
        evidence.count(service, share, reasons)
    return evidence


def stage_measures_incomplete() -> Q:
    """A stage is not yet measured while its lead time is zero (no real stage takes no time),
    or its process time is zero and it is not waste: only waiting, classified as waste, has
    no hands-on time. (%C&A always holds a value, 100 until measured otherwise.)"""
    return Q(lead_time_minutes__lte=0) | (
        Q(process_time_minutes__lte=0) & ~Q(value_class=ValueClass.WASTE)
    )


# Process orientation reads the measures of the last twelve months: older ones no longer say
# how the stream runs.
MEASURED_WITHIN_MONTHS = 12


def measured_since(today: datetime.date) -> datetime.date:
    """The first day a stage's measures count from: twelve months before ``today``."""
    year, month = today.year, today.month - MEASURED_WITHIN_MONTHS
    while month < 1:
        year, month = year - 1, month + 12
    return datetime.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def process_orientation_evidence(*, today: datetime.date | None = None) -> ElementEvidence:
    """Live customer-facing services, each with the share of the stages of the mapped value
    streams it underpins (current states, not retired) that were measured in the last twelve
    months with complete measures. Four queries."""
    today = today or timezone.localdate()
    since = measured_since(today)
    services = list(live_customer_facing())
    links = list(
        Stage.services.through.objects.filter(
            service_id__in=[s.pk for s in services],
            stage__value_stream__state=StreamState.CURRENT,
            stage__value_stream__retired_at__isnull=True,
        )
        .values_list("service_id", "stage__value_stream_id")
        .distinct()
    )
    stream_ids = {stream_id for _, stream_id in links}
    streams = {stream.pk: stream for stream in ValueStream.objects.filter(pk__in=stream_ids)}
    stages: dict[int, list] = {pk: [] for pk in stream_ids}
    for stage in (
        Stage.objects.filter(value_stream_id__in=stream_ids)
        .select_related("value_stream")
        .annotate(incomplete=ExpressionWrapper(stage_measures_incomplete(), BooleanField()))
        .order_by("position", "id")
    ):
        stage.measured = not stage.incomplete and (
            stage.measured_on is not None and stage.measured_on >= since
        )
        stages[stage.value_stream_id].append(stage)
    streams_of: dict[int, list] = {}
    for service_id, stream_id in links:
        streams_of.setdefault(service_id, []).append(streams[stream_id])
    evidence = ElementEvidence(
        BalanceElement.PROCESS_ORIENTATION, 0, 0, population="live customer-facing services"
    )
    for service in services:
        underpinned = sorted(streams_of.get(service.pk, []), key=lambda v: v.name)
        if not underpinned:
            evidence.count(service, Fraction(0), ["underpins no mapped value stream"])
            continue
        all_stages = [(stream, stage) for stream in underpinned for stage in stages[stream.pk]]
        unmeasured = [(stream, stage) for stream, stage in all_stages if not stage.measured]
        share = Fraction(len(all_stages) - len(unmeasured), len(all_stages))
        related = [
            (f"{stream.name}: {stage.name}", stage.get_absolute_url())
            for stream, stage in unmeasured
        ]
        reasons = [
            f"{len(unmeasured)} of {len(all_stages)} stages of the value streams it underpins "
            f"have no complete measures taken since {since.isoformat()}"
        ]
        evidence.count(service, share, reasons, related)
    return evidence


def tco_reporting_period() -> Period | None:
    """The period the cost evidence is read from: the latest closed period with results,
    else the latest period with results at all."""
    with_results = Period.objects.filter(
        Exists(TcoResult.objects.filter(period=OuterRef("pk"), version=OuterRef("current_version")))
    )
    return (
        with_results.filter(status=PeriodStatus.CLOSED).order_by("-serial").first()
        or with_results.order_by("-serial").first()
    )


def _cost_edges(period: Period) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """Every road cost takes towards a service in ``period`` (the edges in force in its
    month): (source node, target node). Zero weights count: a source whose only roads carry
    nothing leaves its cost unallocated."""
    in_force = edges_in_force(period)
    edges = [
        ((NodeKind.APPLICATION, a), (NodeKind.SERVICE, s))
        for a, s in ApplicationSupport.objects.filter(in_force).values_list(
            "application_id", "service_id"
        )
    ]
    for contract_id, service_id, application_id in ContractCoverage.objects.filter(
        in_force
    ).values_list("contract_id", "service_id", "application_id"):
        target = (
            (NodeKind.SERVICE, service_id)
            if service_id is not None
            else (NodeKind.APPLICATION, application_id)
        )
        edges.append(((NodeKind.CONTRACT, contract_id), target))
    edges += [
        ((NodeKind.POOL, p), (NodeKind.SERVICE, s))
        for p, s in PoolAllocation.objects.filter(in_force).values_list("pool_id", "service_id")
    ]
    edges += [
        ((NodeKind.SERVICE, provider), (NodeKind.SERVICE, consumer))
        for provider, consumer in ServiceDependency.objects.filter(in_force).values_list(
            "provider_id", "consumer_id"
        )
    ]
    return edges


def applications_without_cost(period: Period) -> dict[int, list[str]]:
    """Per service, the names of its supporting applications (not retired) that bring no cost
    in ``period``: no cost item booked against them and no contract covering them. The same
    check as the service page's cost completeness (finance.selectors.cost_completeness), for
    every service in two queries."""
    supports = list(
        supports_in_use(period).values_list("service_id", "application_id", "application__name")
    )
    with_cost = applications_with_cost(
        {application_id for _, application_id, _ in supports}, period
    )
    missing: dict[int, list[str]] = {}
    for service_id, application_id, name in sorted(supports, key=lambda row: row[2]):
        if application_id not in with_cost:
            missing.setdefault(service_id, []).append(name)
    return missing


# A service's cost is known by three checks; each known check is a third of the evidence.
COST_CHECKS = 3


def cost_optimisation_evidence(*, today: datetime.date | None = None) -> ElementEvidence:
    """Live customer-facing services (the cost of supporting services reaches them through the
    roll-up), each with the share of its cost that is known in the reporting period, counted
    only when that cost is set against revenue or an outcome.

    Known: a TCO computed above zero; every supporting application brings its cost; no cost
    left unallocated at the service or anywhere upstream of it (the applications, contracts,
    pools and services its cost comes from). A TCO of zero or none knows nothing. Set against:
    revenue in the period's result, or an agreed, measurable SCO on a current subscription.
    """
    today = today or timezone.localdate()
    services = list(live_customer_facing())
    evidence = ElementEvidence(
        BalanceElement.COST_OPTIMISATION, 0, 0, population="live customer-facing services"
    )
    period = tco_reporting_period()
    evidence.period = period
    if period is None:
        for service in services:
            evidence.count(service, Fraction(0), ["no TCO computed for any period"])
        return evidence
    version = period.current_version
    results = {
        service_id: (tco, revenue)
        for service_id, tco, revenue in TcoResult.objects.filter(
            period=period, version=version
        ).values_list("service_id", "tco", "revenue")
    }
    with_outcome = set(
        agreed_measurable_outcomes()
        .filter(
            subscriptions_in_force(today, prefix="subscription__"),
            subscription__customer__retired_at__isnull=True,
            subscription__service_id__in=[service.pk for service in services],
        )
        .values_list("subscription__service_id", flat=True)
        .order_by()
    )
    stuck: dict[tuple[str, int], list[str]] = {}
    for row in TcoUnallocated.objects.filter(period=period, version=version):
        stuck.setdefault((row.source_kind, row.source_id), []).append(
            f"{row.source_label} ({row.get_reason_display().lower()})"
        )
    # Spread each stuck source downstream along the roads of cost, to every node it feeds.
    downstream: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for source, target in _cost_edges(period):
        downstream.setdefault(source, []).append(target)
    reached: dict[tuple[str, int], set[str]] = {}
    for source, labels in stuck.items():
        queue, seen = [source], {source}
        while queue:
            node = queue.pop()
            reached.setdefault(node, set()).update(labels)
            for target in downstream.get(node, ()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
    costless = applications_without_cost(period)
    for service in services:
        reasons = []
        tco, revenue = results.get(service.pk, (None, None))
        known = 0
        if tco is None:
            reasons.append(f"no TCO in {period}")
        elif tco <= 0:
            reasons.append(f"a TCO of zero in {period}: no cost reaches it")
        else:
            known = COST_CHECKS
            if service.pk in costless:
                known -= 1
                reasons.append(
                    f"supporting applications without cost in {period}: "
                    + ", ".join(costless[service.pk])
                )
            unallocated = sorted(reached.get((NodeKind.SERVICE, service.pk), ()))
            if unallocated:
                known -= 1
                reasons.append("unallocated input cost: " + "; ".join(unallocated))
        set_against = (revenue is not None and revenue > 0) or service.pk in with_outcome
        if not set_against:
            reasons.append(
                f"its cost is set against no revenue in {period} and no agreed, measurable "
                "Successful Customer Outcome"
            )
        share = Fraction(known, COST_CHECKS) if set_against else Fraction(0)
        evidence.count(service, share, reasons)
    return evidence


def balance(*, today: datetime.date | None = None) -> Balance:
    """The three balance elements as the portfolio shows them today."""
    today = today or timezone.localdate()
    return Balance(
        [
            customer_focus_evidence(today=today),
            process_orientation_evidence(today=today),
            cost_optimisation_evidence(today=today),
        ]
    )


def latest_self_assessment() -> BalanceSelfAssessment | None:
    return BalanceSelfAssessment.objects.select_related("assessor").first()


def snapshot_history(*, limit: int = 13) -> list[BalanceSnapshot]:
    """The latest snapshots, oldest first."""
    return list(reversed(BalanceSnapshot.objects.order_by("-taken_on")[:limit]))
