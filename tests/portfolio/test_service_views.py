import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from core import roles
from core.api.tokens import issue_token
from portfolio import services
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from tests.api.conftest import ApiClient
from tests.factories import UserFactory


@pytest.fixture
def service(service_owner):
    return services.save_service(
        service=Service(name="Online claims", kind="customer_facing", owner=service_owner)
    )


@pytest.fixture
def item(service):
    return services.add_specification_item(
        item=SpecificationItem(
            service=service, aspect="facility", dimension="functionality", title="Register"
        )
    )


def item_count():
    return SpecificationItem.objects.count()


@pytest.mark.django_db
def test_delegate_may_edit_items(client, service, viewer):
    service.delegates.add(viewer)
    client.force_login(viewer)
    url = reverse("portfolio:item_add", args=[service.slug, "support", "functionality"])
    response = client.post(url, {"title": "Phone line"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert service.items.filter(title="Phone line").exists()


@pytest.mark.django_db
def test_item_add_with_htmx_returns_the_quadrant_partial(client, service, service_owner):
    client.force_login(service_owner)
    url = reverse("portfolio:item_add", args=[service.slug, "facility", "functioning"])
    response = client.post(
        url,
        {
            "title": "Claims registered quickly",
            "metric": "registration time",
            "comparator": "at_most",
            "target": "10",
            "unit": "minutes",
            "window": "month",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="quadrant-facility_functioning"')
    assert "Claims registered quickly" in body and "<html" not in body
    assert service.items.get().target == Decimal(10)


@pytest.mark.django_db
def test_item_with_bad_target_answers_422_with_error_and_saves_nothing(
    client, service, service_owner
):
    client.force_login(service_owner)
    url = reverse("portfolio:item_add", args=[service.slug, "facility", "functioning"])
    data = {"title": "Fast", "metric": "latency", "comparator": "at_most", "target": "fast"}
    data.update(unit="ms", window="day")
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Enter a number." in response.content.decode()
    assert 'id="quadrant-facility_functioning"' in response.content.decode()
    assert item_count() == 0
    # Without JavaScript, the same post shows the form on a page of its own.
    response = client.post(url, data)
    assert response.status_code == 422 and b"<html" in response.content
    assert item_count() == 0


@pytest.mark.django_db
def test_item_move_and_remove_work_without_javascript(client, service, item, service_owner):
    second = services.add_specification_item(
        item=SpecificationItem(
            service=service, aspect="facility", dimension="functionality", title="Second"
        )
    )
    client.force_login(service_owner)
    response = client.post(reverse("portfolio:item_up", args=[service.slug, second.pk]))
    assert response.status_code == 302
    assert list(service.items.order_by("position").values_list("title", flat=True)) == [
        "Second",
        "Register",
    ]
    client.post(reverse("portfolio:item_remove", args=[service.slug, item.pk]))
    assert list(service.items.values_list("title", flat=True)) == ["Second"]


@pytest.mark.django_db
def test_dependency_add_and_cycle_warning(client, service, service_owner, portfolio_manager):
    hosting = services.save_service(service=Service(name="Hosting", kind="supporting"))
    client.force_login(service_owner)
    url = reverse("portfolio:dependency_add", args=[service.slug])
    response = client.post(url, {"provider": "hosting", "weight": "2"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert ServiceDependency.objects.get().weight == 2
    response = client.post(url, {"provider": service.slug, "weight": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "cannot depend on itself" in response.content.decode()
    response = client.post(url, {"provider": "nope", "weight": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "No service named “nope”" in response.content.decode()

    services.save_dependency(dependency=ServiceDependency(consumer=hosting, provider=service))
    client.force_login(portfolio_manager)
    assert "dependency cycle" in client.get(service.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_service_list_filters_search_and_htmx_partial(client, service, viewer):
    services.save_service(service=Service(name="Hosting", kind="supporting"))
    client.force_login(viewer)
    url = reverse("portfolio:service_list")
    page = client.get(url, {"kind": "supporting"}).content.decode()
    assert "Hosting" in page and "Online claims" not in page
    partial = client.get(url, {"q": "claims"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="object-table">') and "Online claims" in body
    assert "Hosting" not in body
    assert partial["Vary"].count("HX-Request") == 1
    assert "Online claims" in client.get(url, {"complete": "false"}).content.decode()
    assert "Online claims" not in client.get(url, {"complete": "true"}).content.decode()


@pytest.mark.django_db
def test_service_list_exports_csv_and_xlsx(client, service, viewer):
    import io

    from openpyxl import load_workbook

    client.force_login(viewer)
    csv = client.get(reverse("portfolio:service_list"), {"export": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[1].startswith("Online claims,Customer-facing")
    xlsx = client.get(reverse("portfolio:service_list"), {"export": "xlsx", "q": "online"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "Name" and sheet["A2"].value == "Online claims"


@pytest.mark.django_db
def test_a_delegate_takes_no_service_over(client, service, service_owner, viewer):
    service.delegates.add(viewer)
    client.force_login(viewer)
    url = reverse("portfolio:service_edit", args=[service.slug])
    form = {"name": service.name, "kind": service.kind, "lifecycle": service.lifecycle}
    form |= {"criticality": service.criticality, "delegates": [viewer.pk]}
    # She edits what a delegate edits.
    assert client.post(url, {**form, "owner": service_owner.pk}).status_code == 302
    taken = client.post(url, {**form, "owner": viewer.pk})
    assert taken.status_code == 422  # a Viewer is not even offered as an owner
    assert "No one who may be chosen here is named" in taken.context["form"].errors["owner"][0]
    other_owner = UserFactory(role=roles.SERVICE_OWNER)
    handed = client.post(url, {**form, "owner": other_owner.pk})
    assert handed.status_code == 422
    assert "hands it over" in handed.context["form"].errors["owner"][0]
    dropped = client.post(url, {**form, "owner": ""})
    assert dropped.status_code == 422
    friend = UserFactory()
    widened = {**form, "owner": service_owner.pk, "delegates": [viewer.pk, friend.pk]}
    answer = client.post(url, widened)
    assert answer.status_code == 422
    assert "hands it over" in answer.context["form"].errors["delegates"][0]
    api = ApiClient(issue_token(user=viewer, write=True)[1])
    answer = api.patch(f"/api/v1/services/{service.pk}/", {"owner": viewer.username})
    assert answer.status_code == 400 and "owner" in answer.json()["errors"]
    service.refresh_from_db()
    assert service.owner == service_owner
    assert list(service.delegates.all()) == [viewer]
    # The owner hands it over, to someone whose role may own it.
    client.force_login(service_owner)
    assert client.post(url, {**form, "owner": other_owner.pk}).status_code == 302
    service.refresh_from_db()
    assert service.owner == other_owner


@pytest.mark.django_db
def test_dependency_with_days_changed_from_a_month_and_ended_ones_break_no_cycle(
    client, service, service_owner, viewer
):
    hosting = services.save_service(service=Service(name="Hosting", kind="supporting"))
    client.force_login(service_owner)
    add = reverse("portfolio:dependency_add", args=[service.slug])
    backwards = {"provider": "hosting", "weight": "1", "valid_from": "2025-05-01"}
    response = client.post(add, {**backwards, "valid_to": "2025-04-30"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "cannot end before it starts" in response.content.decode()
    response = client.post(add, {"provider": "hosting", "weight": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    dependency = ServiceDependency.objects.get()

    change = reverse("portfolio:dependency_change_from_month", args=[service.slug, dependency.pk])
    assert change in client.get(service.get_absolute_url()).content.decode()
    page = client.get(change)
    assert page.status_code == 200 and 'type="month"' in page.content.decode()
    refused = client.post(change, {"month": "April 2025", "weight": "3"})
    assert refused.status_code == 422 and "YYYY-MM" in refused.content.decode()
    done = client.post(change, {"month": "2025-04", "weight": "3"})
    assert done.status_code == 302
    assert done["Location"] == f"{service.get_absolute_url()}#dependencies"
    stored = ServiceDependency.objects.order_by("pk")
    assert [(d.valid_from, d.valid_to, d.weight) for d in stored] == [
        (None, datetime.date(2025, 3, 31), Decimal(1)),
        (datetime.date(2025, 4, 1), None, Decimal(3)),
    ]
    # The ended edge is marked, and no longer offered a change.
    shown = client.get(service.get_absolute_url()).content.decode()
    assert "until 2025-03-31" in shown and "ended" in shown
    assert change not in shown

    # A viewer may not change it; an ended dependency makes no cycle today.
    client.force_login(viewer)
    assert client.post(change, {"month": "2025-06", "weight": "1"}).status_code == 403
    services.save_dependency(
        dependency=ServiceDependency(
            consumer=hosting, provider=service, valid_to=datetime.date(2025, 1, 31)
        )
    )
    assert "dependency cycle" not in client.get(service.get_absolute_url()).content.decode()
