"""Retired or pipeline services beneath a current-state stage are flagged on the stream page
and on the map: a current state maps what runs today. A future state may plan with them."""

import pytest
from django.urls import reverse

from portfolio.choices import ServiceLifecycle
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def streams(value_stream_owner):
    running = ServiceFactory(name="Claims portal", live=True)
    retired = ServiceFactory(name="Old fax line", lifecycle=ServiceLifecycle.RETIRED)
    planned = ServiceFactory(name="Photo upload", lifecycle=ServiceLifecycle.PIPELINE)
    current = ValueStreamFactory(owner=value_stream_owner, name="Settle a claim")
    StageFactory(
        value_stream=current, name="Report the claim", services=[running, retired, planned]
    )
    future = ValueStreamFactory(
        owner=value_stream_owner, name="Settle a claim faster", future=True, current_state=current
    )
    StageFactory(value_stream=future, name="Report the claim", services=[planned])
    return current, future


def test_stages_of_flags_retired_and_pipeline_services_of_a_current_state(streams):
    current, future = streams
    (stage,) = selectors.stages_of(current)
    assert [(ref.name, ref.flag) for ref in stage.service_refs] == [
        ("Claims portal", ""),
        ("Old fax line", "retired"),
        ("Photo upload", "pipeline"),
    ]
    (planned,) = selectors.stages_of(future)
    assert [ref.flag for ref in planned.service_refs] == [""]


def test_the_stream_page_and_the_map_show_the_flags(client, streams, viewer):
    current, future = streams
    client.force_login(viewer)
    page = client.get(current.get_absolute_url()).content.decode()
    assert 'service-flag" title="A current state maps the services that run today">retired' in page
    assert "pipeline</span>" in page
    svg = client.get(
        reverse("valuestreams:valuestream_map_svg", args=[current.slug])
    ).content.decode()
    assert '<g class="vsm-flag" data-flag="retired">' in svg
    assert '<g class="vsm-flag" data-flag="pipeline">' in svg
    assert "⚠ Old fax line" in svg and "▪ Claims portal" in svg
    future_svg = client.get(
        reverse("valuestreams:valuestream_map_svg", args=[future.slug])
    ).content.decode()
    assert "vsm-flag" not in future_svg
