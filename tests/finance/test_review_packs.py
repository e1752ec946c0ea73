"""The service review pack of a customer and a period: exactly its subscribed services, each
quadrant's items with their figures and met/missed, its outcomes' attainment, the charges and
cost to serve of its statements and the open improvements of those services, reconciled with
the API; as a page, an XLSX workbook and a PDF."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from finance.selectors import review_packs
from finance.services.report_spans import parse_report_period
from performance.models import Measurement
from performance.services import save_measurement
from portfolio import services as portfolio_services
from portfolio.choices import OutcomeAgreement
from portfolio.models import SpecificationItem
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.finance.statement_scenarios import make_statement_month
from valuestreams.choices import ImprovementStatus

pytestmark = pytest.mark.django_db

MARCH = parse_report_period("2025-03")


def make_review_month() -> dict:
    """The statements' March 2025 (statement_scenarios) with figures of a Claims item, an
    agreed outcome of Fleet's, an open and a rejected improvement, and a subscription of
    Fleet's that ended before March."""
    scenario = make_statement_month()
    claims, quotes = scenario["claims"], scenario["quotes"]
    uptime = portfolio_services.add_specification_item(
        item=SpecificationItem(
            service=claims,
            aspect="facility",
            dimension="functioning",
            title="Claims uptime",
            metric="availability",
            comparator="at_least",
            target=Decimal("99.5"),
            unit="%",
            window="month",
        )
    )
    SpecificationItemFactory(service=claims, title="Claims can be filed online")
    for start, end, value in (
        (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28), "99.9"),  # before March
        (datetime.date(2025, 3, 1), datetime.date(2025, 3, 15), "99.1"),
        (datetime.date(2025, 3, 16), datetime.date(2025, 3, 31), "99.8"),
    ):
        save_measurement(
            measurement=Measurement(item=uptime, start=start, end=end, value=Decimal(value))
        )
    fleet_claims = scenario["subscriptions"][1]
    OutcomeFactory(
        subscription=fleet_claims,
        statement="Our drivers file a claim in five minutes",
        agreement=OutcomeAgreement.AGREED,
    )
    ImprovementFactory(service=claims, title="Pre-fill the claim form")
    ImprovementFactory(service=quotes, title="Quote in one page", status=ImprovementStatus.REJECTED)
    # Ended before March: not in the pack.
    SubscriptionFactory(
        customer=scenario["fleet"],
        service=scenario["platform"],
        end_date=datetime.date(2025, 2, 28),
    )
    return scenario


@pytest.fixture
def month():
    return make_review_month()


def test_the_pack_reads_in_a_constant_number_of_queries(month, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):
        review_packs.review_pack(customer=month["fleet"], span=MARCH)


def test_the_page_and_its_files(client, month, viewer):
    client.force_login(viewer)
    url = reverse("finance:review_pack", args=["fleet"])
    page = client.get(url, {"period": "2025-03"})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-service="claims"' in body and 'data-service="quotes"' in body
    assert 'data-service="platform"' not in body
    assert "Claims uptime" in body and "99.1 missed" in body

    workbook = client.get(url, {"period": "2025-03", "format": "xlsx"})
    assert workbook["Content-Disposition"].endswith('service-review-fleet-2025-03.xlsx"')
    sheets = load_workbook(io.BytesIO(workbook.content))
    services = [row[2] for row in sheets["Services"].iter_rows(min_row=5, values_only=True)]
    assert services == ["Claims", "Quotes"]
    items = list(sheets["Items"].iter_rows(min_row=5, values_only=True))
    uptime = next(row for row in items if row[3] == "Claims uptime")
    assert (uptime[6], uptime[7], uptime[8]) == ("met", 1, 1)

    pdf = client.get(url, {"period": "2025-03", "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    assert client.get(url, {"period": "FY2025"}).status_code == 400
    assert client.get(url, {"period": "March"}).status_code == 400
    assert client.get(url, {"period": "2025-03", "format": "doc"}).status_code == 400
