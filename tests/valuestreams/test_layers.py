"""The CEMM layer of a process is computed from its Moments of Truth and connections."""

import pytest

from tests.factories import UserFactory
from tests.factories.valuestreams import ProcessConnectionFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import services
from valuestreams.models import Process
from valuestreams.models import Stage


def layers(moments, journeys=None, connections=()):
    return services.compute_layers(
        moments=moments, journeys=journeys or {}, connections=connections
    )


def test_layer_1_holds_every_moment_of_truth_of_the_journey():
    assert layers({1: {10, 11}}, {1: {10, 11}}) == {1: 1}


def test_layer_2_holds_some_moments_of_truth_but_not_the_whole_journey():
    assert layers({1: {10}}, {1: {10, 11}}) == {1: 2}
    # Without a value stream there is no journey to hold: some Moments of Truth is layer 2.
    assert layers({1: {10}}) == {1: 2}


def test_layer_3_has_no_moment_of_truth_and_touches_a_layer_2_process():
    result = layers({1: {10}, 2: set()}, {1: {10, 11}}, [(2, 1)])
    assert result == {1: 2, 2: 3}


def test_a_process_serving_only_a_layer_1_process_is_layer_4():
    # Layer 3 is one step from a layer-2 process; the journey alone does not make it.
    assert layers({1: {10}, 2: set()}, {1: {10}}, [(1, 2)]) == {1: 1, 2: 4}


def test_layer_4_has_no_direct_connection_to_a_process_with_moments_of_truth():
    # 3 serves only the layer-3 process 2; 4 is connected to nothing.
    result = layers({1: {10}, 2: set(), 3: set(), 4: set()}, {1: {10, 11}}, [(1, 2), (2, 3)])
    assert result == {1: 2, 2: 3, 3: 4, 4: 4}


def test_connections_count_in_either_direction():
    assert layers({1: {10}, 2: set()}, {}, [(1, 2)])[2] == 3
    assert layers({1: {10}, 2: set()}, {}, [(2, 1)])[2] == 3


def test_a_stream_without_moments_of_truth_has_no_layer_1_process():
    assert layers({1: set()}, {1: set()}) == {1: 4}


@pytest.fixture
def claims(db):
    """A stream with two Moments of Truth (report, pay) and one back-office stage (assess)."""
    stream = ValueStreamFactory(owner=UserFactory())
    report = StageFactory(value_stream=stream, name="Report the claim", moment_of_truth=True)
    assess = StageFactory(value_stream=stream, name="Assess the damage")
    pay = StageFactory(value_stream=stream, name="Pay the claim", moment_of_truth=True)
    return stream, report, assess, pay


def layer_of(process) -> int:
    return Process.objects.get(pk=process.pk).layer


@pytest.mark.django_db
def test_saving_a_process_stores_its_computed_layer(claims):
    stream, report, assess, pay = claims
    journey = services.save_process(
        process=Process(name="Settle claims", value_stream=stream), stages=[report, pay, assess]
    )
    register = services.save_process(
        process=Process(name="Register a claim", value_stream=stream),
        stages=[report],
        connected_to=[journey],
    )
    assessing = services.save_process(
        process=Process(name="Assess damage", value_stream=stream),
        stages=[assess],
        connected_to=[register],
    )
    network = services.save_process(
        process=Process(name="Manage the repairer network"), connected_to=[assessing]
    )
    assert [layer_of(p) for p in (journey, register, assessing, network)] == [1, 2, 3, 4]


@pytest.mark.django_db
def test_layers_are_recomputed_when_a_connection_changes(claims):
    stream, report, assess, _pay = claims
    register = ProcessFactory(value_stream=stream, stages=[report])
    assessing = ProcessFactory(value_stream=stream, stages=[assess])
    services.recompute_process_layers()
    assert layer_of(assessing) == 4

    connection = services.connect_processes(process=assessing, other=register)
    assert layer_of(assessing) == 3

    services.disconnect_processes(connection=connection)
    assert layer_of(assessing) == 4


@pytest.mark.django_db
def test_layers_are_recomputed_when_a_moment_of_truth_changes(claims):
    stream, report, assess, pay = claims
    journey = ProcessFactory(value_stream=stream, stages=[report, pay])
    helper = ProcessFactory(value_stream=stream, stages=[assess])
    ProcessConnectionFactory(process=journey, connected_to=helper)
    services.recompute_process_layers()
    assert (layer_of(journey), layer_of(helper)) == (1, 4)

    # The assessment becomes a Moment of Truth (an adjuster visits the customer): the helper
    # now touches the customer, and the journey no longer holds every Moment of Truth.
    assess.moment_of_truth = True
    services.save_stage(stage=assess)
    assert (layer_of(journey), layer_of(helper)) == (2, 2)

    # A new Moment of Truth elsewhere in the stream takes layer 1 from no one else...
    services.add_stage(
        stage=Stage(value_stream=stream, name="Inform the customer", moment_of_truth=True)
    )
    assert layer_of(journey) == 2
    # ...and removing the stages that made them so brings the layers back.
    services.remove_stage(stage=Stage.objects.get(name="Inform the customer"))
    assess.refresh_from_db()
    assess.moment_of_truth = False
    services.save_stage(stage=assess)
    assert (layer_of(journey), layer_of(helper)) == (1, 4)


@pytest.mark.django_db
def test_removing_a_process_relayers_the_ones_it_served(claims):
    stream, report, _assess, _pay = claims
    register = ProcessFactory(value_stream=stream, stages=[report])
    helper = ProcessFactory(value_stream=stream)
    ProcessConnectionFactory(process=helper, connected_to=register)
    services.recompute_process_layers()
    assert layer_of(helper) == 3
    services.remove_process(process=register)
    assert layer_of(helper) == 4


@pytest.mark.django_db
def test_a_process_takes_stages_of_its_own_value_stream_only(claims):
    from django.core.exceptions import ValidationError

    stream, report, _assess, _pay = claims
    other = StageFactory(value_stream=ValueStreamFactory(owner=stream.owner))
    with pytest.raises(ValidationError) as caught:
        services.save_process(
            process=Process(name="Register a claim", value_stream=stream), stages=[report, other]
        )
    assert "stages" in caught.value.message_dict


@pytest.mark.django_db
def test_a_process_cannot_be_connected_to_itself_or_twice(claims):
    from django.core.exceptions import ValidationError

    a, b = ProcessFactory(), ProcessFactory()
    services.connect_processes(process=a, other=b)
    with pytest.raises(ValidationError):
        services.connect_processes(process=b, other=a)
    with pytest.raises(ValidationError):
        services.connect_processes(process=a, other=a)
    with pytest.raises(ValidationError):
        services.set_connections(process=a, connected_to=[a])


@pytest.mark.django_db
def test_set_connections_adds_and_removes_in_either_direction():
    a, b, c = ProcessFactory(), ProcessFactory(), ProcessFactory()
    ProcessConnectionFactory(process=b, connected_to=a)
    services.set_connections(process=a, connected_to=[c])
    pairs = {
        frozenset((x, y)) for x, y in a.connections_out.values_list("process_id", "connected_to_id")
    } | {
        frozenset((x, y)) for x, y in a.connections_in.values_list("process_id", "connected_to_id")
    }
    assert pairs == {frozenset((a.pk, c.pk))}
