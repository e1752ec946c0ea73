"""The demo organisation's maturity: a year of assessments, two mismatches (one each way)."""

import pytest

from core.models import ObjectChange
from maturity import selectors
from maturity.choices import MismatchDirection
from maturity.models import Assessment
from maturity.models import BalanceSnapshot
from maturity.models import Party
from tests.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_has_a_year_of_assessments_and_two_mismatches(demo):
    assert "Demo maturity:" in demo
    customers = Party.objects.filter(kind="customer")
    assert customers.count() == 8
    for party in Party.objects.all():
        dates = sorted(party.assessments.values_list("assessed_on", flat=True))
        assert len(dates) == 5, party
        assert (dates[-1] - dates[0]).days >= 330, party
    found = {r.customer.slug: r.mismatch.direction for r in selectors.mismatches()}
    assert found == {
        "claims-division": MismatchDirection.PROVIDER_BEHIND,
        "fleet-operators": MismatchDirection.PROVIDER_AHEAD,
    }
    assert Assessment.objects.filter(override_level__isnull=False).count() == 1
    assert BalanceSnapshot.objects.count() == 1
    assert selectors.latest_self_assessment() is not None


def test_demo_assessors_are_the_relationship_managers(demo):
    for party in Party.objects.filter(kind="customer").select_related("customer"):
        assessors = set(party.assessments.values_list("assessor", flat=True))
        assert assessors == {party.customer.relationship_manager_id}


def test_second_demo_load_creates_and_changes_nothing(demo):
    changes = ObjectChange.objects.count()
    counts = (Party.objects.count(), Assessment.objects.count(), BalanceSnapshot.objects.count())

    output = load_demo()

    assert "Demo maturity: nothing created" in output
    assert ObjectChange.objects.count() == changes
    assert (
        Party.objects.count(),
        Assessment.objects.count(),
        BalanceSnapshot.objects.count(),
    ) == counts
