import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core import panels
from tests.factories import UserFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SupplierFactory
from tests.portfolio.helpers import queries_for

pytestmark = pytest.mark.django_db


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def fully_specified(owner, name):
    service = ServiceFactory(name=name, owner=owner, lifecycle="live")
    for aspect in ("facility", "support"):
        SpecificationItemFactory(service=service, aspect=aspect)
        SpecificationItemFactory(service=service, aspect=aspect, functioning=True)
    return service


def test_portfolio_panels_are_registered_on_the_dashboard():
    titles = [panel.title for panel in panels._panels["dashboard"]]
    assert "My services" in titles and "Contracts to act on" in titles


def test_dashboard_counts_my_services_and_the_incomplete_ones(client, service_owner, other_owner):
    fully_specified(service_owner, "Online claims")
    ServiceFactory(name="Broker portal", owner=service_owner)
    delegated = ServiceFactory(name="Quote and buy", owner=other_owner)
    delegated.delegates.add(service_owner)
    ServiceFactory(name="Someone else's", owner=other_owner)
    client.force_login(service_owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert "<strong>3</strong> services" in body
    assert "2 incomplete" in body
    assert reverse("portfolio:my_services") in body


def test_dashboard_my_services_for_someone_who_owns_none(client, service_owner):
    client.force_login(service_owner)
    body = client.get(reverse("dashboard")).content.decode()
    assert "You own no services yet." in body


def test_dashboard_lists_contracts_whose_notice_falls_within_90_days(client, viewer):
    supplier = SupplierFactory(name="Hostco")
    ContractFactory(
        supplier=supplier,
        reference="H-1",
        renewal_date=in_days(120),
        notice_period_days=90,
        auto_renewal=True,
    )  # notice by in 30 days
    ContractFactory(reference="H-2", renewal_date=in_days(400))  # not yet
    ContractFactory(reference="H-3", renewal_date=in_days(120), retired_at=timezone.now())
    ContractFactory(reference="H-4", end_date=in_days(60), notice_period_days=90)  # passed
    client.force_login(viewer)
    body = client.get(reverse("dashboard")).content.decode()
    assert "H-1" in body and "with Hostco" in body
    assert f"notice by <strong>{in_days(30).isoformat()}</strong>" in body
    assert "in 30 days" in body and "renews automatically" in body
    for reference in ("H-2", "H-3", "H-4"):
        assert reference not in body
    assert reverse("portfolio:contract_list") + "?notice_due=true" in body


def test_dashboard_shows_no_contracts_to_someone_without_a_role(client):
    ContractFactory(reference="H-1", renewal_date=in_days(100))
    client.force_login(UserFactory(username="no-role"))
    body = client.get(reverse("dashboard")).content.decode()
    assert "H-1" not in body
    assert "Your account holds no role yet" in body


def test_dashboard_shows_no_contracts_to_a_service_owner(client, service_owner):
    ContractFactory(reference="H-1", renewal_date=in_days(100))
    client.force_login(service_owner)
    assert "H-1" not in client.get(reverse("dashboard")).content.decode()


def test_dashboard_queries_do_not_grow_with_contracts_and_services(
    client, service_owner, django_assert_num_queries
):
    service_owner.groups.add(Group.objects.get(name="Portfolio manager"))
    client.force_login(service_owner)
    url = reverse("dashboard")
    ContractFactory(renewal_date=in_days(100))
    ServiceFactory(owner=service_owner)
    one = queries_for(client, url)
    for n in range(20):
        ContractFactory(supplier=SupplierFactory(), renewal_date=in_days(100 + n))
        ServiceFactory(owner=service_owner)
    with django_assert_num_queries(one):
        response = client.get(url)
    assert response.content.decode().count("notice by") == 21
