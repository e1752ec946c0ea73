"""The demo organisation's value streams: all four layers, a misplaced owner, idempotent."""

import pytest

from core.models import ObjectChange
from tests.demo import load_demo
from valuestreams import selectors
from valuestreams.choices import Experience
from valuestreams.choices import ImprovementStatus
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db


def test_demo_value_streams_cover_every_experience_layer_and_status(demo):
    streams = ValueStream.objects.filter(source="demo")
    assert streams.filter(state="current").count() == 5
    future = streams.get(state="future")
    assert future.current_state.slug == "settle-a-motor-claim"
    assert set(streams.values_list("experience", flat=True)) == set(Experience.values)
    assert set(Process.objects.values_list("layer", flat=True)) == {1, 2, 3, 4}
    assert Improvement.objects.count() == 12
    assert set(Improvement.objects.values_list("status", flat=True)) == set(
        ImprovementStatus.values
    )
    assert Stage.objects.filter(moment_of_truth=True).count() >= 10
    assert Stage.objects.filter(services__isnull=False).distinct().count() == Stage.objects.count()


def test_demo_shows_a_misplaced_service_owner_and_process_findings(demo):
    owner_model = type(ValueStream.objects.first().owner)
    demo_user = owner_model.objects.get(username="demo")
    misplaced = {row.service.slug for row in selectors.misplaced_service_owners(user=demo_user)}
    assert "customer-contact-centre" in misplaced
    assert "online-claims" not in misplaced and "quote-and-buy" not in misplaced
    checks = selectors.process_model_checks(user=demo_user)
    assert {f.subject.name for f in checks["purpose"]} >= {"Manage the repairer network"}
    assert checks["duplicates"]


def test_loading_the_demo_twice_creates_and_changes_nothing(demo):
    counts = (
        ValueStream.objects.count(),
        Stage.objects.count(),
        Process.objects.count(),
        Improvement.objects.count(),
        ObjectChange.objects.count(),
    )
    links = Stage.services.through.objects.count()
    output = load_demo()
    assert "Demo value streams: 0 created" in output
    assert counts == (
        ValueStream.objects.count(),
        Stage.objects.count(),
        Process.objects.count(),
        Improvement.objects.count(),
        ObjectChange.objects.count(),
    )
    assert links == Stage.services.through.objects.count()
