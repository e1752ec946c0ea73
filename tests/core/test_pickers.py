"""Records chosen by name (core.pickers): the suggestions, the field without JavaScript, the
warning before a second record of the same name, and deleting a record made by mistake."""

import pytest
from django.urls import reverse

from core.models import ObjectChange
from portfolio.forms import DependencyForm
from portfolio.models import Service
from portfolio.models import ServiceDependency
from tests.factories import UserFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ServiceFactory
from tests.portfolio.helpers import APPLICATION_DATA
from tests.portfolio.helpers import HTMX

pytestmark = pytest.mark.django_db

SERVICE_DATA = {
    "name": "Billing and payments",
    "kind": "customer_facing",
    "lifecycle": "pipeline",
    "criticality": "high",
}


def pick(client, kind: str, q: str):
    return client.get(reverse("pick", args=[kind]), {"q": q}, **HTMX)


# --- The suggestions ------------------------------------------------------------------------


def test_pick_suggests_records_of_the_kind_by_the_words_typed_with_kind_and_owner(client, viewer):
    owner = UserFactory(first_name="Ada", last_name="Lovelace")
    billing = ServiceFactory(name="Billing and payments", owner=owner)
    ServiceFactory(name="Claims intake")
    ApplicationFactory(name="Billing engine")
    client.force_login(viewer)
    response = pick(client, "service", "bill pay")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-pick-key="{billing.slug}"' in body
    assert 'data-pick-name="Billing and payments"' in body
    assert "Service" in body and "Ada Lovelace" in body
    assert "Claims intake" not in body and "Billing engine" not in body
    assert "No service matches “claimz”" in pick(client, "service", "claimz").content.decode()


def test_pick_lists_at_most_ten_and_asks_no_more_queries_for_more_records(
    client, viewer, django_assert_max_num_queries
):
    for n in range(3):
        ServiceFactory(name="Hosting", slug=f"hosting-{n}")
    client.force_login(viewer)
    pick(client, "service", "host")
    with django_assert_max_num_queries(8) as few:
        pick(client, "service", "host")
    for n in range(3, 33):
        ServiceFactory(name="Hosting", slug=f"hosting-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = pick(client, "service", "host").content.decode()
    assert body.count("data-pick-key=") == 10


def test_pick_needs_a_login_and_a_known_kind_and_shows_only_what_the_user_may_see(client):
    ServiceFactory(name="Billing")
    assert pick(client, "service", "bill").status_code == 302
    client.force_login(UserFactory())  # no role: sees no service
    assert "data-pick-key" not in pick(client, "service", "bill").content.decode()
    assert pick(client, "nothing", "bill").status_code == 404


# --- The field, with and without JavaScript ---------------------------------------------------


def dependency_form(data, user):
    consumer = Service.objects.filter(slug="consumer").first() or ServiceFactory(name="Consumer")
    return DependencyForm(data, instance=ServiceDependency(consumer=consumer), user=user)


def test_the_picker_takes_the_chosen_key_or_a_typed_name_or_slug(portfolio_manager):
    billing = ServiceFactory(name="Billing and payments", slug="billing")
    for data in (
        {"provider": "Billing and payments", "provider-key": "billing"},  # chosen from the list
        {"provider": "billing AND payments"},  # typed, any case
        {"provider": "billing"},  # the slug, as the API names it
    ):
        form = dependency_form({**data, "weight": "1"}, portfolio_manager)
        assert form.is_valid(), form.errors
        assert form.cleaned_data["provider"] == billing


def test_the_picker_reads_the_text_when_it_was_typed_over_after_a_choice(portfolio_manager):
    ServiceFactory(name="Billing", slug="billing")
    claims = ServiceFactory(name="Claims", slug="claims")
    form = dependency_form(
        {"provider": "Claims", "provider-key": "billing", "weight": "1"}, portfolio_manager
    )
    assert form.is_valid() and form.cleaned_data["provider"] == claims


def test_the_picker_says_when_no_record_or_several_have_the_name(portfolio_manager):
    form = dependency_form({"provider": "Nowhere", "weight": "1"}, portfolio_manager)
    assert not form.is_valid()
    assert "No service named “Nowhere”" in form.errors["provider"][0]
    ServiceFactory(name="Billing", slug="billing")
    ServiceFactory(name="Billing", slug="billing-2")  # numbered, as a second one is
    form = dependency_form({"provider": "billing ", "weight": "1"}, portfolio_manager)
    assert form.is_valid()  # the slug "billing" names one
    form = dependency_form({"provider": "BILLING", "weight": "1"}, portfolio_manager)
    assert not form.is_valid()  # not a slug (they are lower case): a name two services have
    ServiceFactory(name="Payroll", slug="payroll-uk")
    ServiceFactory(name="Payroll", slug="payroll-ie")
    form = dependency_form({"provider": "payroll", "weight": "1"}, portfolio_manager)
    assert not form.is_valid()
    assert form.errors["provider"] == [
        "2 services are named “payroll”, choose one from the list or type its slug: "
        "payroll-ie, payroll-uk."
    ]


def test_the_picker_refuses_a_record_the_user_may_not_see():
    ServiceFactory(name="Billing", slug="billing")
    form = dependency_form({"provider": "Billing", "weight": "1"}, UserFactory())
    assert not form.is_valid() and "No service named “Billing”" in form.errors["provider"][0]


def test_the_dependency_form_shows_the_chosen_provider_by_name(client, portfolio_manager):
    consumer = ServiceFactory(name="Consumer")
    ServiceFactory(name="Billing and payments", slug="billing")
    client.force_login(portfolio_manager)
    url = reverse("portfolio:dependency_add", args=[consumer.slug])
    response = client.post(url, {"provider": "billing", "weight": "x"}, **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'value="Billing and payments"' in body
    assert 'name="provider-key" value="billing"' in body
    response = client.post(url, {"provider": "Billing and payments", "weight": "2"}, **HTMX)
    assert response.status_code == 200
    assert consumer.provider_links.get().provider.slug == "billing"


# --- A second record of the same name --------------------------------------------------------


def test_creating_a_service_of_a_name_in_use_warns_and_asks_to_confirm(client, portfolio_manager):
    existing = ServiceFactory(name="Billing and payments", slug="billing-and-payments")
    client.force_login(portfolio_manager)
    url = reverse("portfolio:service_add")
    data = {**SERVICE_DATA, "name": "billing and Payments "}
    response = client.post(url, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "already exists" in body and f'href="{existing.get_absolute_url()}"' in body
    assert 'name="create_anyway"' in body and "Create anyway" in body
    assert Service.objects.count() == 1
    response = client.post(url, {**data, "create_anyway": "1"})
    assert response.status_code == 302
    assert Service.objects.filter(slug="billing-and-payments-2").exists()


def test_a_new_name_creates_without_a_warning(client, portfolio_manager):
    ServiceFactory(name="Billing and payments")
    client.force_login(portfolio_manager)
    response = client.post(reverse("portfolio:service_add"), {**SERVICE_DATA, "name": "Bill"})
    assert response.status_code == 302


def test_the_warning_is_about_records_of_the_same_kind(client, portfolio_manager):
    ServiceFactory(name="Hosting", slug="hosting")
    client.force_login(portfolio_manager)
    url = reverse("portfolio:application_add")
    response = client.post(url, {**APPLICATION_DATA, "name": "Hosting"})
    assert response.status_code == 302  # a service is another kind
    ApplicationFactory(name="Hosting", slug="hosting-old")
    response = client.post(url, {**APPLICATION_DATA, "name": "Hosting"})
    body = response.content.decode()
    assert response.status_code == 422 and "Applications named “Hosting” already exist" in body


# --- Deleting a record made by mistake --------------------------------------------------------


def test_a_service_nothing_depends_on_is_deleted_and_the_deletion_logged(client, portfolio_manager):
    client.force_login(portfolio_manager)
    client.post(reverse("portfolio:service_add"), {**SERVICE_DATA, "name": "Mistake"})
    service = Service.objects.get(name="Mistake")
    url = reverse("portfolio:service_delete", args=[service.slug])
    page = client.get(service.get_absolute_url()).content.decode()
    assert f'href="{url}">Remove…</a>' in page
    body = client.get(url).content.decode()
    assert "Delete Mistake?" in body and 'data-confirm="Delete Mistake for good?"' in body
    response = client.post(url)
    assert response.status_code == 302
    assert not Service.objects.filter(pk=service.pk).exists()
    assert ObjectChange.objects.filter(object_id=str(service.pk), action="delete").exists()


def test_a_service_something_depends_on_says_what_and_is_retired(client, portfolio_manager):
    provider, consumer = ServiceFactory(name="Provider"), ServiceFactory(name="Consumer")
    ServiceDependency.objects.create(consumer=consumer, provider=provider)
    client.force_login(portfolio_manager)
    url = reverse("portfolio:service_delete", args=[provider.slug])
    body = client.get(url).content.decode()
    assert "Retire Provider?" in body and "cannot be deleted" in body
    assert "<li>Service dependencies</li>" in body and "Delete" not in body
    client.post(url)
    provider.refresh_from_db()
    assert provider.lifecycle == "retired"


def test_a_service_changed_since_it_was_created_is_retired_not_deleted(client, portfolio_manager):
    client.force_login(portfolio_manager)
    client.post(reverse("portfolio:service_add"), {**SERVICE_DATA, "name": "Kept"})
    service = Service.objects.get(name="Kept")
    client.post(
        reverse("portfolio:service_edit", args=[service.slug]),
        {**SERVICE_DATA, "name": "Kept", "summary": "Now described"},
    )
    body = client.get(reverse("portfolio:service_delete", args=[service.slug])).content.decode()
    assert "1 change since it was created" in body


def test_the_remove_page_asks_for_the_right_to_delete(client, viewer):
    service = ServiceFactory(name="Mistake")
    client.force_login(viewer)
    url = reverse("portfolio:service_delete", args=[service.slug])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Service.objects.filter(pk=service.pk).exists()
