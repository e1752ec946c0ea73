"""A stage's measured_on: set on the day its measures change, unless the writer dates them."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories.valuestreams import StageFactory
from valuestreams import services
from valuestreams.models import Stage

pytestmark = pytest.mark.django_db


def test_changed_measures_are_dated_today_unless_given(value_stream_owner):
    stage = StageFactory(value_stream__owner=value_stream_owner, measured_on=None)
    stage.name = "Register the claim"
    services.save_stage(stage=stage)
    assert Stage.objects.get(pk=stage.pk).measured_on is None  # no measure changed

    stage.lead_time_minutes = Decimal(240)
    services.save_stage(stage=stage)
    assert Stage.objects.get(pk=stage.pk).measured_on == timezone.localdate()

    stage.complete_accurate = Decimal(80)
    stage.measured_on = datetime.date(2025, 1, 15)
    services.save_stage(stage=stage)
    assert Stage.objects.get(pk=stage.pk).measured_on == datetime.date(2025, 1, 15)
