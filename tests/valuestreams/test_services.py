from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import ObjectChange
from core.permissions import can
from tests.factories import UserFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors
from valuestreams import services
from valuestreams.choices import Effort
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import StreamState
from valuestreams.models import Improvement
from valuestreams.models import Stage
from valuestreams.models import ValueStream


@pytest.fixture
def stream(db):
    return ValueStreamFactory(owner=UserFactory())


def names(stream):
    return list(stream.stages.order_by("position").values_list("name", flat=True))


@pytest.mark.django_db
def test_save_value_stream_makes_a_slug_that_avoids_reserved_words(value_stream_owner):
    first = services.save_value_stream(
        value_stream=ValueStream(name="Processes", owner=value_stream_owner)
    )
    assert first.slug == "processes-value-stream"
    second = services.save_value_stream(
        value_stream=ValueStream(name="Settle a claim", owner=value_stream_owner)
    )
    third = services.save_value_stream(
        value_stream=ValueStream(name="Settle a claim", owner=value_stream_owner)
    )
    assert (second.slug, third.slug) == ("settle-a-claim", "settle-a-claim-2")


@pytest.mark.django_db
def test_a_value_stream_owner_creating_a_stream_owns_it(value_stream_owner):
    stream = ValueStream(name="Renew a policy")
    services.save_value_stream(value_stream=stream, user=value_stream_owner)
    assert stream.owner == value_stream_owner


@pytest.mark.django_db
def test_stages_are_added_at_the_end_moved_and_renumbered(stream):
    for name in ("Report the claim", "Assess the damage", "Pay the claim"):
        services.add_stage(stage=Stage(value_stream=stream, name=name))
    assert names(stream) == ["Report the claim", "Assess the damage", "Pay the claim"]

    pay = Stage.objects.get(name="Pay the claim")
    services.move_stage(stage=pay, offset=-1)
    assert names(stream) == ["Report the claim", "Pay the claim", "Assess the damage"]
    services.move_stage(stage=pay, offset=-5)  # the ends stay put
    assert names(stream) == ["Pay the claim", "Report the claim", "Assess the damage"]

    services.remove_stage(stage=Stage.objects.get(name="Report the claim"))
    assert list(stream.stages.order_by("position").values_list("position", flat=True)) == [0, 1]


@pytest.mark.django_db
def test_a_stage_cannot_take_longer_to_do_than_to_get_through(stream):
    stage = Stage(
        value_stream=stream,
        name="Assess the damage",
        process_time_minutes=Decimal(120),
        lead_time_minutes=Decimal(60),
    )
    with pytest.raises(ValidationError) as caught:
        services.add_stage(stage=stage)
    assert caught.value.message_dict == {
        "process_time": ["Process time cannot be longer than lead time."]
    }
    assert not Stage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["120", "-1"])
def test_a_complete_and_accurate_share_outside_0_to_100_is_refused(stream, value):
    stage = Stage(value_stream=stream, name="Assess the damage", complete_accurate=Decimal(value))
    with pytest.raises(ValidationError) as caught:
        services.add_stage(stage=stage)
    assert list(caught.value.message_dict) == ["complete_accurate"]


@pytest.mark.django_db
def test_stage_writes_are_change_logged(stream):
    stage = services.add_stage(stage=Stage(value_stream=stream, name="Assess the damage"))
    stage.complete_accurate = Decimal(80)
    services.save_stage(stage=stage)
    actions = list(
        ObjectChange.objects.filter(object_repr="Assess the damage")
        .order_by("time", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]


@pytest.mark.django_db
def test_a_future_state_copies_the_current_stages_and_their_services(stream):
    service = ServiceFactory()
    StageFactory(
        value_stream=stream, name="Report the claim", moment_of_truth=True, services=[service]
    )
    StageFactory(value_stream=stream, name="Pay the claim")
    future = services.create_future_state(current=stream)
    assert future.state == StreamState.FUTURE and future.current_state == stream
    assert future.owner == stream.owner and future.name.endswith("(future state)")
    assert names(future) == names(stream)
    copied = future.stages.get(name="Report the claim")
    assert copied.moment_of_truth and list(copied.services.all()) == [service]
    with pytest.raises(ValidationError):
        services.create_future_state(current=future)


@pytest.mark.django_db
def test_stage_links_refuse_a_retired_target_but_a_future_state_copies_what_is_linked(stream):
    stage = StageFactory(value_stream=stream, name="Report the claim")
    retired_service = ServiceFactory(name="Old intake", lifecycle="retired")
    retired_application = ApplicationFactory(name="Old desk", retired_at=timezone.now())
    with pytest.raises(ValidationError) as caught:
        services.set_stage_links(stage=stage, services=[retired_service])
    assert caught.value.messages == [
        "Old intake: This service is retired: it underpins no new stage."
    ]
    with pytest.raises(ValidationError) as caught:
        services.set_stage_links(stage=stage, applications=[retired_application])
    assert caught.value.messages == [
        "Old desk: This application is retired: it supports no new stage."
    ]
    assert not stage.services.exists() and not stage.applications.exists()
    # Linked before it was retired: the link stays, and the future state starts from it.
    stage.services.add(retired_service)
    stage.applications.add(retired_application)
    services.set_stage_links(stage=stage, services=[retired_service])
    future = services.create_future_state(current=stream)
    copied = future.stages.get(name="Report the claim")
    assert list(copied.services.all()) == [retired_service]
    assert list(copied.applications.all()) == [retired_application]


@pytest.mark.django_db
def test_a_future_state_must_name_its_current_state(stream):
    plan = ValueStream(
        name="A plan", owner=stream.owner, state=StreamState.FUTURE, current_state=None
    )
    with pytest.raises(ValidationError):
        services.save_value_stream(value_stream=plan)


@pytest.mark.django_db
def test_removing_a_stream_deletes_it_unless_something_refers_to_it(stream):
    StageFactory(value_stream=stream)
    assert services.remove_value_stream(value_stream=stream) == "deleted"
    kept = ValueStreamFactory(owner=UserFactory())
    ProcessFactory(value_stream=kept)
    assert services.remove_value_stream(value_stream=kept) == "retired"
    kept.refresh_from_db()
    assert kept.is_retired


@pytest.mark.django_db
def test_removing_a_stage_keeps_its_improvements_in_the_log(stream):
    stage = StageFactory(value_stream=stream)
    improvement = ImprovementFactory(value_stream=stream, stage=stage)
    services.remove_stage(stage=stage)
    improvement.refresh_from_db()
    assert improvement.stage is None


def test_priority_is_the_benefit_bought_per_unit_of_effort():
    improvement = Improvement(benefit_from=Decimal(5), benefit_to=Decimal(2), effort=Effort.SMALL)
    assert selectors.priority_score(improvement) == Decimal("60.0")
    improvement.effort = Effort.LARGE
    assert selectors.priority_score(improvement) == Decimal("20.0")
    improvement.effort = Effort.VERY_LARGE
    assert selectors.priority_score(improvement) == Decimal("12.0")
    # An increase counts relative to the larger value: %C&A from 70 to 95.
    assert selectors.expected_benefit_percent(
        benefit_from=Decimal(70), benefit_to=Decimal(95)
    ).quantize(Decimal("0.1")) == Decimal("26.3")
    assert selectors.expected_benefit_percent(benefit_from=Decimal(0), benefit_to=Decimal(0)) == 0


@pytest.mark.django_db
def test_a_done_improvement_needs_its_measure_before_and_after(stream):
    improvement = ImprovementFactory(value_stream=stream)
    with pytest.raises(ValidationError) as caught:
        services.set_improvement_status(improvement=improvement, status=ImprovementStatus.DONE)
    assert set(caught.value.message_dict) == {"measured_before", "measured_after"}
    services.set_improvement_status(
        improvement=Improvement.objects.get(pk=improvement.pk),
        status=ImprovementStatus.DONE,
        measured_before=Decimal("4.5"),
        measured_after=Decimal("2.5"),
    )
    improvement.refresh_from_db()
    assert improvement.status == ImprovementStatus.DONE
    assert (improvement.measured_before, improvement.measured_after) == (
        Decimal("4.5"),
        Decimal("2.5"),
    )
    # Moved back, it drops the measured result.
    services.set_improvement_status(improvement=improvement, status=ImprovementStatus.ACCEPTED)
    improvement.refresh_from_db()
    assert improvement.measured_before is None


@pytest.mark.django_db
def test_an_improvement_names_a_stage_of_its_own_stream(stream):
    other_stage = StageFactory(value_stream=ValueStreamFactory(owner=stream.owner))
    improvement = ImprovementFactory.build(value_stream=stream, stage=other_stage)
    with pytest.raises(ValidationError) as caught:
        services.save_improvement(improvement=improvement)
    assert "stage" in caught.value.message_dict


@pytest.mark.django_db
def test_improvement_rights(stream, portfolio_manager, viewer, value_stream_owner):
    mine = ImprovementFactory(value_stream=stream, suggested_by=viewer)
    assert can(viewer, "change", mine)
    assert can(viewer, "delete", mine)
    assert not can(viewer, "change", services.decided(mine))
    assert can(stream.owner, "change", services.decided(mine))
    assert can(portfolio_manager, "change", services.decided(mine))
    assert not can(value_stream_owner, "change", mine)  # someone else's stream
    mine.status = ImprovementStatus.ACCEPTED
    mine.save()
    assert not can(viewer, "change", mine)
    assert can(viewer, "add", Improvement(value_stream=stream, suggested_by=viewer))
    nobody = UserFactory()
    assert not can(nobody, "add", Improvement(value_stream=stream, suggested_by=nobody))
    # A suggestion is made in one's own name.
    assert not can(viewer, "add", Improvement(value_stream=stream, suggested_by=nobody))


@pytest.mark.django_db
def test_board_rights_agree_with_the_permissions(stream, viewer, portfolio_manager):
    ImprovementFactory(value_stream=stream, suggested_by=viewer)
    ImprovementFactory(value_stream=stream, suggested_by=viewer, status="accepted")
    ImprovementFactory(value_stream=ValueStreamFactory(owner=UserFactory()))
    for user in (viewer, portfolio_manager, stream.owner):
        for column in selectors.improvement_board(user=user):
            for item in column.items:
                assert item.can_edit == can(user, "change", item)
                assert item.can_decide == can(user, "change", services.decided(item))


@pytest.mark.django_db
def test_board_sorts_each_column_by_priority(stream, viewer):
    low = ImprovementFactory(value_stream=stream, effort=Effort.VERY_LARGE)
    high = ImprovementFactory(value_stream=stream, effort=Effort.SMALL)
    done = ImprovementFactory(
        value_stream=stream, status="done", measured_before=5, measured_after=3
    )
    columns = {c.status: c for c in selectors.improvement_board(user=viewer)}
    assert columns["proposed"].items == [high, low]
    assert columns["done"].items == [done]
    assert [c.status for c in columns.values()] == [
        "proposed",
        "accepted",
        "in_progress",
        "done",
        "rejected",
    ]
