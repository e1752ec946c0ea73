"""Service ownership: a customer-facing service is owned by the owner of the value stream that
delivers it to an external customer."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from portfolio.choices import CustomerKind
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from tests.factories import UserFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors
from valuestreams.choices import Experience


@pytest.fixture
def people(db):
    return {
        "vera": UserFactory(username="vera-test", role="Value-stream owner"),
        "walter": UserFactory(username="walter-test", role="Value-stream owner"),
        "alice": UserFactory(username="alice-test", role="Service owner"),
    }


@pytest.fixture
def portfolio(people):
    external = CustomerFactory(kind=CustomerKind.EXTERNAL)
    internal = CustomerFactory(kind=CustomerKind.INTERNAL)
    claims = ValueStreamFactory(name="Settle a claim", owner=people["vera"], customer=external)
    hiring = ValueStreamFactory(
        name="Hire an adjuster",
        owner=people["walter"],
        customer=internal,
        experience=Experience.EMPLOYEE,
    )
    online = ServiceFactory(name="Online claims", owner=people["vera"])
    contact = ServiceFactory(name="Contact centre", owner=people["alice"])
    payroll = ServiceFactory(name="Payroll", owner=people["alice"])
    unused = ServiceFactory(name="Travel assistance", owner=people["alice"])
    supporting = ServiceFactory(name="Hosting", kind=ServiceKind.SUPPORTING)
    StageFactory(value_stream=claims, name="Report the claim", services=[online, contact])
    StageFactory(value_stream=claims, name="Host the portal", services=[supporting])
    StageFactory(value_stream=hiring, name="Pay the adjuster", services=[payroll])
    return {
        "claims": claims,
        "hiring": hiring,
        "online": online,
        "contact": contact,
        "payroll": payroll,
        "unused": unused,
        "supporting": supporting,
    }


def rows_by_service(user):
    return {row.service.name: row for row in selectors.service_ownership(user=user)}


@pytest.mark.django_db
def test_ownership_lists_customer_facing_services_with_their_streams(portfolio, viewer):
    rows = rows_by_service(viewer)
    assert set(rows) == {"Online claims", "Contact centre", "Payroll", "Travel assistance"}
    assert rows["Online claims"].streams == [portfolio["claims"]]
    assert rows["Payroll"].streams == [portfolio["hiring"]]
    assert rows["Travel assistance"].streams == []


@pytest.mark.django_db
def test_a_service_owned_by_someone_else_than_the_stream_owner_is_misplaced(portfolio, viewer):
    rows = rows_by_service(viewer)
    assert not rows["Online claims"].misplaced
    assert rows["Contact centre"].misplaced
    assert rows["Contact centre"].accountable_candidates == [portfolio["claims"].owner]
    # Delivered to an internal customer only: IT may own it.
    assert not rows["Payroll"].misplaced
    assert not rows["Travel assistance"].misplaced
    assert [row.service for row in selectors.misplaced_service_owners(user=viewer)] == [
        portfolio["contact"]
    ]


@pytest.mark.django_db
def test_a_stream_without_a_portfolio_customer_is_external_when_it_maps_the_customer(
    people, viewer
):
    stream = ValueStreamFactory(owner=people["walter"], customer=None, segment="Retail")
    service = ServiceFactory(owner=people["alice"])
    StageFactory(value_stream=stream, services=[service])
    assert rows_by_service(viewer)[service.name].misplaced
    stream.experience = Experience.EMPLOYEE
    stream.save()
    assert not rows_by_service(viewer)[service.name].misplaced


@pytest.mark.django_db
def test_future_states_and_retired_streams_do_not_decide_ownership(portfolio, people, viewer):
    future = ValueStreamFactory(
        owner=people["walter"], state="future", current_state=portfolio["claims"]
    )
    StageFactory(value_stream=future, services=[portfolio["online"]])
    assert rows_by_service(viewer)["Online claims"].streams == [portfolio["claims"]]
    assert not rows_by_service(viewer)["Online claims"].misplaced


@pytest.mark.django_db
def test_a_service_shared_by_two_owners_streams_is_misplaced_when_owned_by_neither(
    portfolio, people, viewer
):
    other = ValueStreamFactory(name="Buy a policy", owner=people["walter"])
    StageFactory(value_stream=other, services=[portfolio["contact"]])
    row = rows_by_service(viewer)["Contact centre"]
    assert row.misplaced
    assert set(row.accountable_candidates) == {people["vera"], people["walter"]}
    assert not rows_by_service(viewer)["Online claims"].misplaced


@pytest.mark.django_db
def test_retired_services_are_left_out(portfolio, viewer):
    portfolio["contact"].lifecycle = ServiceLifecycle.RETIRED
    portfolio["contact"].save()
    assert "Contact centre" not in rows_by_service(viewer)


@pytest.mark.django_db
def test_ownership_report_page_shows_the_misplaced_owner_and_the_four_steps(
    client, portfolio, viewer, django_assert_max_num_queries
):
    client.force_login(viewer)
    with django_assert_max_num_queries(12) as few:
        response = client.get(reverse("valuestreams:ownership_report"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="misplaced-contact-centre"' in body
    assert 'id="misplaced-online-claims"' not in body
    for step in selectors.RESOLUTION_STEPS:
        assert escape(step) in body
    for _ in range(10):
        stream = ValueStreamFactory(owner=portfolio["claims"].owner)
        StageFactory(value_stream=stream, services=[ServiceFactory(), portfolio["contact"]])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("valuestreams:ownership_report"))


@pytest.mark.django_db
def test_service_panel_lists_the_streams_and_stages_a_service_underpins(
    client, portfolio, viewer, django_assert_max_num_queries
):
    from valuestreams.views import service_panel_context

    request = type("Request", (), {"user": viewer})()
    with django_assert_max_num_queries(4) as few:
        context = service_panel_context(request, portfolio["contact"])
    assert [use.value_stream for use in context["uses"]] == [portfolio["claims"]]
    assert [stage.name for stage in context["uses"][0].stages] == ["Report the claim"]
    assert context["misplaced"] is True
    assert context["candidates"] == [portfolio["claims"].owner]

    for _ in range(8):
        stream = ValueStreamFactory(owner=portfolio["claims"].owner)
        for _ in range(3):
            StageFactory(value_stream=stream, services=[portfolio["contact"]])
    viewer = type(viewer).objects.get(pk=viewer.pk)  # a fresh permission cache
    request = type("Request", (), {"user": viewer})()
    with django_assert_max_num_queries(len(few.captured_queries)):
        context = service_panel_context(request, portfolio["contact"])
    assert len(context["uses"]) == 9


@pytest.mark.django_db
def test_the_value_streams_panel_is_registered_for_the_service_page(portfolio, viewer):
    from django.template.loader import render_to_string

    from core import panels

    registered = [
        panel
        for panel in panels._panels["service"]
        if panel.template_name == "valuestreams/inc/service_panel.html"
    ]
    assert [panel.title for panel in registered] == ["Value streams"]
    request = type("Request", (), {"user": viewer})()
    html = render_to_string(
        registered[0].template_name,
        {"panel_context": registered[0].context(request, portfolio["contact"])},
    )
    assert "Settle a claim" in html and "Report the claim" in html
    assert "not the owner of a value stream" in html
