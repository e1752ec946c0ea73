import pytest

from core.permissions import can
from core.permissions import refusals
from core.rules import Change
from portfolio.models import Service
from portfolio.models import SpecificationItem
from valuestreams.models import Improvement


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


@pytest.mark.django_db
def test_the_owner_of_a_parent_adds_under_it_and_moves_only_there(
    owned_service, service_owner, other_owner
):
    theirs = Service.objects.create(
        name="Theirs", slug="theirs", kind="supporting", owner=other_owner
    )
    item = SpecificationItem(
        service=owned_service, aspect="facility", dimension="functionality", title="Pay"
    )
    assert can(service_owner, "add", item)
    assert not can(other_owner, "add", item)
    assert not can(service_owner, "add", SpecificationItem(title="under nothing"))
    # Someone who may change some parent may add "some" item: the Add button shows.
    assert can(service_owner, "add", SpecificationItem)
    item.save()
    item.service = theirs
    assert not can(service_owner, "change", item)  # moved where she may not add
    item.service = owned_service
    assert can(service_owner, "change", item)


@pytest.mark.django_db
def test_refusals_judge_a_batch_with_a_constant_number_of_queries(
    owned_service, service_owner, django_assert_num_queries
):
    def changes(count):
        return [
            Change(
                row={
                    "service_id": owned_service.pk,
                    "aspect": "facility",
                    "dimension": "functionality",
                }
            )
            for _ in range(count)
        ]

    service_owner.has_perm("portfolio.add_specificationitem")  # the role's rights, cached
    with django_assert_num_queries(1):
        assert refusals(service_owner, "add", SpecificationItem, changes(1)) == [None]
    with django_assert_num_queries(1):
        assert refusals(service_owner, "add", SpecificationItem, changes(50)) == [None] * 50


@pytest.mark.django_db
def test_a_grant_allows_what_roles_owners_and_parents_do_not(viewer, value_stream_owner):
    from tests.factories.valuestreams import ImprovementFactory
    from tests.factories.valuestreams import ValueStreamFactory

    stream = ValueStreamFactory(owner=value_stream_owner)
    mine = ImprovementFactory(value_stream=stream, suggested_by=viewer)
    assert can(viewer, "change", mine)  # valuestreams' suggester grant
    assert mine in Improvement.objects.restrict(viewer, "change")
    mine.status = "accepted"
    assert not can(viewer, "change", mine)  # the grant holds while it is proposed only
    assert can(value_stream_owner, "change", mine)
