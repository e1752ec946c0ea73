"""The demo's customer statements where people see them: the monthly statements report mails
each relationship manager once, the restated month shows what changed per customer, and the
Fund services views by customer and by value stream add up to the kept total in every month."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from finance import services
from finance.choices import ReportOutcome
from finance.models import CustomerStatement
from finance.models import Period
from finance.models import ReportDefinition
from finance.models import TcoResult
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_statements_report_mails_each_relationship_manager_once(demo, mailoutbox):
    definition = ReportDefinition.objects.get(name="Monthly customer statements")
    run = services.run_report(definition)
    assert run.outcome == ReportOutcome.SUCCEEDED, run.error
    period = Period.objects.get(year=int(run.period_key[:4]), month=int(run.period_key[5:]))
    statements = list(
        CustomerStatement.objects.filter(period=period, version=period.current_version)
        .select_related("customer__relationship_manager")
        .order_by("customer__name")
    )
    assert statements
    managers = {
        s.customer.relationship_manager.email
        for s in statements
        if s.customer.relationship_manager and s.customer.relationship_manager.email
    }
    unmanaged = [s for s in statements if not s.customer.relationship_manager]
    assert len(managers) >= 2  # the demo's customers have their managers
    expected = managers | ({"finance@example.org"} if unmanaged else set())
    addresses = [message.to[0] for message in mailoutbox]
    assert sorted(addresses) == sorted(expected)  # one message each
    total = Decimal(0)
    for message in mailoutbox:
        content = next(a[1] for a in message.attachments if a[0].endswith(".xlsx"))
        sheet = load_workbook(io.BytesIO(content))["Statements"]
        row = next(r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0] == "Total")
        cost = Decimal(str(row[5])).quantize(Decimal("0.01"))
        if message.to == ["finance@example.org"]:
            assert cost == sum(s.cost_to_serve for s in unmanaged)
        total += cost
    assert total == sum(s.cost_to_serve for s in statements)

    again = services.run_report(definition)
    assert again.outcome == ReportOutcome.SUCCEEDED
    assert len(mailoutbox) == len(expected)


def test_demo_restated_month_shows_the_difference_per_customer(demo, client):
    restated = Period.objects.get(current_version=2)
    client.force_login(UserFactory(username="demo-reader", role="Viewer"))
    listing = client.get(reverse("finance:statement_list"), {"period": restated.label})
    assert listing.status_code == 200
    assert "what version 2 changed against version 1, per customer" in listing.content.decode()
    statement = CustomerStatement.objects.filter(period=restated, version=2).first()
    assert statement is not None
    page = client.get(reverse("finance:statement_detail", args=[statement.pk]))
    assert "What version 2 changed against version 1" in page.content.decode()
    customer_page = client.get(statement.customer.get_absolute_url())
    assert 'id="statement"' in customer_page.content.decode()


def test_demo_fund_services_views_add_up_in_every_month(demo, client):
    client.force_login(UserFactory(username="demo-finance", role="Finance"))
    for period in Period.objects.filter(results__isnull=False).distinct():
        kept = sum(
            r.kept for r in TcoResult.objects.filter(period=period, version=period.current_version)
        )
        for view in ("customer", "stream"):
            response = client.get(
                reverse("finance:overview"), {"period": period.label, "view": view}
            )
            text = response.content.decode()
            assert response.status_code == 200
            assert "differs from" not in text, (period.label, view)
            assert f"{kept:,.2f}" in text, (period.label, view)
