"""People chosen by name (core.pickers): a record's owner and its delegates, read from a name
(or a username, or an id as a select sent it), the errors of a name that names nobody or
several, and the suggestions offered to whoever may use a form that chooses people."""

import pytest
from django.urls import reverse

from portfolio.forms import ServiceForm
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory
from tests.portfolio.helpers import HTMX

pytestmark = pytest.mark.django_db

SERVICE_DATA = {
    "name": "Billing and payments",
    "kind": "customer_facing",
    "lifecycle": "pipeline",
    "criticality": "high",
}
SERVICE_OWNER = "portfolio.service.owner"
SERVICE_DELEGATES = "portfolio.service.delegates"


def form_of(user, data, instance=None) -> ServiceForm:
    return ServiceForm(data={**SERVICE_DATA, **data}, instance=instance, user=user)


def pick_person(client, q: str, target: str = SERVICE_OWNER):
    return client.get(reverse("pick", args=["person"]), {"q": q, "for": target}, **HTMX)


# --- The owner --------------------------------------------------------------------------------


def test_an_owner_is_chosen_by_name_by_username_or_by_the_key_of_a_choice(portfolio_manager):
    ada = UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="Service owner")
    for data in (
        {"owner": "ada lovelace"},
        {"owner": "ada"},
        {"owner": "Ada Lovelace", "owner-key": str(ada.pk)},
        {"owner": str(ada.pk)},
    ):
        form = form_of(portfolio_manager, data)
        assert form.is_valid(), (data, form.errors)
        assert form.cleaned_data["owner"] == ada


def test_an_owner_of_an_unknown_name_is_an_error_on_the_field(portfolio_manager):
    form = form_of(portfolio_manager, {"owner": "Grace Hopper"})
    assert not form.is_valid()
    assert form.errors["owner"] == [
        "No one who may be chosen here is named “Grace Hopper”: type their name and choose "
        "them from the list."
    ]


def test_an_owner_of_a_name_two_people_share_is_told_apart_by_username(portfolio_manager):
    UserFactory(username="akim", first_name="Alex", last_name="Kim", role="Service owner")
    UserFactory(username="akim2", first_name="Alex", last_name="Kim", role="Service owner")
    form = form_of(portfolio_manager, {"owner": "Alex Kim"})
    assert not form.is_valid()
    assert form.errors["owner"] == [
        "2 people are named “Alex Kim”, choose one from the list or type their username: "
        "akim, akim2."
    ]
    chosen = form_of(portfolio_manager, {"owner": "akim2"})
    assert chosen.is_valid() and chosen.cleaned_data["owner"].username == "akim2"


def test_a_person_whose_role_may_not_own_or_who_left_is_refused_as_owner(portfolio_manager):
    viewer = UserFactory(username="vic", first_name="Vic", last_name="Viewer", role="Viewer")
    gone = UserFactory(username="gone", first_name="Gone", role="Service owner", is_active=False)
    for data in (
        {"owner": "Vic Viewer"},
        {"owner": "", "owner-key": str(viewer.pk)},
        {"owner": str(viewer.pk)},
        {"owner": "gone"},
    ):
        form = form_of(portfolio_manager, data)
        assert not form.is_valid(), data
        assert "owner" in form.errors
    # The current owner stays theirs even when their role could not be given it today.
    service = ServiceFactory(owner=viewer, **SERVICE_DATA)
    kept = form_of(portfolio_manager, {"owner": "Vic Viewer"}, instance=service)
    assert kept.is_valid(), kept.errors
    assert gone.pk not in set(kept.fields["owner"].queryset.values_list("pk", flat=True))


def test_the_form_shows_the_owner_and_delegates_by_name(client, portfolio_manager):
    ada = UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="Service owner")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Byte")
    twin = UserFactory(username="bob2", first_name="Bob", last_name="Byte")
    service = ServiceFactory(owner=ada)
    service.delegates.set([bob, twin])
    client.force_login(portfolio_manager)
    body = client.get(reverse("portfolio:service_edit", args=[service.slug])).content.decode()
    assert 'name="owner" value="Ada Lovelace"' in body
    assert f'name="owner-key" value="{ada.pk}"' in body
    # Without JavaScript the delegates' box holds their names (two Bob Bytes: their usernames).
    assert 'name="delegates" value="bob, bob2"' in body
    assert "&quot;name&quot;: &quot;Bob Byte&quot;" in body
    assert '<select name="owner"' not in body and '<select name="delegates"' not in body


# --- The delegates ----------------------------------------------------------------------------


def test_delegates_are_typed_as_names_separated_by_commas_or_lines(portfolio_manager):
    bob = UserFactory(username="bob", first_name="Bob", last_name="Byte")
    cy = UserFactory(username="cy", first_name="Cy", last_name="Press")
    dee = UserFactory(username="dee")
    form = form_of(portfolio_manager, {"delegates": "Bob Byte, cy\ndee,, "})
    assert form.is_valid(), form.errors
    assert set(form.cleaned_data["delegates"]) == {bob, cy, dee}
    keyed = form_of(portfolio_manager, {"delegates": "", "delegates-key": [bob.pk, cy.pk]})
    assert keyed.is_valid() and set(keyed.cleaned_data["delegates"]) == {bob, cy}
    as_a_select = form_of(portfolio_manager, {"delegates": [bob.pk, dee.pk]})
    assert as_a_select.is_valid() and set(as_a_select.cleaned_data["delegates"]) == {bob, dee}


def test_each_delegate_not_found_or_ambiguous_is_named_in_the_fields_errors(portfolio_manager):
    UserFactory(username="bob", first_name="Bob", last_name="Byte")
    UserFactory(username="akim", first_name="Alex", last_name="Kim")
    UserFactory(username="akim2", first_name="Alex", last_name="Kim")
    UserFactory(username="gone", is_active=False)
    form = form_of(portfolio_manager, {"delegates": "Bob Byte, Nobody Here, Alex Kim, gone"})
    assert not form.is_valid()
    assert form.errors["delegates"] == [
        "No one who may be chosen here is named “Nobody Here”: type their name and choose "
        "them from the list.",
        "2 people are named “Alex Kim”, choose one from the list or type their username: "
        "akim, akim2.",
        "No one who may be chosen here is named “gone”: type their name and choose them "
        "from the list.",
    ]


def test_delegates_are_saved_and_removed_by_name(client, portfolio_manager, service_owner):
    bob = UserFactory(username="bob", first_name="Bob", last_name="Byte")
    service = ServiceFactory(owner=service_owner)
    service.delegates.add(bob)
    client.force_login(portfolio_manager)
    url = reverse("portfolio:service_edit", args=[service.slug])
    data = {**SERVICE_DATA, "name": service.name, "owner": "owner"}
    assert client.post(url, {**data, "delegates": "bob, viewer-x"}).status_code == 422
    UserFactory(username="cy", first_name="Cy", last_name="Press")
    assert client.post(url, {**data, "delegates": "Cy Press"}).status_code == 302
    assert [person.username for person in service.delegates.all()] == ["cy"]


# --- The suggestions --------------------------------------------------------------------------


def test_pick_suggests_the_people_the_field_offers_with_their_username(client, portfolio_manager):
    UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="Service owner")
    UserFactory(username="adam", first_name="Adam", last_name="Smith", role="Viewer")
    UserFactory(username="adele", first_name="Adele", role="Service owner", is_active=False)
    client.force_login(portfolio_manager)
    owners = pick_person(client, "ad").content.decode()
    assert 'data-pick-name="Ada Lovelace"' in owners and "ada" in owners
    assert "Adam" not in owners  # a Viewer may not own a service
    assert "Adele" not in owners  # nor may someone who left
    delegates = pick_person(client, "ad", SERVICE_DELEGATES).content.decode()
    assert "Ada Lovelace" in delegates and "Adam Smith" in delegates
    assert "Adele" not in delegates
    assert "@" not in delegates  # no e-mail
    UserFactory(username="zed", first_name="Zed", email="secret.agent@example.org")
    assert "Zed" in pick_person(client, "ze", SERVICE_DELEGATES).content.decode()
    # Nor is anyone found by their e-mail, which the suggestions do not show.
    by_mail = pick_person(client, "secret", SERVICE_DELEGATES).content.decode()
    assert "Zed" not in by_mail and "No person matches" in by_mail


def test_pick_of_people_is_for_whoever_may_use_a_form_that_chooses_them(client, service_owner):
    UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="Service owner")
    reader = UserFactory(username="reader", role="Viewer")
    client.force_login(reader)
    assert pick_person(client, "ada").status_code == 403
    assert pick_person(client, "ada", "auth.user.manager").status_code == 404
    assert pick_person(client, "ada", "portfolio.service.name").status_code == 404
    client.logout()
    assert pick_person(client, "ada").status_code in (302, 401, 403)
    # An owner of one service may change it: its form's people are theirs to choose from.
    ServiceFactory(owner=service_owner)
    client.force_login(service_owner)
    assert "Ada Lovelace" in pick_person(client, "ada").content.decode()


def test_delegates_refuse_an_unknown_key_and_more_than_a_hundred_names(portfolio_manager):
    keyed = form_of(portfolio_manager, {"delegates": "", "delegates-key": ["999999", "x\x00"]})
    assert not keyed.is_valid()
    assert keyed.errors["delegates"] == ["No one is chosen by this key."]
    many = form_of(portfolio_manager, {"delegates": ", ".join(f"p{n}" for n in range(101))})
    assert not many.is_valid()
    assert many.errors["delegates"] == ["At most 100 people can be chosen here."]
