import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from finance.choices import CostCategory
from finance.models import CostItem
from finance.models import Period
from portfolio import services
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from tests.portfolio.helpers import APPLICATION_DATA
from tests.portfolio.helpers import HTMX
from tests.portfolio.helpers import csv_rows
from tests.portfolio.helpers import is_partial
from tests.portfolio.helpers import xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(service_owner):
    """An application owned by ``service_owner``."""
    return ApplicationFactory(name="Claims engine", owner=service_owner)


@pytest.fixture
def support(application):
    return ApplicationSupportFactory(
        application=application, service=ServiceFactory(name="Online claims")
    )


# --- Business rules --------------------------------------------------------------------------


def test_save_application_gives_a_unique_slug_and_retires_with_its_lifecycle():
    first = services.save_application(application=Application(name="Claims engine"))
    second = services.save_application(application=Application(name="Claims engine"))
    assert (first.slug, second.slug) == ("claims-engine", "claims-engine-2")
    second.lifecycle = "retired"
    assert services.save_application(application=second).is_retired
    second.lifecycle = "phase_out"
    assert not services.save_application(application=second).is_retired


def test_save_application_support_refuses_duplicates(support):
    again = ApplicationSupport(application=support.application, service=support.service)
    with pytest.raises(ValidationError) as raised:
        services.save_application_support(support=again)
    assert raised.value.message_dict == {
        "service": ["This application already supports this service."]
    }
    support.weight = Decimal(4)
    services.save_application_support(support=support)  # saving itself is no duplicate
    assert ApplicationSupport.objects.get().weight == 4


def test_remove_application_deletes_it_with_its_supports(support):
    assert services.remove_application(application=support.application) == "deleted"
    assert not ApplicationSupport.objects.exists()


def test_remove_application_a_contract_covers_retires_it(application):
    ContractCoverageFactory(application=application)
    assert services.remove_application(application=application) == "retired"
    application.refresh_from_db()
    assert application.is_retired and application.lifecycle == "retired"


# --- Permissions the view matrix leaves to these tests (see test_view_matrix.py) ------------


def test_owner_of_a_supported_service_may_change_that_support(client, support, other_owner):
    support.service.owner = other_owner
    support.service.save()
    client.force_login(other_owner)
    edit_url = reverse("portfolio:support_edit", args=[support.application.slug, support.pk])
    assert client.post(edit_url, {"weight": "2"}, **HTMX).status_code == 200
    add_url = reverse("portfolio:support_add", args=[support.application.slug])
    assert client.get(add_url).status_code == 403


# --- The pages ------------------------------------------------------------------------------


def test_application_list_filters(client, viewer, service_owner):
    vendor = SupplierFactory(name="Policysoft")
    ApplicationFactory(
        name="Policy core",
        vendor=vendor,
        disposition="migrate",
        criticality="critical",
        owner=service_owner,
    )
    ApplicationFactory(name="Old intranet", lifecycle="phase_out", disposition="eliminate")
    client.force_login(viewer)
    url = reverse("portfolio:application_list")

    def names(**params):
        body = client.get(url, params).content.decode()
        return [n for n in ("Policy core", "Old intranet") if n in body]

    assert names() == ["Policy core", "Old intranet"]
    assert names(lifecycle="phase_out") == ["Old intranet"]
    assert names(disposition="migrate") == ["Policy core"]
    assert names(criticality="critical") == ["Policy core"]
    assert names(vendor="policysoft") == ["Policy core"]
    assert names(owner=service_owner.username) == ["Policy core"]
    assert names(q="intranet") == ["Old intranet"]


def test_application_list_htmx_partial_and_exports(client, viewer, application, support):
    ApplicationSupportFactory(application=application)
    client.force_login(viewer)
    url = reverse("portfolio:application_list")
    partial = client.get(url, {"q": "claims"}, **HTMX)
    assert is_partial(partial) and "Claims engine" in partial.content.decode()

    rows = csv_rows(client.get(url, {"export": "csv"}))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Name"] == "Claims engine"
    assert record["Services supported"] == "2"
    assert record["Lifecycle"] == "Active"

    sheet = xlsx_rows(client.get(url, {"export": "xlsx", "q": "claims"}))
    record = dict(zip(sheet[0], sheet[1], strict=True))
    assert len(sheet) == 2
    assert record["Services supported"] == 2


def test_support_added_in_place_with_htmx(client, service_owner, application):
    service = ServiceFactory(name="Policy self-service")
    client.force_login(service_owner)
    url = reverse("portfolio:support_add", args=[application.slug])

    form = client.get(url, **HTMX)
    assert is_partial(form)
    assert 'hx-get="/pick/service/"' in form.content.decode()
    # No service is listed in the page (the picker asks as one types); the only choices are
    # the drivers' (finance.Driver), none recorded here.
    assert service.slug not in form.content.decode()
    assert form.content.decode().count("<option") == 1  # "None: share by weight"

    response = client.post(url, {"service": service.slug, "weight": "3"}, **HTMX)
    assert response.status_code == 200 and is_partial(response)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="supports"')
    assert "Policy self-service" in body and "100.0 %" in body
    assert application.supports.get().weight == 3


def test_support_bad_input_answers_422_and_saves_nothing(client, service_owner, support):
    client.force_login(service_owner)
    url = reverse("portfolio:support_add", args=[support.application.slug])
    duplicate = client.post(url, {"service": support.service.slug, "weight": "1"}, **HTMX)
    assert duplicate.status_code == 422 and is_partial(duplicate)
    assert "This application already supports this service." in duplicate.content.decode()
    unknown = client.post(url, {"service": "nothing-like-it", "weight": "1"})
    assert unknown.status_code == 422 and not is_partial(unknown)
    assert "No service named “nothing-like-it”" in unknown.content.decode()
    assert ApplicationSupport.objects.count() == 1


def test_application_create_bad_input_answers_422(client, portfolio_manager):
    client.force_login(portfolio_manager)
    data = {**APPLICATION_DATA, "name": "", "disposition": "keep"}
    response = client.post(reverse("portfolio:application_add"), data, **HTMX)
    assert response.status_code == 422 and is_partial(response)
    body = response.content.decode()
    assert 'id="id_name_error"' in body and 'id="id_disposition_error"' in body
    assert not Application.objects.exists()


def test_application_remove_retires_one_with_cost(client, portfolio_manager, application):
    CostItem.objects.create(
        description="Licence",
        period=Period.objects.create(year=2025, month=2),
        amount=Decimal(50),
        category=CostCategory.VENDOR,
        application=application,
    )
    client.force_login(portfolio_manager)
    response = client.post(reverse("portfolio:application_delete", args=[application.slug]))
    assert response.url == application.get_absolute_url()
    application.refresh_from_db()
    assert application.is_retired
    assert "Retired" in client.get(application.get_absolute_url()).content.decode()


def test_support_changed_from_a_month_shares_only_the_supports_in_force(
    client, service_owner, support
):
    other = ApplicationSupportFactory(application=support.application, weight=Decimal(1))
    url = reverse(
        "portfolio:support_change_from_month", args=[support.application.slug, support.pk]
    )
    client.force_login(service_owner)
    assert url in client.get(support.application.get_absolute_url()).content.decode()
    response = client.post(url, {"month": "2025-04", "weight": "3"})
    assert response.status_code == 302
    assert response["Location"].endswith("#supports")
    mine = ApplicationSupport.objects.filter(service=support.service).order_by("pk")
    assert [(s.valid_to, s.valid_from, s.weight) for s in mine] == [
        (datetime.date(2025, 3, 31), None, Decimal(1)),
        (None, datetime.date(2025, 4, 1), Decimal(3)),
    ]
    # Today the successor (3) and the other support (1) share the cost: 75 % and 25 %.
    page = client.get(support.application.get_absolute_url()).content.decode()
    assert "75.0 %" in page and "25.0 %" in page and "until 2025-03-31" in page
    assert other.pk in ApplicationSupport.objects.values_list("pk", flat=True)
