"""The demo insurer's organisation: divisions, departments and teams, its people in them,
and what they own in their units; the maturity app's provider units are among them."""

import pytest
from django.contrib.auth import get_user_model

from core.demo import DEMO_USERS
from core.models import ObjectChange
from maturity.models import Party
from people.models import OrganisationUnit
from people.selectors import in_units
from portfolio.models import Service
from tests.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_has_an_insurers_units_and_its_people_belong_to_them(demo):
    assert "Demo organisation units: 14 created" in demo
    divisions = OrganisationUnit.objects.filter(kind="division", parent=None)
    assert set(divisions.values_list("name", flat=True)) == {
        "Group IT",
        "Customers and Distribution",
        "Finance",
        "Strategy and Transformation",
    }
    people = get_user_model().objects.filter(username__in=[u[0] for u in DEMO_USERS])
    assert all(person.profile.unit is not None for person in people)
    group_it = OrganisationUnit.objects.get(name="Group IT")
    owned_there = in_units(Service.objects.all(), [group_it.pk])
    assert owned_there.exists()
    assert not Service.objects.filter(owner__isnull=False, unit__isnull=True).exists()


def test_demo_provider_units_are_organisation_units(demo):
    units = Party.objects.filter(kind="provider", unit__isnull=False).select_related("unit")
    assert {(str(p), p.unit.external_id, p.unit.parent.name) for p in units} == {
        ("Digital and Customer Services", "unit:digital-customer-services", "Group IT"),
        ("Group IT Operations", "unit:group-it-operations", "Group IT"),
    }
    # The demo's organisation units are assessed, not copies of them.
    assert not OrganisationUnit.objects.filter(external_id="").exists()


def test_second_demo_load_changes_no_unit(demo):
    changes = ObjectChange.objects.count()
    output = load_demo()
    assert "Demo organisation units: 0 created" in output
    assert "records given their owner's unit: 0" in output
    assert ObjectChange.objects.count() == changes
