"""Moments of Truth through the API: a stream serving an internal customer has none, refused
in single writes and syncs alike (the rule is tests/valuestreams/test_moments_of_truth.py)."""

import pytest

from portfolio.choices import CustomerKind
from tests.api.helpers import sync
from tests.factories.portfolio import CustomerFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams.models import Stage
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db


@pytest.fixture
def internal_stream(value_stream_owner):
    unit = CustomerFactory(kind=CustomerKind.INTERNAL, name="Claims Division")
    return ValueStreamFactory(
        owner=value_stream_owner, customer=unit, source="cmdb", external_id="VS-IN"
    )


def test_the_api_refuses_a_moment_of_truth_for_an_internal_customer(
    internal_stream, api_for, value_stream_owner
):
    api = api_for(value_stream_owner)
    stage = StageFactory(value_stream=internal_stream, source="cmdb", external_id="st-1")
    single = api.patch(f"/api/v1/stages/{stage.pk}/", {"moment_of_truth": True})
    assert single.status_code == 400
    assert list(single.json()["errors"]) == ["moment_of_truth"]
    item = {
        "external_id": "st-2",
        "value_stream": {"external_id": "VS-IN"},
        "name": "Brief the adjuster",
        "moment_of_truth": True,
    }
    bulk = sync(api, "stages", [item])
    assert bulk.status_code == 400
    assert list(bulk.json()["errors"]) == ["items.0.moment_of_truth"]
    assert not Stage.objects.filter(moment_of_truth=True).exists()


def test_a_stream_with_moments_of_truth_does_not_move_to_an_internal_customer(
    value_stream_owner, api_for
):
    external = CustomerFactory(kind=CustomerKind.EXTERNAL)
    unit = CustomerFactory(kind=CustomerKind.INTERNAL, source="crm", external_id="UNIT")
    stream = ValueStreamFactory(owner=value_stream_owner, customer=external)
    StageFactory(value_stream=stream, name="Report the claim", moment_of_truth=True)
    stream.customer = unit
    single = api_for(value_stream_owner).patch(
        f"/api/v1/value-streams/{stream.pk}/",
        {"customer": {"source": "crm", "external_id": "UNIT"}},
    )
    assert single.status_code == 400 and list(single.json()["errors"]) == ["customer"]
    assert ValueStream.objects.get(pk=stream.pk).customer_id == external.pk
