"""The value streams' part of the demo stands on its own, without the portfolio demo (the
whole demo's value streams are tested in tests/demo/, on one load)."""

import io

import pytest

from portfolio.models import Service
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream


@pytest.mark.django_db
def test_demo_value_streams_load_without_the_portfolio_demo():
    from core import demo as core_demo
    from valuestreams import demo

    core_demo.load(stdout=io.StringIO())
    assert not Service.objects.exists()
    demo.load(stdout=io.StringIO())
    claims = ValueStream.objects.get(slug="settle-a-motor-claim")
    assert claims.customer is None and claims.segment
    assert not Stage.services.through.objects.exists()
    assert set(Process.objects.values_list("layer", flat=True)) == {1, 2, 3, 4}
