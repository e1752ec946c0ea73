from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import UserFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors
from valuestreams import services
from valuestreams.choices import TimeUnit
from valuestreams.models import Stage
from valuestreams.models import ValueStream
from valuestreams.templatetags.valuestreams_tags import difference
from valuestreams.templatetags.valuestreams_tags import duration
from valuestreams.templatetags.valuestreams_tags import percent


def stage(pt, lt, ca="100", moment=False):
    """An unsaved stage: the measures need no database."""
    return Stage(
        process_time_minutes=Decimal(pt),
        lead_time_minutes=Decimal(lt),
        complete_accurate=Decimal(ca),
        moment_of_truth=moment,
    )


def test_normalise_duration_converts_each_unit_to_minutes():
    assert services.normalise_duration(value=Decimal(45), unit=TimeUnit.MINUTES) == 45
    assert services.normalise_duration(value=Decimal("1.5"), unit=TimeUnit.HOURS) == 90
    # A day is a working day of 8 hours.
    assert services.normalise_duration(value=Decimal(2), unit=TimeUnit.DAYS) == 960


def test_normalise_duration_refuses_negative_times_and_unknown_units():
    with pytest.raises(ValidationError):
        services.normalise_duration(value=Decimal(-1), unit=TimeUnit.HOURS)
    with pytest.raises(ValidationError):
        services.normalise_duration(value=Decimal(1), unit="weeks")


def test_stage_times_read_back_in_the_unit_entered():
    s = Stage(
        process_time_minutes=Decimal(90),
        process_time_unit=TimeUnit.HOURS,
        lead_time_minutes=Decimal(1440),
        lead_time_unit=TimeUnit.DAYS,
    )
    assert s.process_time == Decimal("1.5")
    assert s.lead_time == 3


def test_flow_measures_of_an_empty_stream():
    measures = selectors.flow_measures([])
    assert measures.stage_count == 0
    assert measures.lead_time == 0 and measures.process_time == 0
    assert measures.activity_ratio is None
    assert measures.rolled_complete_accurate is None
    assert measures.moments_of_truth == 0


def test_flow_measures_sum_times_and_multiply_complete_accurate():
    measures = selectors.flow_measures(
        [stage(30, 120, "90", moment=True), stage(60, 480, "80"), stage(10, 360, "50", True)]
    )
    assert measures.lead_time == 960
    assert measures.process_time == 100
    assert measures.activity_ratio == Decimal(100) / Decimal(960) * 100
    assert measures.rolled_complete_accurate == Decimal("36.0")  # 0.9 × 0.8 × 0.5
    assert measures.moments_of_truth == 2


def test_flow_measures_with_zero_lead_time_have_no_activity_ratio():
    measures = selectors.flow_measures([stage(0, 0), stage(0, 0)])
    assert measures.lead_time == 0
    assert measures.activity_ratio is None
    assert measures.rolled_complete_accurate == 100


def test_flow_measures_with_a_stage_at_zero_complete_accurate_roll_to_zero():
    measures = selectors.flow_measures([stage(1, 2, "95"), stage(1, 2, "0")])
    assert measures.rolled_complete_accurate == 0


@pytest.mark.django_db
def test_database_measures_match_the_python_ones():
    owner = UserFactory()
    stream = ValueStreamFactory(owner=owner)
    StageFactory(
        value_stream=stream,
        process_time_minutes=30,
        lead_time_minutes=120,
        complete_accurate=Decimal("90"),
        moment_of_truth=True,
    )
    StageFactory(
        value_stream=stream,
        process_time_minutes=60,
        lead_time_minutes=480,
        complete_accurate=Decimal("80"),
    )
    zero = ValueStreamFactory(owner=owner)
    StageFactory(value_stream=zero, complete_accurate=Decimal("0"))
    empty = ValueStreamFactory(owner=owner)

    annotated = {s.pk: s for s in selectors.with_measures(ValueStream.objects.all())}
    python = selectors.measures_of(stream)

    row = annotated[stream.pk]
    assert row.stage_count == 2 and row.moment_of_truth_count == 1
    assert row.total_lead_time == python.lead_time == 600
    assert row.total_process_time == python.process_time == 90
    assert row.activity_ratio.quantize(Decimal("0.0001")) == python.activity_ratio.quantize(
        Decimal("0.0001")
    )
    assert row.rolled_complete_accurate.quantize(Decimal("0.0001")) == Decimal("72.0000")
    assert annotated[zero.pk].rolled_complete_accurate == 0
    assert annotated[empty.pk].stage_count == 0
    assert annotated[empty.pk].total_lead_time == 0
    assert annotated[empty.pk].activity_ratio is None
    assert annotated[empty.pk].rolled_complete_accurate is None


def test_differences_say_which_way_each_measure_moved():
    current = selectors.flow_measures([stage(60, 960, "80", True), stage(30, 480, "90")])
    future = selectors.flow_measures([stage(45, 240, "95", True)])
    rows = {row.label: row for row in selectors.measure_differences(current=current, future=future)}
    assert rows["Total lead time"].change == 240 - 1440
    assert rows["Total lead time"].verdict == "better"
    assert rows["Activity ratio"].verdict == "better"
    assert rows["Rolled %C&A"].change == Decimal("95") - Decimal("72.0")
    assert rows["Stages"].change == -1 and rows["Stages"].verdict == ""
    assert rows["Moments of Truth"].change == 0


def test_differences_against_an_empty_current_state_have_no_ratio_change():
    future = selectors.flow_measures([stage(10, 20)])
    rows = {
        row.label: row
        for row in selectors.measure_differences(current=selectors.flow_measures([]), future=future)
    }
    assert rows["Activity ratio"].change is None and rows["Activity ratio"].verdict == ""


def test_durations_show_in_the_largest_whole_unit():
    assert duration(Decimal(45)) == "45 min"
    assert duration(Decimal(90)) == "1.5 h"
    assert duration(Decimal(1200)) == "2.5 d"
    assert duration(Decimal(0)) == "0 min"
    assert duration(None) == "—"
    assert percent(Decimal("37.8541")) == "37.9%"
    assert percent(None) == "—"
    assert difference(Decimal(-1200), "duration") == "−2.5 d"
    assert difference(Decimal("12.25"), "percent") == "+12.2 pp"  # half to even
    assert difference(-1, "count") == "−1"


@pytest.mark.django_db
def test_stream_costs_are_the_apportioned_kept_cost_of_the_latest_period(client):
    from finance import services as finance_services
    from portfolio.choices import ServiceKind
    from tests.factories.finance import CostItemFactory
    from tests.factories.finance import PeriodFactory
    from tests.factories.portfolio import ServiceDependencyFactory
    from tests.factories.portfolio import ServiceFactory
    from tests.factories.valuestreams import StageServiceFactory

    owner = UserFactory(role="Value-stream owner")
    stream = ValueStreamFactory(owner=owner, name="Settle claims")
    portal = ServiceFactory(kind=ServiceKind.CUSTOMER_FACING)
    platform = ServiceFactory(kind=ServiceKind.SUPPORTING)
    lonely = ServiceFactory(kind=ServiceKind.CUSTOMER_FACING)
    ServiceDependencyFactory(provider=platform, consumer=portal)
    both, one = StageFactory(value_stream=stream), StageFactory(value_stream=stream)
    none = StageFactory(value_stream=stream)
    StageServiceFactory(stage=both, service=portal, weight=1)
    StageServiceFactory(stage=both, service=platform, weight=1)
    StageServiceFactory(stage=one, service=portal, weight=2)
    stages = selectors.stages_of(stream)

    assert selectors.stream_costs(stream, stages).period is None  # nothing computed yet

    older, latest = PeriodFactory(year=2025, month=2), PeriodFactory(year=2025, month=3)
    CostItemFactory(period=older, service=portal, amount=Decimal("999.00"))
    CostItemFactory(period=latest, service=portal, amount=Decimal("100.10"))
    CostItemFactory(period=latest, service=platform, amount=Decimal("50.00"))
    CostItemFactory(period=latest, service=lonely, amount=Decimal("7.00"))
    for period in (older, latest):
        finance_services.recompute_tco(period=period)
    costs = selectors.stream_costs(stream, stages)
    assert costs.period == latest and not costs.what_if
    # Portal keeps 150.10 (its own and the platform's): 1/3 to one stage, 2/3 to the other.
    # The platform keeps nothing: summing gross TCO would count its 50.00 twice.
    assert costs.per_stage == {
        both.pk: Decimal("50.03"),
        one.pk: Decimal("100.07"),
        none.pk: Decimal("0.00"),
    }
    assert costs.total == Decimal("150.10")

    client.force_login(owner)
    body = client.get(stream.get_absolute_url()).content.decode()
    assert "150.10 EUR" in body and "2025-03" in body
    listing = client.get("/value-streams/").content.decode()
    assert "150.10" in listing
    assert "in no value stream: 7.00 EUR" in listing
