"""The customer–process–cost balance: each formula on a small portfolio scored by hand, the
danger-zone rule, and the daily snapshot."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from finance import services as finance_services
from finance.choices import NodeKind
from finance.choices import PeriodStatus
from finance.choices import UnallocatedReason
from finance.models import TcoResult
from finance.models import TcoUnallocated
from maturity import scoring
from maturity import selectors
from maturity import services
from maturity import tasks
from maturity.choices import BalanceElement
from maturity.models import BalanceSnapshot
from portfolio.choices import OutcomeAgreement
from portfolio.choices import ServiceKind
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from valuestreams.choices import StreamState
from valuestreams.choices import ValueClass
from valuestreams.models import Stage
from valuestreams.models import ValueStream

TODAY = datetime.date(2025, 6, 1)
CF = BalanceElement.CUSTOMER_FOCUS
PO = BalanceElement.PROCESS_ORIENTATION
CO = BalanceElement.COST_OPTIMISATION


def live(name, kind=ServiceKind.CUSTOMER_FACING):
    return ServiceFactory(name=name, kind=kind, live=True)


def names(evidence) -> list[str]:
    return sorted(s.record.name for s in evidence.shortfalls)


# --- Scores and strength ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "considered", "score"),
    [(0, 0, 0), (0, 3, 0), (1, 3, 33), (2, 3, 67), (1, 8, 13), (5, 8, 63), (3, 3, 100)],
)
def test_share_score_rounds_halves_up(meeting, considered, score):
    assert scoring.share_score(meeting=meeting, considered=considered) == score


@pytest.mark.parametrize(
    ("score", "strength"),
    [
        (0, "weak"),
        (39, "weak"),
        (40, "middling"),
        (59, "middling"),
        (60, "strong"),
        (100, "strong"),
    ],
)
def test_strength_thresholds(score, strength):
    assert scoring.strength(score) == strength


@pytest.mark.parametrize(
    ("scores", "danger"),
    [
        ({CF: 20, PO: 80, CO: 70}, CF),
        ({CF: 80, PO: 39, CO: 60}, PO),
        ({CF: 65, PO: 90, CO: 10}, CO),
        ({CF: 80, PO: 80, CO: 80}, None),  # all strong
        ({CF: 20, PO: 20, CO: 80}, None),  # one strong: weak overall, not the two-plus-one zone
        ({CF: 80, PO: 80, CO: 40}, None),  # middling is not weak
        ({CF: 10, PO: 10, CO: 10}, None),
    ],
)
def test_danger_zone_rule(scores, danger):
    assert scoring.danger_zone(scores) == danger


def test_each_missing_element_has_its_consequence():
    assert "cost centre" in scoring.DANGER_CONSEQUENCES[CF]
    assert "cuts off its own benefits" in scoring.DANGER_CONSEQUENCES[PO]
    assert "cannot show value" in scoring.DANGER_CONSEQUENCES[CO]


# --- Customer focus ------------------------------------------------------------------------------


def agreed(**kwargs):
    return OutcomeFactory(agreement=OutcomeAgreement.AGREED, **kwargs)


@pytest.mark.django_db
def test_customer_focus_on_a_small_portfolio():
    retired = CustomerFactory(retired_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
    # Full evidence: a current customer and an agreed, measurable outcome.
    agreed(subscription__service=live("A measured"))
    agreed(subscription__service=live("B measured"))
    # An outcome without a measure is not yet an SCO.
    agreed(subscription__service=live("C unmeasured"), metric="", target=None)
    # No customer at all.
    live("D alone")
    # The only subscription ended: no current customer, and its outcome no longer counts.
    agreed(subscription__service=live("E ended"), subscription__end_date=datetime.date(2025, 3, 31))
    # A retired customer is no customer.
    agreed(subscription__service=live("F retired customer"), subscription__customer=retired)
    # A proposed outcome is IT's guess of what the customer wants: no evidence.
    OutcomeFactory(subscription__service=live("I proposed only"))
    # Two current customers, one of them with an agreed outcome: half the evidence.
    half = live("J one of two")
    agreed(subscription__service=half)
    SubscriptionFactory(service=half)
    # Not counted: a pipeline service and a supporting one, however well they do.
    agreed(subscription__service=ServiceFactory(name="G pipeline"))
    agreed(subscription__service=live("H supporting", ServiceKind.SUPPORTING))

    evidence = selectors.customer_focus_evidence(today=TODAY)

    # By hand: 8 live customer-facing services; A and B bring all their evidence, J half:
    # 100 × 2.5 / 8 = 31.25 → 31 (counted 0/1, J would make it 25).
    assert (evidence.meeting, evidence.considered, evidence.score) == (2, 8, 31)
    assert names(evidence) == [
        "C unmeasured",
        "D alone",
        "E ended",
        "F retired customer",
        "I proposed only",
        "J one of two",
    ]
    reasons = {s.record.name: s.reasons for s in evidence.shortfalls}
    assert reasons["C unmeasured"] == ["no agreed, measurable Successful Customer Outcome"]
    assert reasons["I proposed only"] == ["no agreed, measurable Successful Customer Outcome"]
    assert reasons["D alone"] == [
        "no current customer",
        "no agreed, measurable Successful Customer Outcome",
    ]
    assert reasons["J one of two"] == [
        "1 of 2 current subscriptions without an agreed, measurable Successful Customer Outcome"
    ]
    assert [s.percent for s in evidence.shortfalls if s.record == half] == [50]


@pytest.mark.django_db
def test_customer_focus_counts_a_subscription_from_its_start():
    service = live("Starts later")
    agreed(subscription__service=service, subscription__start_date=TODAY)
    assert selectors.customer_focus_evidence(today=TODAY).score == 100
    yesterday = TODAY - datetime.timedelta(days=1)
    assert selectors.customer_focus_evidence(today=yesterday).score == 0


# --- Process orientation -------------------------------------------------------------------------


def stream(name, owner, *, state=StreamState.CURRENT, current=None, retired=False):
    return ValueStream.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        owner=owner,
        state=state,
        current_state=current,
        retired_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC) if retired else None,
    )


def stage(
    value_stream,
    name,
    services,
    *,
    process=30,
    lead=120,
    value_class=ValueClass.VALUE_ADDING,
    measured_on=TODAY - datetime.timedelta(days=30),
):
    created = Stage.objects.create(
        value_stream=value_stream,
        name=name,
        process_time_minutes=Decimal(process),
        lead_time_minutes=Decimal(lead),
        value_class=value_class,
        measured_on=measured_on,
    )
    created.services.set(services)
    return created


@pytest.mark.django_db
def test_process_orientation_on_a_small_portfolio(value_stream_owner):
    a, b = live("A measured stream"), live("B gaps")
    live("C no stream")
    d, e, f = live("D future only"), live("E retired stream"), live("F one good stream")
    supporting = live("G supporting", ServiceKind.SUPPORTING)

    measured = stream("Settle claims", value_stream_owner)
    stage(measured, "Register the claim", [a, f, supporting])
    stage(measured, "Assess the claim", [a])
    # Waiting has no hands-on time by nature: measured, though its process time is zero.
    stage(measured, "Wait for the estimate", [a], process=0, lead=960, value_class=ValueClass.WASTE)
    gaps = stream("Renew policies", value_stream_owner)
    stage(gaps, "Send the renewal offer", [b, f])
    stage(gaps, "Collect the premium", [b], process=0, lead=0)
    # Hands-on work with no process time recorded: not measured yet.
    stage(gaps, "Check the payment", [b], process=0, lead=60)
    future = stream(
        "Settle claims faster", value_stream_owner, state=StreamState.FUTURE, current=measured
    )
    stage(future, "Register the claim", [d])
    old = stream("Old quotes", value_stream_owner, retired=True)
    stage(old, "Quote the premium", [e])
    # Measured, but more than 12 months ago: it no longer says how the stream runs.
    stale = live("G stale measures")
    aged = stream("Lend a courtesy car", value_stream_owner)
    stage(aged, "Book the car", [stale], measured_on=datetime.date(2024, 5, 31))
    stage(aged, "Deliver the car", [stale], measured_on=datetime.date(2024, 6, 1))

    evidence = selectors.process_orientation_evidence(today=TODAY)

    # By hand: A underpins the fully measured stream (1); B's stream has 1 of 3 stages
    # measured (1/3); F underpins both streams, 4 of their 6 stages measured (2/3); G's
    # stream has 1 of 2 stages measured since 2024-06-01 (1/2); C none; D only a future
    # state; E only a retired stream. 100 × 2.5 / 7 = 35.7 → 36.
    assert (evidence.meeting, evidence.considered, evidence.score) == (1, 7, 36)
    assert names(evidence) == [
        "B gaps",
        "C no stream",
        "D future only",
        "E retired stream",
        "F one good stream",
        "G stale measures",
    ]
    (gap,) = [s for s in evidence.shortfalls if s.record == b]
    assert [label for label, _ in gap.related] == [
        "Renew policies: Collect the premium",
        "Renew policies: Check the payment",
    ]
    (aging,) = [s for s in evidence.shortfalls if s.record == stale]
    assert [label for label, _ in aging.related] == ["Lend a courtesy car: Book the car"]
    assert gap.related[0][1].startswith("/value-streams/")


@pytest.mark.django_db
def test_process_orientation_reads_in_a_fixed_number_of_queries(
    value_stream_owner, django_assert_num_queries
):
    service = live("One")
    stage(
        stream("One stream", value_stream_owner), "Register the claim", [service], process=0, lead=0
    )
    with django_assert_num_queries(4):
        selectors.process_orientation_evidence(today=TODAY)
    for n in range(5):
        more = live(f"More {n}")
        flow = stream(f"Stream {n}", value_stream_owner)
        stage(flow, "Register the claim", [more, service], process=0, lead=0)
        stage(flow, "Assess the claim", [more])
    with django_assert_num_queries(4):
        evidence = selectors.process_orientation_evidence(today=TODAY)
    assert evidence.considered == 6 and evidence.meeting == 0


# --- Cost optimisation ---------------------------------------------------------------------------


def result(period, service, tco, revenue=100):
    return TcoResult.objects.create(
        period=period,
        version=period.current_version,
        service=service,
        tco=Decimal(tco),
        revenue=Decimal(revenue),
    )


@pytest.mark.django_db
def test_cost_optimisation_on_a_small_portfolio():
    closed = PeriodFactory(year=2025, month=3, status=PeriodStatus.CLOSED)
    later_open = PeriodFactory(year=2025, month=4)
    a = live("A costed")
    b = live("B zero")
    c = live("C no result")
    d = live("D stuck input", ServiceKind.SUPPORTING)
    e = live("E downstream of D")
    f = live("F costed")
    g = live("G application without cost")
    h = live("H costed against an outcome")
    i = live("I costed against nothing")
    pipeline = ServiceFactory(name="H pipeline")
    for service, tco, revenue in (
        (a, 100, 150),
        (b, 0, 10),
        (d, 50, 0),
        (e, 70, 90),
        (f, 80, 80),
        (g, 10, 20),
        (h, 20, 0),
        (i, 30, 0),
        (pipeline, 5, 5),
    ):
        result(closed, service, tco, revenue)
    # H earns nothing, but its cost stands beside an outcome its customer agreed.
    agreed(subscription__service=h)
    # I's outcome is only proposed: its cost is set against nothing.
    OutcomeFactory(subscription__service=i)
    # The open month is newer but not closed: the closed month is read.
    result(later_open, c, 40)
    # An application supporting D left cost unallocated (every weight zero): D's TCO misses
    # it, and so does E's, which receives part of D's cost.
    support = ApplicationSupportFactory(service=d, weight=Decimal(0))
    ServiceDependencyFactory(consumer=e, provider=d)
    TcoUnallocated.objects.create(
        period=closed,
        version=1,
        source_kind=NodeKind.APPLICATION,
        source_id=support.application_id,
        source_label=support.application.name,
        reason=UnallocatedReason.ZERO_WEIGHT,
        amount=Decimal("12.00"),
    )
    # F's supporting application brings cost through its contract; G's brings none at all.
    ContractCoverageFactory(application=ApplicationSupportFactory(service=f).application)
    ApplicationSupportFactory(service=g, application__name="Idle app")
    # A pool that reaches nobody is unallocated too, but it is no input of any service here.
    TcoUnallocated.objects.create(
        period=closed,
        version=1,
        source_kind=NodeKind.POOL,
        source_id=999,
        source_label="Unused pool",
        reason=UnallocatedReason.NO_TARGET,
        amount=Decimal("5.00"),
    )

    evidence = selectors.cost_optimisation_evidence(today=TODAY)

    # By hand: 8 live customer-facing services (D supports them). A, F and H bring all the
    # evidence; E and G two of three checks (2/3 each); B, C and I none: 100 × (3 + 4/3) / 8
    # = 54.2 → 54.
    assert evidence.period == closed
    assert (evidence.meeting, evidence.considered, evidence.score) == (3, 8, 54)
    assert names(evidence) == [
        "B zero",
        "C no result",
        "E downstream of D",
        "G application without cost",
        "I costed against nothing",
    ]
    reasons = {s.record.name: " ".join(s.reasons) for s in evidence.shortfalls}
    assert "a TCO of zero in 2025-03" in reasons["B zero"]
    assert "no TCO in 2025-03" in reasons["C no result"]
    assert support.application.name in reasons["E downstream of D"]
    assert (
        "supporting applications without cost in 2025-03: Idle app"
        in reasons["G application without cost"]
    )
    assert "set against no revenue" in reasons["I costed against nothing"]


@pytest.mark.django_db
def test_cost_optimisation_without_any_tco_is_zero():
    live("A"), live("B")
    evidence = selectors.cost_optimisation_evidence()
    assert (evidence.meeting, evidence.considered, evidence.score) == (0, 2, 0)
    assert evidence.shortfalls[0].reasons == ["no TCO computed for any period"]


@pytest.mark.django_db
def test_cost_optimisation_reads_the_roll_up_of_finance():
    period = PeriodFactory(year=2025, month=5)
    costed, uncosted = live("Costed"), live("Uncosted")
    CostItemFactory(period=period, service=costed, amount=Decimal("900.00"))
    agreed(subscription__service=costed)
    finance_services.recompute_tco(period=period)

    evidence = selectors.cost_optimisation_evidence(today=TODAY)

    assert evidence.period == period
    assert (evidence.meeting, evidence.considered) == (1, 2)
    assert [s.record for s in evidence.shortfalls] == [uncosted]


# --- The balance and its snapshots ---------------------------------------------------------------


@pytest.mark.django_db
def test_balance_flags_the_danger_zone_with_the_consequence(value_stream_owner):
    # Customer focus and process strong (1 of 1), cost weak (no TCO): cannot show value.
    service = live("Only")
    agreed(subscription__service=service)
    stage(stream("Serve", value_stream_owner), "Register the claim", [service])

    balance = selectors.balance(today=TODAY)

    assert balance.scores == {CF: 100, PO: 100, CO: 0}
    assert balance.danger == CO
    assert "cannot show value" in balance.consequence


@pytest.mark.django_db
def test_snapshot_is_one_per_day_and_follows_the_portfolio():
    service = live("Only")
    first = services.record_balance_snapshot(on=TODAY)
    assert (first.customer_focus, first.process_orientation, first.cost_optimisation) == (0, 0, 0)
    assert first.evidence[CF] == {"considered": 1, "meeting": 0, "evidence": "0.00"}

    agreed(subscription__service=service)
    again = services.record_balance_snapshot(on=TODAY)

    assert again.pk == first.pk
    assert BalanceSnapshot.objects.count() == 1
    assert again.customer_focus == 100
    services.record_balance_snapshot(on=TODAY + datetime.timedelta(days=1))
    assert [s.taken_on for s in selectors.snapshot_history()] == [
        TODAY,
        TODAY + datetime.timedelta(days=1),
    ]


@pytest.mark.django_db
def test_daily_task_records_todays_snapshot(celery_eager):
    live("Only")
    snapshot_id = tasks.record_balance_snapshot.delay().get()
    snapshot = BalanceSnapshot.objects.get(pk=snapshot_id)
    assert snapshot.taken_on == timezone.localdate()
    assert BalanceSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_daily_snapshot_is_scheduled_in_the_database_scheduler():
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(name="maturity: daily balance snapshot")
    assert entry.task == "maturity.tasks.record_balance_snapshot"
    assert entry.crontab is not None and entry.enabled


@pytest.mark.django_db
def test_self_assessment_is_shown_beside_the_evidence():
    owner = UserFactory(username="sa-owner")
    services.record_self_assessment(
        assessed_on=TODAY,
        customer_focus=80,
        process_orientation=60,
        cost_optimisation=70,
        assessor=owner,
    )
    latest = selectors.latest_self_assessment()
    assert latest.scores == {CF: 80, PO: 60, CO: 70}
    assert latest.assessor == owner
