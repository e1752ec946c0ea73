"""What every list shares, whichever records it shows: the empty choice of its filters reads
"Any", it says how many rows it has, people appear and are offered by name, names sort in
natural order in the database (so every page is in order), numbers are written with thousands
separators and no trailing zeros, counts of units agree in number, and its XLSX export holds
dates as dates with an autofilter on every sheet."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db import transaction
from django.template import Context
from django.template import Template
from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import get_resolver
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl import load_workbook

from core.exports import workbook_bytes
from core.generic import ObjectListView
from core.money import format_amount
from core.money import format_count
from core.money import format_number
from core.money import format_units
from core.money import plural_noun
from core.tables import ListData
from finance import services as finance_services
from finance.choices import ReportOutcome
from portfolio.models import Service
from portfolio.tables import ServiceTable
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory


def list_urls(resolver=None, prefix="") -> list[str]:
    """The address of every list page (an ObjectListView) that takes no argument."""
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            found += list_urls(pattern, f"{prefix}{namespace}:" if namespace else prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            view = getattr(pattern.callback, "view_class", None)
            if view and issubclass(view, ObjectListView) and not pattern.pattern.converters:
                found.append(reverse(prefix + pattern.name))
    return found


@pytest.fixture
def admin(db):
    return UserFactory(username="list-admin", is_superuser=True, is_staff=True)


# --- Numbers, counts and units ----------------------------------------------------------------


def test_numbers_have_thousands_separators_and_no_trailing_zeros():
    assert format_number(Decimal("99.5000")) == "99.5"
    assert format_number(Decimal("9E+1")) == "90"
    assert format_number(Decimal("1234567.1250")) == "1,234,567.125"
    assert format_number(Decimal("-1500.10")) == "-1,500.1"
    assert format_number(Decimal("-0.000")) == "0"
    assert format_number(12345) == "12,345"
    assert format_number(None) == ""
    assert format_number(Decimal("1234.50"), grouping=False) == "1234.5"  # a form's value
    assert format_amount(Decimal("99.5")) == "99.50"  # money keeps its cents


def test_the_template_filter_writes_numbers_the_same_way():
    template = Template("{% load portico %}{{ x|plain_number }} · {{ y|plain_number }}")
    assert template.render(Context({"x": Decimal("1234.5000"), "y": None})) == "1,234.5 · "


def test_counts_and_units_agree_in_number():
    assert format_count(1, "service", "services") == "1 service"
    assert format_count(1234, "service", "services") == "1,234 services"
    assert format_count(0, "service", "services") == "0 services"
    assert [plural_noun(n) for n in ("user", "policy", "day", "mailbox", "app user", "users")] == [
        "users",
        "policies",
        "days",
        "mailboxes",
        "app users",
        "users",
    ]
    assert format_units(Decimal("1.0000"), "policy") == "1 policy"
    assert format_units(Decimal("412000.0000"), "policy") == "412,000 policies"
    assert format_units(Decimal("0.5"), "hour") == "0.5 hours"


# --- Every list page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_list_counts_its_rows_and_offers_any_as_the_empty_choice(client, admin):
    urls = list_urls()
    assert reverse("portfolio:service_list") in urls and len(urls) >= 20
    client.force_login(admin)
    for url in urls:
        page = client.get(url).content.decode()
        assert re.search(r"data-result-count>\d[\d,]* \w", page), url
        selects = re.findall(r"<select[^>]*>\s*<option[^>]*>([^<]*)</option>", page)
        assert set(selects) <= {"Any"}, (url, selects)


@pytest.mark.django_db
def test_a_list_counts_every_page_of_its_rows(client, admin):
    for number in range(3):
        ServiceFactory(name=f"Counted {number}", slug=f"counted-{number}")
    client.force_login(admin)
    page = client.get(reverse("portfolio:service_list"), {"per_page": 2}).content.decode()
    assert "data-result-count>3 services</p>" in page
    assert "Page 1 of 2" in page
    page = client.get(reverse("portfolio:service_list"), {"q": "Counted 1"}).content.decode()
    assert "data-result-count>1 service</p>" in page


@pytest.mark.django_db
def test_owners_show_by_name_and_the_owner_filter_offers_them_sorted_by_name(client, admin):
    nameless = UserFactory(username="aaa-nameless", first_name="", last_name="")
    zoe = UserFactory(username="a-zoe", first_name="Zoë", last_name="Young")
    bob = UserFactory(username="z-bob", first_name="Bob", last_name="Brown")
    for number, owner in enumerate((nameless, zoe, bob)):
        ServiceFactory(name=f"Owned {number}", slug=f"owned-{number}", owner=owner)
    client.force_login(admin)
    page = client.get(reverse("portfolio:service_list")).content.decode()
    owner_filter = re.search(r'<select name="owner"[^>]*>(.*?)</select>', page, re.S)[1]
    offered = re.findall(r"<option[^>]*>([^<]*)</option>", owner_filter)
    assert offered == ["Any", "aaa-nameless", "Bob Brown", "Zoë Young"]
    # The column shows the name and sorts by it, not by username or id.
    page = client.get(reverse("portfolio:service_list"), {"sort": "owner"}).content.decode()
    rows = page[page.index("<table") :]
    shown = [name for name in ("aaa-nameless", "Bob Brown", "Zoë Young") if name in rows]
    assert shown == ["aaa-nameless", "Bob Brown", "Zoë Young"]
    assert sorted(shown, key=rows.index) == shown
    assert "a-zoe" not in rows and "z-bob" not in rows


# --- Natural order ----------------------------------------------------------------------------

NAMES = ["service 10", "Service 1", "alpha", "service 2", "Beta"]
IN_ORDER = ["alpha", "Beta", "Service 1", "service 2", "service 10"]


@pytest.fixture
def numbered_services(db):
    for number, name in enumerate(NAMES):
        ServiceFactory(name=name, slug=f"numbered-{number}")


def names_on(client, **query) -> list[str]:
    page = client.get(reverse("portfolio:service_list"), query).content.decode()
    links = re.findall(r'<a href="/services/numbered-\d+/">([^<]*)</a>', page)
    return links


@pytest.mark.django_db
def test_names_sort_in_natural_order_across_pages(client, admin, numbered_services):
    client.force_login(admin)
    pages = [names_on(client, per_page=2, page=n) for n in (1, 2, 3)]
    assert [name for page in pages for name in page] == IN_ORDER
    backwards = [names_on(client, per_page=2, page=n, sort="-name") for n in (1, 2, 3)]
    assert [name for page in backwards for name in page] == IN_ORDER[::-1]


@pytest.mark.django_db
def test_the_natural_order_is_the_databases(numbered_services):
    table = ServiceTable(ListData(Service.objects.all()), order_by=("name",))
    assert [row.record.name for row in table.rows] == IN_ORDER
    assert "natural_sort_key" in str(table.data.data.query)


@pytest.mark.django_db
def test_a_page_of_services_by_name_can_be_read_from_the_natural_index(numbered_services):
    table = ServiceTable(ListData(Service.objects.all()), order_by=("name",))
    sql, params = table.data.data[:50].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is small enough to sort whole: ask whether the index *can* give the
        # order, not what the planner prefers on a few rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "service_name_natural" in plan, plan


# --- XLSX exports -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_exports_hold_dates_as_dates_under_an_autofilter(client, admin):
    ServiceFactory(name="Dated", slug="dated", live_on=datetime.date(2024, 3, 1))
    ServiceFactory(name="Undated", slug="undated", live_on=None)
    client.force_login(admin)
    response = client.get(reverse("portfolio:service_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(headers)).column_letter}3"
    dated = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "Dated")
    live = dated[headers.index("Live since")]
    assert live.value == datetime.datetime(2024, 3, 1) and live.is_date
    assert "yy" in live.number_format
    updated = dated[headers.index("Updated")]
    assert isinstance(updated.value, datetime.datetime) and updated.is_date
    local_day = timezone.localdate(Service.objects.get(slug="dated").updated_at)
    assert updated.value.date() == local_day
    # CSV writes the same dates as text a spreadsheet reads as dates.
    csv = client.get(reverse("portfolio:service_list"), {"export": "csv"}).content.decode()
    assert "2024-03-01" in csv


def test_every_sheet_gets_an_autofilter_over_its_first_table_and_no_formula():
    workbook = Workbook()
    plain = workbook.active
    plain.append(["Name", "Amount"])
    plain.append(["=1+1", 3])
    titled = workbook.create_sheet("Titled")
    titled.append(["A report"])
    titled.append([])
    titled.append(["Service", "Cost", "Day"])
    titled.append(["One", 1, datetime.date(2025, 1, 2)])
    titled.append(["Two", 2, None])
    titled.append([])
    titled.append(["Another table", "below"])
    titled.freeze_panes = "B4"

    reread = load_workbook(io.BytesIO(workbook_bytes(workbook)))
    assert reread.active.auto_filter.ref == "A1:B2"
    assert reread.active["A2"].value == "'=1+1"
    assert reread["Titled"].auto_filter.ref == "A3:C5"
    assert reread["Titled"]["C4"].is_date


@pytest.mark.django_db
def test_finance_report_sheets_each_filter_from_their_header_row():
    january = PeriodFactory(year=2025, month=1)
    CostItemFactory(period=january, service=ServiceFactory(name="Claims", slug="claims"))
    finance_services.close_period(period=january)
    run = finance_services.run_report(
        ReportDefinitionFactory(name="Monthly", formats=["xlsx"]), period="2025-01"
    )
    assert run.outcome == ReportOutcome.SUCCEEDED, run.error
    workbook = load_workbook(io.BytesIO(bytes(run.files.get(format="xlsx").content)))
    for sheet in workbook.worksheets:
        assert sheet.auto_filter.ref, sheet.title
    assert workbook["TCO by service"].auto_filter.ref.startswith("A4:")


@pytest.mark.django_db
def test_filters_offer_records_in_natural_order(client, admin):
    for number in (10, 9, 1):
        SupplierFactory(name=f"Supplier {number}", slug=f"supplier-{number}")
    client.force_login(admin)
    page = client.get(reverse("portfolio:contract_list")).content.decode()
    supplier_filter = re.search(r'<select name="supplier"[^>]*>(.*?)</select>', page, re.S)[1]
    offered = re.findall(r"<option[^>]*>([^<]*)</option>", supplier_filter)
    assert offered == ["Any", "Supplier 1", "Supplier 9", "Supplier 10"]


@pytest.mark.django_db
def test_the_natural_sort_key_orders_numbers_by_value_and_letters_without_case():
    names = ["service 10", "Service 3", "service 2", "alpha", "Alpha 1", "7 y", "007 x", "b1a"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS names(name) "
            'ORDER BY natural_sort_key(name) COLLATE "C", name COLLATE "C"',
            [names],
        )
        ordered = [row[0] for row in cursor.fetchall()]
    assert ordered == [
        "007 x",
        "7 y",
        "alpha",
        "Alpha 1",
        "b1a",
        "service 2",
        "Service 3",
        "service 10",
    ]
