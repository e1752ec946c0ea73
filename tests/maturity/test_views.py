"""The Maturity pages: who may read and write, htmx forms, the flags, and query counts."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse

from maturity.models import Assessment, BalanceSelfAssessment, Party
from maturity.questionnaire import answers_for_level
from tests.factories import UserFactory
from tests.factories.maturity import (
    AssessmentFactory,
    BalanceSnapshotFactory,
    CustomerPartyFactory,
    OrganisationFactory,
    ProviderUnitFactory,
    SelfAssessmentFactory,
)
from tests.factories.portfolio import CustomerFactory, OutcomeFactory, ServiceFactory
from tests.permissions import assert_permission_matrix

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


# --- Reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["maturity:overview", "maturity:balance", "maturity:provider"])
def test_every_signed_in_role_reads(client, url_name, nobody, viewer, finance_user, service_owner):
    assert_permission_matrix(
        client,
        method="get",
        url=reverse(url_name),
        expected={None: 302, nobody: 403, viewer: 200, finance_user: 200, service_owner: 200},
    )


def test_party_pages_are_read_by_every_role(client, managed, nobody, viewer):
    unit = ProviderUnitFactory()
    for url in (reverse("maturity:customer", args=[managed.slug]), unit.get_absolute_url()):
        assert_permission_matrix(
            client, method="get", url=url, expected={None: 302, nobody: 403, viewer: 200}
        )


# --- Writing -------------------------------------------------------------------------------------


def test_customer_assessment_by_manager_or_relationship_manager(
    client, managed, elsewhere, portfolio_manager, service_owner, other_owner, viewer
):
    url = reverse("maturity:assess_customer", args=[managed.slug])
    assert_permission_matrix(
        client,
        method="get",
        url=url,
        expected={
            None: 302,
            viewer: 403,
            other_owner: 403,
            service_owner: 200,
            portfolio_manager: 200,
        },
    )
    assert_permission_matrix(
        client,
        method="post",
        url=url,
        data=questionnaire("customer", 4),
        expected={
            None: 302,
            viewer: 403,
            other_owner: 403,
            service_owner: 200,
            portfolio_manager: 200,
        },
        unchanged=lambda: Assessment.objects.count(),
        headers=HTMX,
    )
    party = Party.objects.get(customer=managed)
    assert [a.assessor.username for a in party.assessments.order_by("id")] == ["owner", "pm"]


def test_assessment_edit_and_remove_by_manager_or_relationship_manager(
    client, managed, elsewhere, portfolio_manager, service_owner, other_owner, viewer
):
    assessment = AssessmentFactory(party=CustomerPartyFactory(customer=managed), level=2)
    edit = reverse("maturity:assessment_edit", args=[assessment.pk])
    assert_permission_matrix(
        client,
        method="post",
        url=edit,
        data=questionnaire("customer", 4),
        expected={None: 302, viewer: 403, other_owner: 403, service_owner: 200},
        unchanged=lambda: Assessment.objects.values_list("level", flat=True).get(),
        headers=HTMX,
    )
    assessment.refresh_from_db()
    assert assessment.level == 4
    remove = reverse("maturity:assessment_remove", args=[assessment.pk])
    assert_permission_matrix(
        client,
        method="post",
        url=remove,
        expected={None: 302, viewer: 403, other_owner: 403, portfolio_manager: 200},
        unchanged=lambda: Assessment.objects.count(),
        headers=HTMX,
    )
    assert not Assessment.objects.exists()


def test_provider_assessment_only_by_portfolio_managers(
    client, managed, portfolio_manager, service_owner, viewer
):
    assert_permission_matrix(
        client,
        method="post",
        url=reverse("maturity:assess_provider"),
        data=questionnaire("provider", 3),
        expected={None: 302, viewer: 403, service_owner: 403, portfolio_manager: 200},
        unchanged=lambda: Assessment.objects.count(),
        headers=HTMX,
    )
    organisation = Party.objects.get(kind="provider", unit_name="")
    assert organisation.assessments.get().level == 3


def test_provider_assessment_of_a_relationship_manager_customer_is_not_editable_by_them(
    client, managed, service_owner
):
    assessment = AssessmentFactory(party=OrganisationFactory(), level=3)
    client.force_login(service_owner)
    response = client.post(
        reverse("maturity:assessment_edit", args=[assessment.pk]), questionnaire("provider", 1)
    )
    assert response.status_code == 403


def test_units_only_by_portfolio_managers(client, portfolio_manager, service_owner, viewer):
    assert_permission_matrix(
        client,
        method="post",
        url=reverse("maturity:unit_add"),
        data={"unit_name": "Claims IT"},
        expected={None: 302, viewer: 403, service_owner: 403, portfolio_manager: 200},
        unchanged=lambda: Party.objects.count(),
        headers=HTMX,
    )
    unit = Party.objects.get(unit_name="Claims IT")
    assert_permission_matrix(
        client,
        method="post",
        url=reverse("maturity:unit_delete", args=[unit.pk]),
        expected={None: 302, viewer: 403, service_owner: 403, portfolio_manager: 200},
        unchanged=lambda: Party.objects.count(),
        headers=HTMX,
    )
    assert not Party.objects.exists()


def test_unit_rename_by_portfolio_manager(client, portfolio_manager, service_owner):
    unit = ProviderUnitFactory(unit_name="Claims IT")
    url = reverse("maturity:unit_edit", args=[unit.pk])
    assert_permission_matrix(
        client,
        method="post",
        url=url,
        data={"unit_name": "Claims and Underwriting IT"},
        expected={None: 302, service_owner: 403, portfolio_manager: 200},
        unchanged=lambda: Party.objects.values_list("unit_name", flat=True).get(),
        headers=HTMX,
    )
    unit.refresh_from_db()
    assert unit.unit_name == "Claims and Underwriting IT"
    client.force_login(portfolio_manager)
    response = client.post(url, {"unit_name": "  "}, headers=HTMX)
    assert response.status_code == 422
    assert "field-error" in response.content.decode()


def test_serving_unit_set_by_manager_or_relationship_manager(
    client, managed, elsewhere, portfolio_manager, service_owner, other_owner, viewer
):
    unit = ProviderUnitFactory()
    url = reverse("maturity:serving_unit", args=[managed.slug])
    assert_permission_matrix(
        client,
        method="post",
        url=url,
        data={"served_by": unit.pk},
        expected={None: 302, viewer: 403, other_owner: 403, service_owner: 200},
        unchanged=lambda: list(Party.objects.filter(customer=managed).values("served_by")),
        headers=HTMX,
    )
    assert Party.objects.get(customer=managed).served_by == unit


def test_self_assessment_only_by_portfolio_managers(client, portfolio_manager, viewer):
    data = {
        "assessed_on": ASSESSED_ON,
        "customer_focus": 80,
        "process_orientation": 60,
        "cost_optimisation": 70,
    }
    assert_permission_matrix(
        client,
        method="post",
        url=reverse("maturity:self_assessment_add"),
        data=data,
        expected={None: 302, viewer: 403, portfolio_manager: 200},
        unchanged=lambda: BalanceSelfAssessment.objects.count(),
        headers=HTMX,
    )
    assert BalanceSelfAssessment.objects.get().assessor == portfolio_manager


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


def populate(customers: int, rounds: int):
    owner = UserFactory(username="populated-owner")
    organisation = OrganisationFactory()
    unit = ProviderUnitFactory()
    for n in range(rounds):
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * n)
        AssessmentFactory(party=organisation, level=1 + n % 5, assessed_on=day)
        AssessmentFactory(party=unit, level=1 + n % 3, assessed_on=day)
    for c in range(customers):
        party = CustomerPartyFactory(served_by=unit if c % 2 else None)
        for n in range(rounds):
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * n)
            AssessmentFactory(party=party, level=1 + (c + n) % 5, assessed_on=day)
        OutcomeFactory(
            subscription__customer=party.customer,
            subscription__service=ServiceFactory(lifecycle="live", owner=owner),
        )
    BalanceSnapshotFactory()
    SelfAssessmentFactory()
    ServiceFactory(lifecycle="live", owner=owner)


def count_queries(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        reverse("maturity:overview"),
        reverse("maturity:balance"),
        reverse("maturity:provider"),
        reverse("dashboard"),
    ],
)
def test_pages_do_not_grow_queries_with_rows(client, viewer, url, django_assert_max_num_queries):
    client.force_login(viewer)
    populate(customers=1, rounds=1)
    few = count_queries(client, url, django_assert_max_num_queries, 40)
    populate(customers=8, rounds=6)
    many = count_queries(client, url, django_assert_max_num_queries, few)
    assert many == few


def test_customer_page_does_not_grow_queries_with_history(
    client, managed, service_owner, django_assert_max_num_queries
):
    client.force_login(service_owner)
    party = CustomerPartyFactory(customer=managed, served_by=ProviderUnitFactory())
    AssessmentFactory(party=party, level=2)
    url = reverse("maturity:customer", args=[managed.slug])
    few = count_queries(client, url, django_assert_max_num_queries, 40)
    for n in range(10):
        AssessmentFactory(party=party, level=1 + n % 5, assessed_on=datetime.date(2023, 1, 1 + n))
    many = count_queries(client, url, django_assert_max_num_queries, few)
    assert many == few
