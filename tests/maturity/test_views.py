"""The Maturity pages: htmx forms, the flags, and the dashboard's query count (who may read and
write, and the pages' query counts, are in test_view_matrix.py)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.template import Context
from django.template import Template
from django.urls import reverse
from django.utils import timezone

from core.models import ObjectChange
from maturity import services
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import Party
from maturity.questionnaire import answers_for_level
from maturity.services import ONLY_PROVIDER_UNITS
from maturity.services import UNIT_REQUIRED
from maturity.services import unit_retired
from maturity.services import unit_taken
from tests.factories import UserFactory
from tests.factories.maturity import AssessmentFactory
from tests.factories.maturity import BalanceSnapshotFactory
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory
from tests.factories.maturity import ProviderUnitFactory
from tests.factories.maturity import populate
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import CustomerFactory
from tests.views import fresh

pytestmark = pytest.mark.django_db

ASSESSED_ON = "2025-01-15"
# Writes as htmx posts: success answers 200 with HX-Redirect, so the matrix can tell it from a
# refusal (a redirect to the login page).
HTMX = {"HX-Request": "true"}


def questionnaire(kind: str, level: int, **extra) -> dict:
    return {"assessed_on": ASSESSED_ON, **answers_for_level(kind, level), **extra}


@pytest.fixture
def nobody(db):
    return UserFactory(username="no-role")


@pytest.fixture
def managed(service_owner):
    """A customer whose relationship manager is the service owner."""
    return CustomerFactory(name="Claims Division", relationship_manager=service_owner)


@pytest.fixture
def elsewhere(other_owner):
    """Another customer, managed by the other owner."""
    return CustomerFactory(name="Fleet Operators", relationship_manager=other_owner)


# --- Writing: what the view matrix leaves to these tests (see test_view_matrix.py) -------------


def test_a_unit_needs_its_organisation_unit(client, portfolio_manager):
    unit = ProviderUnitFactory(unit__name="Claims IT")
    client.force_login(portfolio_manager)
    url = reverse("maturity:unit_edit", args=[unit.pk])
    response = client.post(url, {"unit": ""}, headers=HTMX)
    assert response.status_code == 422
    assert "field-error" in response.content.decode()
    assert str(fresh(unit)) == "Claims IT"


def test_the_unit_picker_offers_the_organisation_units_not_yet_assessed(client, portfolio_manager):
    ProviderUnitFactory(unit__name="Claims IT")
    unit = ProviderUnitFactory(unit__name="Motor desk")
    OrganisationUnitFactory(name="Fraud IT")
    OrganisationUnitFactory(name="Old desk", retired_at=timezone.now())
    client.force_login(portfolio_manager)
    form = client.get(reverse("maturity:unit_edit", args=[unit.pk])).context["form"]
    offered = [str(choice) for choice in form.fields["unit"].queryset]
    assert offered == ["Fraud IT", "Motor desk"]
    taken = ProviderUnitFactory(unit__name="Fleet IT").unit
    response = client.post(
        reverse("maturity:unit_edit", args=[unit.pk]), {"unit": taken.pk}, headers=HTMX
    )
    assert response.status_code == 422
    assert str(fresh(unit)) == "Motor desk"


def test_every_write_of_a_unit_asks_the_party_rule():
    """What the page's picker leaves out is still refused by the rule the API and a sync ask
    (party_rule), with its message naming the field."""
    claims = ProviderUnitFactory(unit__name="Claims IT")
    unit = ProviderUnitFactory(unit__name="Motor desk")
    old = OrganisationUnitFactory(name="Old desk", retired_at=timezone.now())
    for chosen, message in (
        (claims.unit, unit_taken(claims.pk)),
        (old, unit_retired("Old desk")),
        (None, UNIT_REQUIRED),
    ):
        unit.unit = chosen
        with pytest.raises(ValidationError) as refused:
            services.save_provider_unit(unit=unit)
        assert refused.value.message_dict == {"unit": [message]}
    assert str(fresh(unit)) == "Motor desk"
    customer = CustomerPartyFactory()
    customer.unit = OrganisationUnitFactory()
    with pytest.raises(ValidationError) as refused:
        services.save_party(party=customer)
    assert refused.value.message_dict == {"unit": [ONLY_PROVIDER_UNITS]}


def test_placing_a_customer_with_a_unit_makes_its_party_through_the_party_rule(
    client, portfolio_manager
):
    unit = ProviderUnitFactory(unit__name="Claims IT")
    customer = CustomerFactory(name="Fleet", relationship_manager=portfolio_manager)
    client.force_login(portfolio_manager)
    url = reverse("maturity:serving_unit", args=[customer.slug])
    response = client.post(url, {"served_by": unit.pk}, headers=HTMX)
    assert response.status_code == 200
    party = Party.objects.get(customer=customer)
    assert (party.kind, party.served_by) == (PartyKind.CUSTOMER, unit)
    assert ObjectChange.objects.filter(object_id=str(party.pk), action="create").exists()


def test_provider_assessment_of_a_relationship_manager_customer_is_not_editable_by_them(
    client, managed, service_owner
):
    assessment = AssessmentFactory(party=OrganisationFactory(), level=3)
    client.force_login(service_owner)
    response = client.post(
        reverse("maturity:assessment_edit", args=[assessment.pk]), questionnaire("provider", 1)
    )
    assert response.status_code == 403


# --- htmx forms ----------------------------------------------------------------------------------


def test_assessment_form_is_a_partial_for_htmx(client, managed, service_owner):
    client.force_login(service_owner)
    url = reverse("maturity:assess_customer", args=[managed.slug])
    response = client.get(url, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="assessment-form"' in body
    assert "We want cheap goods" in body  # the customer questionnaire, not the provider's
    assert "Vary" in response and "HX-Request" in response["Vary"]


def test_bad_assessment_answers_422_with_errors_beside_the_fields(client, managed, service_owner):
    client.force_login(service_owner)
    data = questionnaire("customer", 2, override_level=4)
    del data["c3a"]
    response = client.post(
        reverse("maturity:assess_customer", args=[managed.slug]),
        data,
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in body
    assert body.count('class="field-error"') == 2
    assert "Answer No, Partly or Yes." in body
    assert "Give the reason for overriding" in body
    assert not Assessment.objects.exists()


def test_recorded_assessment_redirects_htmx_to_the_party_page(client, managed, service_owner):
    client.force_login(service_owner)
    response = client.post(
        reverse("maturity:assess_customer", args=[managed.slug]),
        questionnaire("customer", 3),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("maturity:customer", args=[managed.slug])


def test_edit_form_shows_the_recorded_answers(client, managed, service_owner):
    assessment = AssessmentFactory(party=CustomerPartyFactory(customer=managed), level=4)
    client.force_login(service_owner)
    response = client.get(reverse("maturity:assessment_edit", args=[assessment.pk]))
    body = response.content.decode()
    assert 'name="c4a" value="2" id="id_c4a_2" checked' in body.replace("required ", "")


# --- Flags ---------------------------------------------------------------------------------------


def make_mismatch(customer, *, provider_level=2, customer_level=4):
    AssessmentFactory(party=OrganisationFactory(), level=provider_level)
    AssessmentFactory(party=CustomerPartyFactory(customer=customer), level=customer_level)


def test_overview_highlights_mismatches(client, viewer, managed, elsewhere):
    make_mismatch(managed)
    AssessmentFactory(party=CustomerPartyFactory(customer=elsewhere), level=3)
    client.force_login(viewer)
    body = client.get(reverse("maturity:overview")).content.decode()
    assert body.count('class="mismatch"') == 1
    assert "Provider behind its customer" in body
    assert "Assess</a>" not in body  # a viewer assesses nobody


def test_dashboard_panel_flags_mismatches(client, viewer, managed):
    make_mismatch(managed, provider_level=4, customer_level=1)
    client.force_login(viewer)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Value maturity" in body
    assert "1 mismatch" in body
    assert "Claims Division" in body


def test_dashboard_panel_shows_the_danger_zone_of_the_latest_snapshot(client, viewer):
    BalanceSnapshotFactory(
        taken_on=datetime.date(2025, 1, 1),
        customer_focus=80,
        process_orientation=80,
        cost_optimisation=10,
    )
    client.force_login(viewer)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Danger zone" in body and "cannot show value" in body


def render_flag(customer, user) -> str:
    template = Template('{% include "maturity/inc/customer_flag.html" with customer=customer %}')
    return template.render(Context({"customer": customer, "user": user}))


def test_customer_flag_include_shows_the_mismatch(managed, viewer, nobody):
    assert "not assessed yet" in render_flag(managed, viewer)
    make_mismatch(managed)
    flag = render_flag(managed, viewer)
    assert "Mismatch" in flag and "behind its customer" in flag
    assert render_flag(managed, nobody).strip() == ""


# --- Query counts --------------------------------------------------------------------------------


def test_dashboard_does_not_grow_queries_with_maturity_rows(
    client, viewer, django_assert_max_num_queries
):
    """The Maturity pages' own counts are in test_view_matrix.py."""
    client.force_login(viewer)
    url = reverse("dashboard")
    populate(customers=1, rounds=1)
    few = count_queries(client, url, django_assert_max_num_queries, 40)
    populate(customers=8, rounds=6)
    many = count_queries(client, url, django_assert_max_num_queries, few)
    assert many == few


def count_queries(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)
