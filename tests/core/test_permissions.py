import pytest

from core.permissions import can
from portfolio.models import Service, SpecificationItem


@pytest.fixture
def owned_service(db, service_owner, other_owner):
    service = Service.objects.create(
        name="Payments", slug="payments", kind="supporting", owner=service_owner
    )
    return service


@pytest.mark.django_db
def test_restrict_gives_owners_and_delegates_their_own_objects(
    owned_service, service_owner, other_owner, viewer
):
    Service.objects.create(name="Other", slug="other", kind="supporting", owner=other_owner)
    assert list(Service.objects.restrict(service_owner, "change")) == [owned_service]
    owned_service.delegates.add(viewer)
    assert list(Service.objects.restrict(viewer, "change")) == [owned_service]
    assert Service.objects.restrict(viewer, "view").count() == 2


@pytest.mark.django_db
def test_restrict_gives_portfolio_managers_everything(owned_service, portfolio_manager):
    assert Service.objects.restrict(portfolio_manager, "delete").count() == 1


@pytest.mark.django_db
def test_restrict_gives_anonymous_nothing(owned_service):
    from django.contrib.auth.models import AnonymousUser

    assert not Service.objects.restrict(AnonymousUser(), "view").exists()


@pytest.mark.django_db
def test_can_follows_ownership_through_relations(owned_service, service_owner, other_owner):
    item = SpecificationItem.objects.create(
        service=owned_service, aspect="facility", dimension="functionality", title="Pay by card"
    )
    assert can(service_owner, "change", item)
    assert not can(other_owner, "change", item)
    assert not can(other_owner, "change", owned_service)
    assert can(other_owner, "view", owned_service)


@pytest.mark.django_db
def test_can_add_follows_role(service_owner, viewer):
    assert can(service_owner, "add", Service)
    assert not can(viewer, "add", Service)
