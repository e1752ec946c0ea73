"""Two people edit one record in the browser: the second save, made from the version both
opened, is a conflict (409) that shows what is stored now beside the user's values and
writes nothing; saving again from the conflict page keeps the user's values."""

import pytest
from django.test import Client
from django.urls import reverse

from core.pickers import KEY_SUFFIX
from core.pickers import PeoplePickerInput
from portfolio import services
from portfolio.models import Service
from portfolio.models import SpecificationItem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def opened_form(client, url, **headers) -> dict:
    """The form as the browser would send it back: its fields with their values."""
    form = client.get(url, **headers).context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(field.widget, PeoplePickerInput):
            # The chosen people's keys in hidden inputs beside an empty box.
            people, _ = value  # as the field prepares it: (key, name, typed back) each
            data[name], data[name + KEY_SUFFIX] = "", [key for key, *_ in people]
        elif isinstance(value, list):
            data[name] = [str(v) for v in value]
        else:
            shown = field.widget.format_value(value) if name != "version" else value
            if shown is not None:
                data[name] = shown
    return data


def test_a_stale_service_edit_shows_both_values_and_writes_nothing(service_owner, other_owner):
    service = services.save_service(
        service=Service(name="Online claims", kind="customer_facing", owner=service_owner)
    )
    # A delegate whose id has two digits: a list of ids sent back must compare as a list.
    UserFactory.create_batch(10)
    delegate = UserFactory(username="delegate", role="Service owner")
    service.delegates.add(other_owner, delegate)
    alice, bob = Client(), Client()
    alice.force_login(service_owner)
    bob.force_login(other_owner)
    url = reverse("portfolio:service_edit", args=[service.slug])
    alices, bobs = opened_form(alice, url), opened_form(bob, url)
    assert alice.post(url, {**alices, "summary": "Claims online, day and night"}).status_code == 302
    stale = bob.post(url, {**bobs, "summary": "Claims by web"})
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Someone else saved this service" in page
    assert "Claims online, day and night" in page and "Claims by web" in page
    # Only what differs is listed: the delegates, sent back unchanged, are not.
    assert stale.context["form"].conflicts == [
        ("Summary", "Claims online, day and night", "Claims by web")
    ]
    service.refresh_from_db()
    assert service.summary == "Claims online, day and night"
    # Bob has seen both: saving the conflict page's form keeps his.
    again = stale.context["form"]
    resend = {**bobs, "summary": "Claims by web", "version": again["version"].value()}
    assert bob.post(url, resend).status_code == 302
    service.refresh_from_db()
    assert service.summary == "Claims by web"


def test_a_stale_save_that_agrees_with_what_is_stored_is_no_conflict(service_owner, other_owner):
    """Both people made the same change: the second save writes what is stored already."""
    service = services.save_service(
        service=Service(name="Online claims", kind="customer_facing", owner=service_owner)
    )
    service.delegates.add(other_owner)
    alice, bob = Client(), Client()
    alice.force_login(service_owner)
    bob.force_login(other_owner)
    url = reverse("portfolio:service_edit", args=[service.slug])
    alices, bobs = opened_form(alice, url), opened_form(bob, url)
    assert alice.post(url, {**alices, "summary": "Claims by web"}).status_code == 302
    assert bob.post(url, {**bobs, "summary": "Claims by web"}).status_code == 302
    service.refresh_from_db()
    assert service.summary == "Claims by web"


def test_a_stale_quadrant_item_edit_is_a_conflict(service_owner, portfolio_manager):
    service = services.save_service(
        service=Service(name="Online claims", kind="customer_facing", owner=service_owner)
    )
    item = services.save_specification_item(
        item=SpecificationItem(
            service=service, aspect="facility", dimension="functionality", title="Register"
        )
    )
    owner, manager = Client(), Client()
    owner.force_login(service_owner)
    manager.force_login(portfolio_manager)
    url = reverse("portfolio:item_edit", args=[service.slug, item.pk])
    owners, managers = opened_form(owner, url, **HTMX), opened_form(manager, url, **HTMX)
    assert owner.post(url, {**owners, "title": "Register a claim"}, **HTMX).status_code == 200
    stale = manager.post(url, {**managers, "title": "Report a claim"}, **HTMX)
    assert stale.status_code == 409
    assert "Register a claim" in stale.content.decode()
    item.refresh_from_db()
    assert item.title == "Register a claim"
