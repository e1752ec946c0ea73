"""Several lists in Chromium, on a wide screen (1440 px) and a phone's (390 px): each says how
many rows it has, its filters' empty choice reads "Any" and no pill outline runs across the
filter labels, people show and are offered by name, names sort in natural order (the
"service 2" before the "service 10", page after page, both ways), and numbers read with
thousands separators and no trailing zeros."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import signed_in_context
from tests.factories import UserFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import DriverFactory
from tests.factories.finance import DriverQuantityFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
SERVICES = ["service 10", "Service 1", "service 2", "alpha"]
IN_ORDER = ["alpha", "Service 1", "service 2", "service 10"]


@pytest.fixture
def world():
    manager = UserFactory(
        username="chrome-manager", first_name="Mia", last_name="Manager", role="Portfolio manager"
    )
    owner = UserFactory(username="zz-owner", first_name="Ada", last_name="Owner")
    nameless = UserFactory(username="bo", first_name="", last_name="")
    services = [
        ServiceFactory(name=name, slug=f"listed-{number}", owner=(owner, nameless)[number % 2])
        for number, name in enumerate(SERVICES)
    ]
    for number in (10, 9):
        CustomerFactory(name=f"Customer {number}", slug=f"customer-{number}")
    supplier = SupplierFactory(name="Supplier 10", slug="supplier-10", owner=owner)
    SupplierFactory(name="Supplier 9", slug="supplier-9", owner=nameless)
    ContractFactory(supplier=supplier, owner=owner, annual_value=Decimal("1234567.50"))
    CostPoolFactory(name="Pool 10", slug="pool-10", owner=owner)
    CostPoolFactory(name="Pool 9", slug="pool-9")
    ValueStreamFactory(name="Stream 10", slug="stream-10", owner=owner)
    ValueStreamFactory(name="Stream 9", slug="stream-9", owner=nameless)
    DriverQuantityFactory(
        driver=DriverFactory(name="Seats", slug="seats"),
        period=PeriodFactory(year=2025, month=1),
        service=services[0],
        quantity=Decimal("12345.5000"),
    )
    return {"manager": manager}


@pytest.fixture(params=[WIDE, PHONE], ids=["1440px", "390px"])
def screen(request, browser, live_server, world):
    context, page = signed_in_context(
        browser, live_server, world["manager"].username, request.param
    )
    yield page, request.param
    context.close()


def open_list(page, live_server, name: str, query: str = ""):
    page.goto(f"{live_server.url}{reverse(name)}{query}")
    fold = page.locator("details.filters-fold")
    if fold.get_attribute("open") is None:  # folded on a phone
        fold.locator("summary").click()
    return page


def linked_names(page) -> list[str]:
    links = page.locator("#object-table tbody td:first-child a").all_inner_texts()
    return [text for text in links if text.strip()]  # not an icon's link


def test_lists_count_their_rows_and_share_their_filters_look(screen, live_server):
    page, viewport = screen
    lists = [
        ("portfolio:service_list", "4 services"),
        ("portfolio:customer_list", "2 customers"),
        ("portfolio:supplier_list", "2 suppliers"),
        ("portfolio:contract_list", "1 contract"),
        ("finance:pool_list", "2 cost pools"),
        ("valuestreams:valuestream_list", "2 value streams"),
        ("people:person_list", "3 people"),
    ]
    for name, count in lists:
        open_list(page, live_server, name)
        expect(page.locator("[data-result-count]")).to_have_text(count)
        selects = page.locator("form.filters select")
        assert selects.count(), name
        for index in range(selects.count()):
            first = selects.nth(index).locator("option").first
            assert first.inner_text() == "Any", (name, index)
        # No pill: Pico's search group (5rem corners, one outline around every label) is gone.
        form = page.locator("form.filters")
        assert form.evaluate("f => getComputedStyle(f).display") != "inline-flex", name
        label = page.locator("form.filters label").first
        assert label.evaluate("l => getComputedStyle(l).borderTopLeftRadius") in ("0px", ""), name
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name


def test_names_sort_naturally_page_after_page_and_people_show_by_name(screen, live_server):
    page, _ = screen
    open_list(page, live_server, "portfolio:service_list", "?per_page=2")
    shown = linked_names(page)
    page.get_by_role("link", name="Next").click()
    expect(page.locator("#object-table tbody tr")).to_have_count(2)
    expect(page.locator("#object-table tbody td:first-child a").first).to_have_text(IN_ORDER[2])
    shown += linked_names(page)
    assert shown == IN_ORDER

    # The header sorts the other way, still in natural order.
    open_list(page, live_server, "portfolio:service_list")
    page.locator("#object-table thead").get_by_role("link", name="Name").click()
    expect(page.locator("#object-table th[aria-sort=descending]")).to_have_count(1)
    assert linked_names(page) == IN_ORDER[::-1]

    # Owners by name in the column and in the filter, the filter's choices by name.
    owners = page.locator("select[name=owner] option").all_inner_texts()
    assert owners == ["Any", "Ada Owner", "bo"]
    expect(page.locator("#object-table tbody")).to_contain_text("Ada Owner")
    expect(page.locator("#object-table tbody")).not_to_contain_text("zz-owner")
    expect(page.locator("#object-table")).to_have_count(1)  # swapped, not nested
    page.locator("select[name=owner]").select_option(label="Ada Owner")
    expect(page.locator("[data-result-count]")).to_have_text("2 services")

    open_list(page, live_server, "valuestreams:valuestream_list")
    assert linked_names(page) == ["Stream 9", "Stream 10"]
    open_list(page, live_server, "portfolio:customer_list")
    assert linked_names(page) == ["Customer 9", "Customer 10"]


def test_numbers_read_with_separators_and_without_trailing_zeros(screen, live_server):
    page, _ = screen
    open_list(page, live_server, "finance:driverquantity_list")
    expect(page.locator("#object-table tbody")).to_contain_text("12,345.5")
    expect(page.locator("#object-table tbody")).not_to_contain_text("12345.5000")
    open_list(page, live_server, "portfolio:contract_list")
    expect(page.locator("#object-table tbody")).to_contain_text("1,234,567.50")  # money: cents
