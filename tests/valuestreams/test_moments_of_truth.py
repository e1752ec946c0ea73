"""Moments of Truth are contacts with an external customer: a stream serving an internal
customer has none, refused on every write path, and its processes are not layered by them."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portfolio import services as portfolio_services
from portfolio.choices import CustomerKind
from tests.factories.portfolio import CustomerFactory
from tests.factories.valuestreams import ProcessConnectionFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import services
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db


@pytest.fixture
def internal_stream(value_stream_owner):
    unit = CustomerFactory(kind=CustomerKind.INTERNAL, name="Claims Division")
    return ValueStreamFactory(
        owner=value_stream_owner, customer=unit, source="cmdb", external_id="VS-IN"
    )


def test_a_stage_of_an_internal_customers_stream_is_no_moment_of_truth(internal_stream):
    stage = StageFactory(value_stream=internal_stream, name="Brief the adjuster")
    stage.moment_of_truth = True
    with pytest.raises(ValidationError) as refused:
        services.save_stage(stage=stage)
    assert "external customer" in refused.value.message_dict["moment_of_truth"][0]
    assert not Stage.objects.get(pk=stage.pk).moment_of_truth


def test_the_stage_form_shows_the_refusal_beside_the_flag(client, internal_stream):
    client.force_login(internal_stream.owner)
    url = reverse("valuestreams:stage_add", args=[internal_stream.slug])
    form = {
        "name": "Brief the adjuster",
        "process_time": "30",
        "process_time_unit": "minutes",
        "lead_time": "60",
        "lead_time_unit": "minutes",
        "complete_accurate": "90",
        "value_class": "value_adding",
        "moment_of_truth": "on",
    }
    response = client.post(url, {f"new-{name}": value for name, value in form.items()})
    assert response.status_code == 422
    assert "contact with an external customer" in response.content.decode()
    assert not Stage.objects.exists()


def test_a_stream_with_moments_of_truth_does_not_move_to_an_internal_customer(
    value_stream_owner,
):
    external = CustomerFactory(kind=CustomerKind.EXTERNAL)
    stream = ValueStreamFactory(owner=value_stream_owner, customer=external)
    StageFactory(value_stream=stream, name="Report the claim", moment_of_truth=True)
    stream.customer = CustomerFactory(kind=CustomerKind.INTERNAL)
    with pytest.raises(ValidationError) as refused:
        services.save_value_stream(value_stream=stream)
    assert "Report the claim" in refused.value.message_dict["customer"][0]
    assert ValueStream.objects.get(pk=stream.pk).customer_id == external.pk


def test_a_customer_whose_streams_have_moments_of_truth_does_not_become_internal(
    value_stream_owner,
):
    customer = CustomerFactory(kind=CustomerKind.EXTERNAL)
    stream = ValueStreamFactory(owner=value_stream_owner, customer=customer, name="Settle")
    StageFactory(value_stream=stream, moment_of_truth=True)
    customer.kind = CustomerKind.INTERNAL
    with pytest.raises(ValidationError) as refused:
        portfolio_services.save_customer(customer=customer)
    assert "Settle" in refused.value.message_dict["kind"][0]


def test_flags_left_on_an_internal_customers_stream_place_no_process_on_layers_1_and_2(
    internal_stream,
):
    # A flag stored before the rule existed: written straight to the table.
    stage = StageFactory(value_stream=internal_stream, moment_of_truth=True)
    process = ProcessFactory(value_stream=internal_stream, stages=[stage])
    services.recompute_process_layers()
    assert Process.objects.get(pk=process.pk).layer == 4


def test_a_process_serving_only_a_layer_1_process_is_not_layer_3(value_stream_owner):
    stream = ValueStreamFactory(owner=value_stream_owner)
    report = StageFactory(value_stream=stream, moment_of_truth=True)
    pay = StageFactory(value_stream=stream, moment_of_truth=True)
    assess = StageFactory(value_stream=stream)
    journey = ProcessFactory(value_stream=stream, stages=[report, pay])
    helper = ProcessFactory(value_stream=stream, stages=[assess])
    ProcessConnectionFactory(process=journey, connected_to=helper)
    services.recompute_process_layers()
    assert Process.objects.get(pk=journey.pk).layer == 1
    assert Process.objects.get(pk=helper.pk).layer == 4
    # Connected to a layer-2 process as well, it is layer 3.
    register = ProcessFactory(value_stream=stream, stages=[report])
    services.connect_processes(process=helper, other=register)
    assert Process.objects.get(pk=helper.pk).layer == 3
