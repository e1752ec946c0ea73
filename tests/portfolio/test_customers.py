import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portfolio import selectors
from portfolio import services
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Subscription
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.portfolio.helpers import HTMX
from tests.portfolio.helpers import OUTCOME_DATA
from tests.portfolio.helpers import csv_rows
from tests.portfolio.helpers import is_partial
from tests.portfolio.helpers import subscription_data
from tests.portfolio.helpers import xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(service_owner):
    """A customer whose relationship manager is ``service_owner``."""
    return CustomerFactory(name="Fleet operators", relationship_manager=service_owner)


@pytest.fixture
def other_customer(other_owner):
    return CustomerFactory(name="Broker network", relationship_manager=other_owner)


@pytest.fixture
def service():
    return ServiceFactory(name="Online claims")


@pytest.fixture
def subscription(customer, service):
    return SubscriptionFactory(customer=customer, service=service)


@pytest.fixture
def outcome(subscription):
    return OutcomeFactory(subscription=subscription)


# --- Business rules --------------------------------------------------------------------------


def test_save_customer_gives_a_unique_slug():
    first = services.save_customer(customer=Customer(name="Fleet operators", kind="external"))
    second = services.save_customer(customer=Customer(name="Fleet operators", kind="external"))
    assert (first.slug, second.slug) == ("fleet-operators", "fleet-operators-2")


def test_save_customer_avoids_slugs_of_fixed_addresses():
    customer = services.save_customer(customer=Customer(name="New", kind="internal"))
    assert customer.slug == "new-customer"


def test_save_subscription_needs_a_price_or_an_annual_charge(customer, service):
    subscription = Subscription(
        customer=customer, service=service, start_date=datetime.date(2025, 1, 1)
    )
    with pytest.raises(ValidationError) as raised:
        services.save_subscription(subscription=subscription)
    assert "price_per_unit" in raised.value.message_dict
    assert not Subscription.objects.exists()


def test_save_subscription_cannot_end_before_it_starts(customer, service):
    subscription = Subscription(
        customer=customer,
        service=service,
        annual_charge=Decimal(1000),
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2024, 12, 31),
    )
    with pytest.raises(ValidationError) as raised:
        services.save_subscription(subscription=subscription)
    assert "end_date" in raised.value.message_dict


def test_save_subscription_refuses_a_retired_service(customer):
    retired = ServiceFactory(lifecycle="retired")
    subscription = Subscription(
        customer=customer,
        service=retired,
        annual_charge=Decimal(1000),
        start_date=datetime.date(2025, 1, 1),
    )
    with pytest.raises(ValidationError) as raised:
        services.save_subscription(subscription=subscription)
    assert "service" in raised.value.message_dict


def test_save_subscription_keeps_its_service_once_outcomes_use_its_items(subscription):
    item = SpecificationItemFactory(service=subscription.service)
    OutcomeFactory(subscription=subscription, specification_item=item)
    subscription.service = ServiceFactory()
    with pytest.raises(ValidationError) as raised:
        services.save_subscription(subscription=subscription)
    assert "service" in raised.value.message_dict


def test_annual_revenue_of_subscription_with_price_and_with_charge(customer, service):
    priced = services.save_subscription(
        subscription=Subscription(
            customer=customer,
            service=service,
            units=Decimal(10),
            price_per_unit=Decimal("12.50"),
            start_date=datetime.date(2025, 1, 1),
        )
    )
    charged = services.save_subscription(
        subscription=Subscription(
            customer=customer,
            service=ServiceFactory(),
            annual_charge=Decimal("2500.00"),
            price_per_unit=Decimal(99),
            start_date=datetime.date(2025, 1, 1),
        )
    )
    assert priced.annual_revenue == Decimal(1500)
    assert charged.annual_revenue == Decimal(2500)
    annotated = selectors.customers_with_revenue(Customer.objects.filter(pk=customer.pk)).get()
    assert annotated.subscription_count == 2
    assert annotated.annual_revenue == Decimal(4000)


def test_customer_revenue_leaves_out_ended_and_foreign_currency_subscriptions(customer):
    SubscriptionFactory(customer=customer)  # 1,500 EUR a year
    SubscriptionFactory(customer=customer, end_date=datetime.date(2024, 6, 30))
    SubscriptionFactory(
        customer=customer, retired_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    )
    SubscriptionFactory(customer=customer, currency="USD")
    annotated = selectors.customers_with_revenue(Customer.objects.filter(pk=customer.pk)).get()
    assert annotated.subscription_count == 2
    assert annotated.annual_revenue == Decimal(1500)
    assert annotated.other_currency_count == 1


def test_save_outcome_needs_an_item_of_the_subscribed_service(subscription):
    foreign_item = SpecificationItemFactory(service=ServiceFactory())
    outcome = Outcome(
        subscription=subscription,
        statement="Claims paid in a week",
        specification_item=foreign_item,
    )
    with pytest.raises(ValidationError) as raised:
        services.save_outcome(outcome=outcome)
    assert "specification_item" in raised.value.message_dict
    assert not Outcome.objects.exists()

    own_item = SpecificationItemFactory(service=subscription.service)
    outcome.specification_item = own_item
    assert services.save_outcome(outcome=outcome).pk is not None


def test_outcome_without_a_measure_is_not_yet_an_sco(subscription):
    outcome = services.save_outcome(
        outcome=Outcome(subscription=subscription, statement="We never chase a claim")
    )
    assert not outcome.is_measurable
    outcome.metric, outcome.target, outcome.unit = "Claims chased", Decimal(0), "claims"
    assert services.save_outcome(outcome=outcome).is_measurable


def test_remove_customer_deletes_one_nothing_refers_to(customer):
    assert services.remove_customer(customer=customer) == "deleted"
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_remove_customer_with_subscriptions_retires_it_and_ends_them(subscription):
    customer = subscription.customer
    assert services.remove_customer(customer=customer) == "retired"
    customer.refresh_from_db()
    subscription.refresh_from_db()
    assert customer.is_retired and subscription.is_retired


def test_remove_subscription_with_outcomes_ends_it(outcome, subscription):
    assert services.remove_subscription(subscription=subscription) == "retired"
    assert Outcome.objects.filter(pk=outcome.pk).exists()
    bare = SubscriptionFactory()
    assert services.remove_subscription(subscription=bare) == "deleted"


# --- Permissions the view matrix leaves to these tests (see test_view_matrix.py) ------------


def test_service_owner_may_edit_subscriptions_to_their_service(client, subscription, other_owner):
    """Subscriptions are owned by the relationship manager and by the service's owner."""
    subscription.service.owner = other_owner
    subscription.service.save()
    client.force_login(other_owner)
    url = reverse("portfolio:subscription_edit", args=[subscription.customer.slug, subscription.pk])
    assert client.get(url).status_code == 200
    # ...but adding a subscription is the customer's relationship manager's business.
    add_url = reverse("portfolio:subscription_add", args=[subscription.customer.slug])
    assert client.get(add_url).status_code == 403


def test_child_rows_of_another_customer_are_not_found(
    client, subscription, other_customer, portfolio_manager
):
    client.force_login(portfolio_manager)
    url = reverse("portfolio:subscription_edit", args=[other_customer.slug, subscription.pk])
    assert client.get(url).status_code == 404


# --- The pages ------------------------------------------------------------------------------


def test_customer_list_filters_search_and_sorts(client, viewer, service_owner):
    CustomerFactory(
        name="Fleet operators", segment="Commercial", relationship_manager=service_owner
    )
    CustomerFactory(name="Claims division", kind="internal", segment="")
    client.force_login(viewer)
    url = reverse("portfolio:customer_list")

    def names(**params):
        body = client.get(url, params).content.decode()
        return [n for n in ("Fleet operators", "Claims division") if n in body]

    assert names(q="fleet") == ["Fleet operators"]
    assert names(kind="internal") == ["Claims division"]
    assert names(segment="Commercial") == ["Fleet operators"]
    assert names(relationship_manager=service_owner.username) == ["Fleet operators"]
    assert names(retired="false") == ["Fleet operators", "Claims division"]
    assert names(retired="true") == []
    body = client.get(url, {"sort": "-name"}).content.decode()
    assert body.index("Fleet operators") < body.index("Claims division")


def test_customer_list_htmx_request_gets_the_table_partial(client, viewer, customer):
    client.force_login(viewer)
    response = client.get(reverse("portfolio:customer_list"), {"q": "fleet"}, **HTMX)
    assert response.status_code == 200
    assert is_partial(response)
    assert 'id="object-table"' in response.content.decode()
    assert "Fleet operators" in response.content.decode()


def test_customer_list_exports_csv_and_xlsx_of_the_filtered_list(client, viewer, customer):
    SubscriptionFactory(customer=customer, units=Decimal(3), price_per_unit=Decimal("10.005"))
    CustomerFactory(name="Claims division", kind="internal")
    client.force_login(viewer)
    url = reverse("portfolio:customer_list")

    rows = csv_rows(client.get(url, {"kind": "external", "export": "csv"}))
    header = rows[0]
    assert header[:3] == ["Name", "Kind", "Segment"]
    assert "Annual revenue (EUR)" in header
    assert len(rows) == 2
    record = dict(zip(header, rows[1], strict=True))
    assert record["Name"] == "Fleet operators"
    assert record["Subscriptions"] == "1"
    assert record["Annual revenue (EUR)"] == "360.18"  # 3 × 10.005 × 12 = 360.18, to the cent

    sheet = xlsx_rows(client.get(url, {"kind": "external", "export": "xlsx"}))
    header = list(sheet[0])
    record = dict(zip(header, sheet[1], strict=True))
    assert len(sheet) == 2
    assert isinstance(record["Subscriptions"], int)
    assert isinstance(record["Annual revenue (EUR)"], int | float)
    assert record["Annual revenue (EUR)"] == pytest.approx(360.18)


def test_customer_revenue_leaves_out_subscriptions_not_yet_started(customer):
    SubscriptionFactory(customer=customer)  # 1,500 EUR a year, since 2024
    SubscriptionFactory(customer=customer, start_date=datetime.date(2999, 1, 1))
    annotated = selectors.customers_with_revenue(Customer.objects.filter(pk=customer.pk)).get()
    assert annotated.subscription_count == 1
    assert annotated.annual_revenue == Decimal(1500)


def test_customer_page_counts_only_subscriptions_in_force(client, viewer, customer):
    SubscriptionFactory(customer=customer, service=ServiceFactory(name="Claims intake"))
    SubscriptionFactory(
        customer=customer,
        service=ServiceFactory(name="Fraud screening"),
        annual_charge=Decimal(7000),
        start_date=datetime.date(2999, 1, 1),
    )
    SubscriptionFactory(
        customer=customer,
        service=ServiceFactory(name="Policy archive"),
        annual_charge=Decimal(9000),
        end_date=datetime.date(2024, 6, 30),
    )
    client.force_login(viewer)
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "Annual revenue from current subscriptions:\n    <strong>1,500.00 EUR</strong>" in body
    assert body.count("not yet started") == 1
    assert body.count("past end date") == 1


def test_customer_page_shows_subscriptions_outcomes_and_flags_unmeasured(
    client, viewer, customer, subscription, outcome
):
    OutcomeFactory(subscription=subscription, statement="Nobody chases us", metric="", target=None)
    client.force_login(viewer)
    body = client.get(customer.get_absolute_url()).content.decode()
    assert "Online claims" in body
    assert outcome.statement in body
    assert "not yet an SCO" in body
    assert "1,500.00 EUR" in body
    # A viewer gets no editing controls.
    assert reverse("portfolio:subscription_add", args=[customer.slug]) not in body
    assert reverse("portfolio:outcome_edit", args=[customer.slug, outcome.pk]) not in body


def test_subscription_added_in_place_with_htmx(client, service_owner, customer, service):
    client.force_login(service_owner)
    url = reverse("portfolio:subscription_add", args=[customer.slug])

    form = client.get(url, **HTMX)
    assert form.status_code == 200 and is_partial(form)
    assert 'id="subscriptions"' in form.content.decode()
    assert 'hx-get="/pick/service/"' in form.content.decode()

    response = client.post(url, subscription_data(service), **HTMX)
    assert response.status_code == 200 and is_partial(response)
    subscription = customer.subscriptions.get()
    assert (subscription.units, subscription.unit_name) == (20, "vehicle")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="subscriptions"')
    assert f'id="subscription-{subscription.pk}"' in body
    assert "1,200.00 EUR" in body  # 20 × 5 × 12


def test_subscription_bad_input_answers_422_with_errors_and_saves_nothing(
    client, service_owner, customer, service
):
    client.force_login(service_owner)
    url = reverse("portfolio:subscription_add", args=[customer.slug])
    response = client.post(url, subscription_data(service, price_per_unit=""), **HTMX)
    assert response.status_code == 422 and is_partial(response)
    body = response.content.decode()
    assert 'id="id_price_per_unit_error"' in body
    assert "Give a price per unit or an annual charge." in body

    response = client.post(url, subscription_data(service, end_date="2024-12-31"), **HTMX)
    assert response.status_code == 422
    assert 'id="id_end_date_error"' in response.content.decode()
    assert not Subscription.objects.exists()

    unknown = client.post(url, {**subscription_data(service), "service": "no-such-service"})
    assert unknown.status_code == 422
    assert "No service named" in unknown.content.decode()
    assert not is_partial(unknown)  # without htmx: the form on a page of its own
    assert not Subscription.objects.exists()


def test_subscription_edit_keeps_the_service(client, service_owner, subscription):
    client.force_login(service_owner)
    url = reverse("portfolio:subscription_edit", args=[subscription.customer.slug, subscription.pk])
    other = ServiceFactory()
    response = client.post(url, subscription_data(other, units="12", annual_charge="900"), **HTMX)
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.service.name == "Online claims"
    assert subscription.annual_charge == 900


def test_subscription_remove_in_place_ends_one_with_outcomes(
    client, service_owner, customer, subscription, outcome
):
    client.force_login(service_owner)
    url = reverse("portfolio:subscription_remove", args=[customer.slug, subscription.pk])
    response = client.post(url, **HTMX)
    assert response.status_code == 200 and is_partial(response)
    subscription.refresh_from_db()
    assert subscription.is_retired
    assert "ended" in response.content.decode()


def test_outcome_added_and_edited_in_place_with_htmx(client, service_owner, customer, subscription):
    item = SpecificationItemFactory(service=subscription.service, title="Register a claim")
    SpecificationItemFactory(title="Item of another service")
    client.force_login(service_owner)
    add_url = reverse("portfolio:outcome_add", args=[customer.slug, subscription.pk])

    form = client.get(add_url, **HTMX).content.decode()
    assert "Register a claim" in form
    assert "Item of another service" not in form

    response = client.post(
        add_url, {**OUTCOME_DATA, "metric": "", "target": "", "unit": ""}, **HTMX
    )
    assert response.status_code == 200 and is_partial(response)
    assert (
        response.content.decode()
        .lstrip()
        .startswith(f'<article id="subscription-{subscription.pk}"')
    )
    assert "not yet an SCO" in response.content.decode()
    outcome = subscription.outcomes.get()

    edit_url = reverse("portfolio:outcome_edit", args=[customer.slug, outcome.pk])
    response = client.post(
        edit_url, {**OUTCOME_DATA, "specification_item": item.pk, "agreement": "agreed"}, **HTMX
    )
    assert response.status_code == 200
    outcome.refresh_from_db()
    assert outcome.is_measurable and outcome.specification_item == item
    assert "not yet an SCO" not in response.content.decode()


def test_outcome_bad_input_answers_422(client, service_owner, customer, subscription):
    foreign = SpecificationItemFactory()
    client.force_login(service_owner)
    url = reverse("portfolio:outcome_add", args=[customer.slug, subscription.pk])
    response = client.post(
        url, {**OUTCOME_DATA, "statement": "", "specification_item": foreign.pk}, **HTMX
    )
    assert response.status_code == 422 and is_partial(response)
    body = response.content.decode()
    assert 'id="id_statement_error"' in body
    assert 'id="id_specification_item_error"' in body
    assert not Outcome.objects.exists()


def test_customer_remove_retires_a_customer_with_subscriptions(
    client, portfolio_manager, customer, subscription
):
    client.force_login(portfolio_manager)
    response = client.post(reverse("portfolio:customer_delete", args=[customer.slug]))
    assert response.status_code == 302
    assert response.url == customer.get_absolute_url()
    customer.refresh_from_db()
    assert customer.is_retired
    assert "Retired" in client.get(customer.get_absolute_url()).content.decode()


def test_customer_remove_deletes_an_unreferenced_customer(client, portfolio_manager, customer):
    client.force_login(portfolio_manager)
    response = client.post(reverse("portfolio:customer_delete", args=[customer.slug]))
    assert response.url == reverse("portfolio:customer_list")
    assert not Customer.objects.exists()


def test_customer_create_bad_input_answers_422(client, portfolio_manager):
    client.force_login(portfolio_manager)
    response = client.post(reverse("portfolio:customer_add"), {"name": "", "kind": "x"}, **HTMX)
    assert response.status_code == 422 and is_partial(response)
    body = response.content.decode()
    assert 'id="id_name_error"' in body and 'id="id_kind_error"' in body
    assert not Customer.objects.exists()


def test_subscription_add_works_without_javascript(client, service_owner, customer, service):
    client.force_login(service_owner)
    url = reverse("portfolio:subscription_add", args=[customer.slug])
    page = client.get(url)
    assert page.status_code == 200 and not is_partial(page)
    assert f'action="{url}"' in page.content.decode()
    response = client.post(url, subscription_data(service))
    subscription = customer.subscriptions.get()
    assert response.status_code == 302
    assert response.url == f"{customer.get_absolute_url()}#subscription-{subscription.pk}"
