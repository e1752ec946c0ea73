import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from portfolio import selectors
from portfolio import services
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription


def new_service(name, *, owner=None, kind="supporting", **fields):
    return services.save_service(service=Service(name=name, kind=kind, owner=owner, **fields))


def add_item(service, aspect, dimension, title="Item", **measure):
    return services.add_specification_item(
        item=SpecificationItem(
            service=service, aspect=aspect, dimension=dimension, title=title, **measure
        )
    )


MEASURE = {
    "metric": "availability",
    "comparator": "at_least",
    "target": Decimal("99.9"),
    "unit": "%",
    "window": "month",
}


def fill_all_quadrants(service):
    add_item(service, "facility", "functionality", "Register a claim online")
    add_item(service, "facility", "functioning", "Available", **MEASURE)
    add_item(service, "support", "functionality", "Phone support 8-20")
    add_item(service, "support", "functioning", "Answered", **{**MEASURE, "metric": "answered"})


def completeness(service):
    return selectors.with_completeness(Service.objects.filter(pk=service.pk)).get()


@pytest.mark.django_db
def test_completeness_needs_all_four_quadrants_and_an_owner(service_owner):
    service = new_service("Claims")
    fill_all_quadrants(service)
    annotated = completeness(service)
    assert not annotated.is_complete
    assert selectors.missing_parts(annotated) == ["an owner"]

    service.owner = service_owner
    services.save_service(service=service)
    assert completeness(service).is_complete


@pytest.mark.django_db
def test_completeness_names_each_missing_quadrant(service_owner):
    service = new_service("Claims", owner=service_owner)
    add_item(service, "facility", "functionality")
    annotated = completeness(service)
    assert not annotated.is_complete
    assert selectors.missing_parts(annotated) == [
        "facility functioning",
        "support functionality",
        "support functioning",
    ]


@pytest.mark.django_db
def test_functioning_item_must_be_measurable(service_owner):
    service = new_service("Claims", owner=service_owner)
    with pytest.raises(ValidationError) as error:
        add_item(service, "facility", "functioning", "Fast", metric="latency")
    assert set(error.value.message_dict) == {"comparator", "target", "unit", "window"}
    # The database refuses it too, whatever the path.
    with pytest.raises(IntegrityError), transaction.atomic():
        SpecificationItem.objects.create(
            service=service, aspect="facility", dimension="functioning", title="Fast"
        )


@pytest.mark.django_db
def test_functionality_item_keeps_no_measure(service_owner):
    service = new_service("Claims", owner=service_owner)
    item = add_item(service, "support", "functionality", "Chat", **MEASURE)
    item.refresh_from_db()
    assert (item.metric, item.target) == ("", None)


@pytest.mark.django_db
def test_items_are_ordered_within_their_quadrant(service_owner):
    service = new_service("Claims", owner=service_owner)
    first = add_item(service, "facility", "functionality", "First")
    second = add_item(service, "facility", "functionality", "Second")
    other = add_item(service, "support", "functionality", "Other quadrant")
    assert (first.position, second.position, other.position) == (0, 1, 0)

    services.move_specification_item(item=second, offset=-1)
    titles = list(
        service.items.filter(aspect="facility").order_by("position").values_list("title", flat=True)
    )
    assert titles == ["Second", "First"]
    services.move_specification_item(item=second, offset=-1)  # already first: stays
    services.remove_specification_item(item=SpecificationItem.objects.get(title="Second"))
    assert SpecificationItem.objects.get(title="First").position == 0


@pytest.mark.django_db
def test_service_cannot_go_live_without_owner():
    with pytest.raises(ValidationError) as error:
        new_service("Claims", lifecycle="live")
    assert "owner" in error.value.message_dict


@pytest.mark.django_db
def test_lifecycle_changes_record_their_dates(service_owner):
    service = new_service("Claims", owner=service_owner)
    # A new service keeps the dates it is given: none here, so they are unknown.
    assert service.pipeline_on is None and service.live_on is None
    service.lifecycle = "live"
    services.save_service(service=service)
    assert service.live_on == timezone.localdate()
    dated = new_service("Billing", owner=service_owner, pipeline_on=datetime.date(2020, 5, 1))
    assert dated.pipeline_on == datetime.date(2020, 5, 1)


@pytest.mark.django_db
def test_service_owner_creating_a_service_becomes_its_owner(service_owner, portfolio_manager):
    mine = services.save_service(service=Service(name="Mine", kind="internal"), user=service_owner)
    theirs = services.save_service(
        service=Service(name="Unowned", kind="internal"), user=portfolio_manager
    )
    assert mine.owner == service_owner and theirs.owner is None
    # /services/mine/ is the "My services" page: the slug steps aside.
    assert mine.slug == "mine-service"
    assert new_service("Mine").slug == "mine-service-2"


@pytest.mark.django_db
def test_service_cannot_depend_on_itself(service_owner):
    service = new_service("Claims", owner=service_owner)
    with pytest.raises(ValidationError):
        services.save_dependency(dependency=ServiceDependency(consumer=service, provider=service))
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceDependency.objects.create(consumer=service, provider=service)


@pytest.mark.django_db
def test_dependency_weight_cannot_be_negative(service_owner):
    a, b = new_service("A"), new_service("B")
    with pytest.raises(ValidationError) as error:
        services.save_dependency(
            dependency=ServiceDependency(consumer=a, provider=b, weight=Decimal(-1))
        )
    assert "weight" in error.value.message_dict


@pytest.mark.django_db
def test_dependency_cycle_is_allowed_and_detected():
    a, b, c, d = (new_service(n) for n in "ABCD")
    for consumer, provider in ((a, b), (b, c), (c, a), (d, a)):
        services.save_dependency(dependency=ServiceDependency(consumer=consumer, provider=provider))
    assert selectors.in_dependency_cycle(a) and selectors.in_dependency_cycle(c)
    assert not selectors.in_dependency_cycle(d)


@pytest.mark.django_db
def test_duplicate_dependency_is_refused():
    a, b = new_service("A"), new_service("B")
    services.save_dependency(dependency=ServiceDependency(consumer=a, provider=b))
    with pytest.raises(ValidationError) as error:
        services.save_dependency(dependency=ServiceDependency(consumer=a, provider=b))
    assert "already recorded" in str(error.value)


@pytest.mark.django_db
def test_removing_a_referenced_service_retires_it(service_owner):
    from portfolio.models import Customer

    draft = new_service("Draft", owner=service_owner)
    add_item(draft, "facility", "functionality")
    assert services.remove_service(draft) == "deleted"
    assert not Service.objects.filter(name="Draft").exists()

    used = new_service("Used", owner=service_owner)
    customer = Customer.objects.create(name="Retail", slug="retail", kind="external")
    Subscription.objects.create(
        customer=customer, service=used, annual_charge=Decimal(100), start_date="2026-01-01"
    )
    assert services.remove_service(used) == "retired"
    used.refresh_from_db()
    assert used.is_retired and used.retired_on is not None
