"""A demo customer's service review pack lists exactly its subscribed services and reconciles
with the API: the same services as its subscriptions in force, the same figures as the
measurements, the same charges and cost to serve as its statements."""

from decimal import Decimal

import pytest

from core.api.tokens import issue_token
from finance import services
from finance.choices import ReportOutcome
from finance.models import CustomerStatement
from finance.models import ReportDefinition
from finance.models import serial_label
from finance.selectors import review_packs
from finance.selectors.statements import current_statements
from finance.services.report_spans import parse_report_period
from portfolio.models import Customer
from tests.api.conftest import ApiClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def every_page(api, url: str) -> list[dict]:
    rows, page = [], api.get(url).json()
    rows += page["results"]
    while page.get("next"):
        page = api.get(page["next"]).json()
        rows += page["results"]
    return rows


def test_a_demo_customers_pack_reconciles_with_the_api(demo):
    latest = current_statements().order_by("-period__serial").first()
    assert latest is not None, "the demo closes months with statements"
    span = parse_report_period(serial_label(latest.period.serial))
    customer = Customer.objects.get(pk=latest.customer_id)
    pack = review_packs.review_pack(customer=customer, span=span)
    assert pack.services, "the demo customer subscribes to services"

    manager = UserFactory(role="Portfolio manager", username="pack-reader")
    api = ApiClient(issue_token(user=manager, name="tests", write=False)[1])
    last_day = pack.last_day.isoformat()
    subscriptions = every_page(api, f"/api/v1/subscriptions/?customer={customer.pk}&retired=false")
    in_force = {
        row["service"]["id"]
        for row in subscriptions
        if row["start_date"] <= last_day
        and (row["end_date"] is None or row["end_date"] >= last_day)
    }
    assert sorted(review.service.pk for review in pack.services) == sorted(in_force)

    for review in pack.services:
        for quadrant in review.quadrants:
            for entry in quadrant.items:
                if not entry.figures:
                    continue
                rows = every_page(
                    api,
                    f"/api/v1/measurements/?item={entry.item.pk}"
                    f"&ended_from={pack.first_day}&ended_to={last_day}",
                )
                assert [Decimal(row["value"]) for row in rows] == [f.value for f in entry.figures]
                assert [row["met"] for row in rows] == [f.met for f in entry.figures]

    statements = every_page(
        api, f"/api/v1/customer-statements/?customer={customer.pk}&current=true"
    )
    in_span = [
        row
        for row in statements
        if CustomerStatement.objects.get(pk=row["id"]).period.serial in span.serials
    ]
    assert pack.charge == sum((Decimal(row["revenue"]) for row in in_span), Decimal(0))
    assert pack.cost_to_serve == sum((Decimal(row["cost_to_serve"]) for row in in_span), Decimal(0))


def test_the_demo_review_report_mails_each_relationship_manager_once(demo, mailoutbox):
    definition = ReportDefinition.objects.get(name="Monthly service reviews")
    run = services.run_report(definition)
    assert run.outcome == ReportOutcome.SUCCEEDED, run.error
    span = parse_report_period(run.period_key)
    customers = review_packs.customers_in_force(span)
    managers = {
        c.relationship_manager.email
        for c in customers
        if c.relationship_manager and c.relationship_manager.email
    }
    assert len(managers) >= 2
    expected = sorted(managers | (set(definition.recipients) if any(
        not (c.relationship_manager and c.relationship_manager.email) for c in customers
    ) else set()))  # fmt: skip
    assert sorted(m.to[0] for m in mailoutbox) == expected
    assert all(len(m.to) == 1 for m in mailoutbox)
    again = services.run_report(definition)
    assert "not e-mailed again" in again.note and len(mailoutbox) == len(expected)
