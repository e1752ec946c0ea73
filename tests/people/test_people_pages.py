"""The people page's workflows in the browser's terms: invite (an e-mail with a link to set
a password), change role, deactivate with hand-over; unit filters that include sub-units;
owner pickers that offer people by name and only those whose role may own the record."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles
from core.models import ObjectChange
from portfolio.forms import ServiceForm
from portfolio.models import Service
from tests.factories import UserFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ValueStreamFactory

User = get_user_model()
pytestmark = pytest.mark.django_db


def test_invitation_emails_a_link_that_sets_the_password(
    client, portfolio_manager, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(portfolio_manager)
    unit = OrganisationUnitFactory(name="Claims IT")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("people:person_add"),
            {
                "first_name": "Nadia",
                "last_name": "Novak",
                "username": "nadia",
                "email": "nadia@example.org",
                "role": roles.SERVICE_OWNER,
                "unit": unit.pk,
            },
        )
    assert response.status_code == 302
    nadia = User.objects.get(username="nadia")
    assert nadia.profile.unit == unit and not nadia.has_usable_password()
    (message,) = mailoutbox
    assert message.to == ["nadia@example.org"]
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = client.post(
        set_url, {"new_password1": "a-Long-pass-2026", "new_password2": "a-Long-pass-2026"}
    )
    assert done.status_code == 302
    nadia.refresh_from_db()
    assert nadia.check_password("a-Long-pass-2026")
    # Used once, the link no longer works.
    again = client.get(link, follow=True)
    assert "This link is not valid" in again.content.decode()


def test_a_bad_invitation_link_says_it_is_not_valid(client):
    page = client.get("/password-reset/MQ/not-a-token/", follow=True)
    assert page.status_code == 200 and "This link is not valid" in page.content.decode()


def test_change_role_and_unit_is_change_logged(client, portfolio_manager):
    person = UserFactory(username="sam", first_name="Sam", last_name="S", role=roles.VIEWER)
    unit = OrganisationUnitFactory(name="Finance office")
    client.force_login(portfolio_manager)
    response = client.post(
        reverse("people:person_edit", args=[person.pk]),
        {
            "first_name": "Sam",
            "last_name": "S",
            "username": "sam",
            "email": "sam@example.org",
            "role": roles.FINANCE,
            "unit": unit.pk,
        },
    )
    assert response.status_code == 302
    change = ObjectChange.objects.filter(object_id=str(person.pk), action="update").get()
    assert (change.before["roles"], change.after["roles"]) == ([roles.VIEWER], [roles.FINANCE])
    assert change.after["unit_id"] == unit.pk and change.channel == "web"
    assert "password" not in change.after


def test_changing_a_persons_email_keeps_every_role_they_hold(client, portfolio_manager):
    person = UserFactory(username="dual", first_name="Dee", last_name="Al", role=roles.FINANCE)
    person.groups.add(Group.objects.get(name=roles.SERVICE_OWNER))
    client.force_login(portfolio_manager)
    url = reverse("people:person_edit", args=[person.pk])
    form = client.get(url).context["form"]
    assert sorted(form.initial["role"]) == sorted([roles.FINANCE, roles.SERVICE_OWNER])

    response = client.post(
        url,
        {
            "first_name": "Dee",
            "last_name": "Al",
            "username": "dual",
            "email": "dee@example.org",
            "role": [roles.FINANCE, roles.SERVICE_OWNER],
        },
    )

    assert response.status_code == 302
    assert set(person.groups.values_list("name", flat=True)) == {
        roles.FINANCE,
        roles.SERVICE_OWNER,
    }


def test_deactivate_refuses_without_successor_then_hands_over(client, portfolio_manager):
    leaver = UserFactory(username="leaver", role=roles.SERVICE_OWNER)
    heir = UserFactory(
        username="heir", first_name="Hana", last_name="Heir", role=roles.SERVICE_OWNER
    )
    service = ServiceFactory(owner=leaver, lifecycle="live", name="Claims intake")
    application = ApplicationFactory(owner=leaver, name="Claims app")
    client.force_login(portfolio_manager)
    url = reverse("people:person_deactivate", args=[leaver.pk])
    page = client.get(url).content.decode()
    assert "Claims intake" in page and "Hana Heir" in page
    refused = client.post(url, {"successor": ""})
    assert refused.status_code == 422
    assert "still owns 2 records" in refused.content.decode()
    leaver.refresh_from_db()
    assert leaver.is_active
    done = client.post(url, {"successor": "heir"})
    assert done.status_code == 302
    leaver.refresh_from_db()
    service.refresh_from_db()
    application.refresh_from_db()
    assert not leaver.is_active and service.owner == heir and application.owner == heir
    moves = ObjectChange.objects.filter(channel="web", action="update", before__owner_id=leaver.pk)
    assert {c.object_repr for c in moves} == {"Claims intake", "Claims app"}


def test_people_page_shows_what_each_owns_by_name(client, portfolio_manager):
    owner = UserFactory(
        username="o1", first_name="Olga", last_name="Owner", role=roles.SERVICE_OWNER
    )
    ServiceFactory.create_batch(2, owner=owner, lifecycle="live")
    ServiceFactory(owner=owner, lifecycle="retired")
    ValueStreamFactory(owner=UserFactory(username="v1", role=roles.VALUE_STREAM_OWNER))
    client.force_login(portfolio_manager)
    page = client.get(reverse("people:person_list")).content.decode()
    assert "Olga Owner" in page and "2 services" in page
    exported = client.get(reverse("people:person_list"), {"export": "csv"}).content.decode()
    assert "Olga Owner" in exported and "1 value stream" in exported
    assert "password" not in exported.lower()


def test_unit_filter_includes_sub_units(client, viewer):
    division = OrganisationUnitFactory(name="Insurance", kind="division")
    department = OrganisationUnitFactory(name="Claims", kind="department", parent=division)
    team = OrganisationUnitFactory(name="Claims IT", parent=department)
    other = OrganisationUnitFactory(name="Finance", kind="division")
    ServiceFactory(name="In the division", unit=division)
    ServiceFactory(name="In the team", unit=team)
    ServiceFactory(name="Elsewhere", unit=other)
    ServiceFactory(name="Nowhere")
    client.force_login(viewer)
    for unit, expected in (
        (division, {"In the division", "In the team"}),
        (department, {"In the team"}),
        (other, {"Elsewhere"}),
    ):
        page = client.get(reverse("portfolio:service_list"), {"unit": unit.slug})
        shown = {row.record.name for row in page.context["table"].rows}
        assert shown == expected, unit


def test_owner_picker_offers_only_people_whose_role_may_own_by_name(portfolio_manager):
    owner = UserFactory(first_name="Sara", last_name="Service", role=roles.SERVICE_OWNER)
    looker = UserFactory(first_name="Vic", last_name="Viewer", role=roles.VIEWER)
    gone = UserFactory(
        first_name="Gus", last_name="Gone", role=roles.SERVICE_OWNER, is_active=False
    )
    form = ServiceForm(user=portfolio_manager, instance=Service())
    field = form.fields["owner"]
    offered = set(field.queryset)
    assert owner in offered and portfolio_manager in offered
    assert looker not in offered and gone not in offered
    labels = [label for _, label in field.choices]
    assert "Sara Service" in labels and owner.username not in labels
