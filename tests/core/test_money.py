"""Money is shown by one rule (core.money.format_amount): the cent, half to even, once. A tie
such as 0.125 reads 0.12 on every page, in every list export and in the e-mailed report; the
templates' old floatformat rounded it half up (0.13) while the files said 0.12."""

import csv
import email
import email.policy
import io
import re
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.template import Context
from django.template import Template
from django.urls import reverse
from openpyxl import load_workbook

from core.money import format_amount
from core.money import format_percent
from finance import reports
from finance import services
from finance.choices import ReportOutcome
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("0.125"), "0.12"),  # half to even: down to the even cent
        (Decimal("0.135"), "0.14"),  # and up to it
        (Decimal("2.675"), "2.68"),
        (Decimal("2.665"), "2.66"),
        (2.675, "2.68"),  # a float by its shortest form, not 2.67499999…
        (Decimal("1234567.125"), "1,234,567.12"),
        (Decimal("-1234.5"), "-1,234.50"),
        (Decimal("-0.004"), "0.00"),  # no minus sign on a figure that shows as zero
        (Decimal("1E+2"), "100.00"),
        (7, "7.00"),
        ("3.005", "3.00"),
        (Decimal("123456789012345678901234567.891"), "123,456,789,012,345,678,901,234,567.89"),
    ],
)
def test_format_amount_rounds_half_to_even_to_the_cent_with_grouping(amount, shown):
    assert format_amount(amount) == shown


def test_format_amount_takes_a_currency_decimals_and_no_grouping():
    assert format_amount(Decimal("1234.565"), "EUR") == "1,234.56 EUR"
    assert format_amount(Decimal("33.35"), places=1) == "33.4"
    assert format_amount(Decimal("33.25"), places=1) == "33.2"
    assert format_amount(Decimal("1234.565"), grouping=False) == "1234.56"
    assert format_amount(None) == "" and format_amount(None, "EUR") == ""
    with pytest.raises(ValueError):
        format_amount("twelve")
    with pytest.raises(ValueError):
        format_amount(Decimal("NaN"))


def test_amount_filter_shows_what_format_amount_does():
    template = Template(
        "{% load portico %}{{ a|amount }}|{{ a|amount:'EUR' }}|{{ a|amount:1 }}|{{ none|amount }}"
        "|{{ text|amount }}"
    )
    shown = template.render(Context({"a": Decimal("1234.125"), "none": None, "text": "n/a"}))
    assert shown == "1,234.12|1,234.12 EUR|1,234.1||"


def test_templates_show_figures_by_the_one_rule_only():
    """floatformat rounds half up and intcomma groups on its own: neither is left."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\|\s*(floatformat|intcomma)\b", line)
    ]
    assert offenders == []


def test_a_ratio_shows_as_one_percentage_on_pages_and_in_tables():
    """widthratio rounded the float 29.499…: 0.295 read 29% on a statement page and 30% in
    the statements list."""
    ratio = Decimal("0.2950")
    page = Template("{% load portico %}{{ r|percent }}|{{ none|percent }}|{{ text|percent }}")
    assert page.render(Context({"r": ratio, "none": None, "text": "n/a"})) == "30%||"
    assert format_percent(ratio) == "30%"
    assert format_percent(Decimal("1.2")) == "120%"
    assert format_percent(Decimal("-0.004")) == "0%"


def test_templates_show_ratios_by_the_one_rule_only():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "widthratio" in line and "recovery_ratio" in line
    ]
    assert offenders == []


# --- Pages and files agree on a tie ----------------------------------------------------------


def cell_texts(html: str, row_id_text: str) -> list[str]:
    """The cells of the table row that mentions ``row_id_text``, as text."""
    row = next(r for r in re.findall(r"<tr.*?</tr>", html, re.S) if row_id_text in r)
    return [re.sub(r"<[^>]+>", " ", cell).split() for cell in re.findall(r"<td.*?</td>", row, re.S)]


@pytest.mark.django_db
def test_a_tie_shows_the_same_cents_in_the_customer_list_and_its_exports(client):
    # 0.5 × 0.0075 × 12 = 0.045 and 0.25 × 0.8950 × 12 = 2.685 a year: ties at the cent.
    even_down = CustomerFactory(name="Even down")
    SubscriptionFactory(customer=even_down, units=Decimal("0.5"), price_per_unit=Decimal("0.0075"))
    SubscriptionFactory(
        customer=CustomerFactory(name="Even up"), units=Decimal("0.25"),
        price_per_unit=Decimal("0.8950"),
    )  # fmt: skip
    client.force_login(UserFactory(role="Viewer"))
    url = reverse("portfolio:customer_list")

    page = client.get(url).content.decode()
    assert ["0.04"] in cell_texts(page, "Even down")
    assert ["2.68"] in cell_texts(page, "Even up")
    detail = client.get(even_down.get_absolute_url()).content.decode()
    assert "<strong>0.04 EUR</strong>" in detail  # the customer's annual revenue

    exported = client.get(url, {"export": "csv"}).content.decode()
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported))}
    header = next(iter(rows.values()))
    column = next(i for i, title in enumerate(header) if title.startswith("Annual revenue"))
    assert rows["Even down"][column] == "0.04"
    assert rows["Even up"][column] == "2.68"

    workbook = load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content))
    cells = {row[0]: row[column] for row in workbook.active.iter_rows(values_only=True)}
    assert Decimal(str(cells["Even down"])) == Decimal("0.04")
    assert Decimal(str(cells["Even up"])) == Decimal("2.68")


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free loopback port, with Django's SMTP backend pointed at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


@pytest.mark.django_db
def test_a_tie_shows_the_same_cents_on_the_pages_and_in_the_emailed_report(client, smtp):
    """Unit cost is TCO ÷ units, stored to four places: 0.50 ÷ 4 = 0.125 and 10.66 ÷ 4 =
    2.665 are ties; 10.70 ÷ 4 = 2.675 is one that both rules round up; 25.01 ÷ 200 = 0.12505
    is stored as 0.1250, which the report must not round from 0.12505 again."""
    march = PeriodFactory(year=2025, month=3)
    expected = {}
    for name, cost, units, cents in (
        ("Tie down", "0.50", 4, "0.12"),
        ("Tie down again", "10.66", 4, "2.66"),
        ("Tie up", "10.70", 4, "2.68"),
        ("Stored to four places", "25.01", 200, "0.12"),
    ):
        service = ServiceFactory(name=name)
        CostItemFactory(period=march, service=service, amount=Decimal(cost))
        SubscriptionFactory(service=service, units=Decimal(units), unit_name="claim")
        expected[name] = (service, cents)
    services.close_period(period=march)
    client.force_login(UserFactory(role="Viewer"))

    fund_services = client.get(reverse("finance:overview"), {"period": "2025-03"})
    page = fund_services.content.decode()
    for name, (service, cents) in expected.items():
        assert [cents, "per", "claim"] in cell_texts(page, f">{name}</a>")
        service_page = client.get(service.get_absolute_url()).content.decode()
        assert f"<dt>Unit cost</dt><dd>{cents} per claim" in service_page

    definition = ReportDefinitionFactory(name="Ties", formats=["csv", "xlsx"])
    report = services.run_report(definition, period="2025-03")
    assert report.outcome == ReportOutcome.SUCCEEDED, report.error
    attachments = {
        part.get_filename(): part.get_payload(decode=True)
        for part in smtp.messages[0].iter_attachments()
    }
    table = list(csv.DictReader(io.StringIO(attachments["ties-2025-03.csv"].decode())))
    assert {row["Service"]: row["Unit cost"] for row in table} == {
        name: cents for name, (_, cents) in expected.items()
    }
    sheet = load_workbook(io.BytesIO(attachments["ties-2025-03.xlsx"]))["TCO by service"]
    headers = [cell.value for cell in sheet[reports.HEADER_ROW]]
    unit_cost = headers.index("Unit cost")
    rows = sheet.iter_rows(min_row=reports.HEADER_ROW + 1, values_only=True)
    shown = {row[0]: Decimal(str(row[unit_cost])) for row in rows if row[0] in expected}
    assert shown == {name: Decimal(cents) for name, (_, cents) in expected.items()}


@pytest.mark.django_db
def test_the_value_stream_page_shows_its_cost_by_the_money_rule(client):
    from finance.models import StageCost
    from tests.factories.finance import TcoResultFactory
    from tests.factories.finance import ValueStreamCostFactory
    from tests.factories.valuestreams import StageServiceFactory

    service = ServiceFactory(name="Claims")
    march = PeriodFactory(year=2025, month=3)
    TcoResultFactory(service=service, period=march, kept=Decimal("1234.5"))
    stream_cost = ValueStreamCostFactory(period=march, cost=Decimal("1234.5"))
    stage = StageCost.objects.get(stream_cost=stream_cost).stage
    StageServiceFactory(stage=stage, service=service)
    client.force_login(UserFactory(role="Viewer"))

    page = client.get(stage.value_stream.get_absolute_url()).content.decode()
    assert '<dd data-measure="cost">1,234.50 EUR <small>(2025-03)</small></dd>' in page
    assert "cost 1,234.50 EUR (2025-03)" in page
    assert ">Services · cost 1,234.50 EUR</text>" in page  # the map
