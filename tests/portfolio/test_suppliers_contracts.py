import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from finance.choices import CostCategory
from finance.models import CostItem
from finance.models import Period
from portfolio import selectors
from portfolio import services
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Supplier
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from tests.portfolio.helpers import HTMX
from tests.portfolio.helpers import contract_data
from tests.portfolio.helpers import csv_rows
from tests.portfolio.helpers import is_partial
from tests.portfolio.helpers import xlsx_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier(service_owner):
    """A supplier managed by ``service_owner``."""
    return SupplierFactory(name="Claimsoft", owner=service_owner)


@pytest.fixture
def contract(supplier):
    return ContractFactory(supplier=supplier, reference="CS-1", title="Claims platform licence")


@pytest.fixture
def coverage(contract):
    return ContractCoverageFactory(contract=contract, service=ServiceFactory(name="Online claims"))


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# --- Business rules --------------------------------------------------------------------------


def test_save_supplier_gives_a_unique_slug():
    first = services.save_supplier(supplier=Supplier(name="Claimsoft"))
    second = services.save_supplier(supplier=Supplier(name="Claimsoft"))
    assert (first.slug, second.slug) == ("claimsoft", "claimsoft-2")


def test_save_contract_checks_dates_and_unique_reference(contract):
    duplicate = Contract(
        supplier=contract.supplier,
        reference="CS-1",
        title="Again",
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2024, 1, 1),
        renewal_date=datetime.date(2024, 6, 1),
        annual_value=Decimal(1),
    )
    with pytest.raises(ValidationError) as raised:
        services.save_contract(contract=duplicate)
    assert set(raised.value.message_dict) == {"reference", "end_date", "renewal_date"}
    assert Contract.objects.count() == 1


def test_save_coverage_needs_exactly_one_target(contract):
    neither = ContractCoverage(contract=contract)
    with pytest.raises(ValidationError) as raised:
        services.save_coverage(coverage=neither)
    assert "service" in raised.value.message_dict
    both = ContractCoverage(
        contract=contract, service=ServiceFactory(), application=ApplicationFactory()
    )
    with pytest.raises(ValidationError) as raised:
        services.save_coverage(coverage=both)
    assert "application" in raised.value.message_dict
    assert not ContractCoverage.objects.exists()


def test_save_coverage_refuses_duplicates(coverage):
    again = ContractCoverage(contract=coverage.contract, service=coverage.service)
    with pytest.raises(ValidationError) as raised:
        services.save_coverage(coverage=again)
    assert raised.value.message_dict == {"service": ["This contract already covers this service."]}
    application = ApplicationFactory()
    services.save_coverage(
        coverage=ContractCoverage(contract=coverage.contract, application=application)
    )
    with pytest.raises(ValidationError):
        services.save_coverage(
            coverage=ContractCoverage(contract=coverage.contract, application=application)
        )
    assert coverage.contract.coverages.count() == 2


def test_remove_contract_deletes_it_with_its_coverages(coverage):
    assert services.remove_contract(contract=coverage.contract) == "deleted"
    assert not ContractCoverage.objects.exists()


def test_remove_supplier_with_contracts_retires_it(contract):
    assert services.remove_supplier(supplier=contract.supplier) == "retired"
    contract.supplier.refresh_from_db()
    assert contract.supplier.is_retired
    assert services.remove_supplier(supplier=SupplierFactory()) == "deleted"


def test_notice_deadline_in_the_database_matches_the_model():
    renewing = ContractFactory(renewal_date=in_days(100), notice_period_days=30)
    ending = ContractFactory(end_date=in_days(200), notice_period_days=90)
    open_ended = ContractFactory()
    annotated = {
        c.pk: c.notice_deadline for c in selectors.with_notice_deadline(Contract.objects.all())
    }
    assert annotated[renewing.pk] == in_days(70) == renewing.notice_deadline
    assert annotated[ending.pk] == in_days(110) == ending.notice_deadline
    assert annotated[open_ended.pk] is None


def test_notice_due_filter_matches_contracts_near_notice():
    due = ContractFactory(renewal_date=in_days(120), notice_period_days=60)  # deadline in 60
    ContractFactory(renewal_date=in_days(200), notice_period_days=60)  # in 140: not yet
    ContractFactory(renewal_date=in_days(30), notice_period_days=60)  # passed
    ContractFactory(renewal_date=in_days(100), retired_at=timezone.now())
    filtered = selectors.with_notice_deadline(Contract.objects.all()).filter(
        selectors.notice_due_q()
    )
    assert list(filtered) == [due]
    assert selectors.contracts_near_notice() == [due]


def test_supplier_value_counts_live_contracts_in_reporting_currency(supplier):
    ContractFactory(supplier=supplier, annual_value=Decimal("1000.10"))
    ContractFactory(supplier=supplier, annual_value=Decimal("2000.20"))
    ContractFactory(supplier=supplier, annual_value=Decimal(5), retired_at=timezone.now())
    ContractFactory(supplier=supplier, annual_value=Decimal(7), currency="USD")
    annotated = selectors.suppliers_with_value(Supplier.objects.filter(pk=supplier.pk)).get()
    assert annotated.contract_count == 3
    assert annotated.annual_value == Decimal("3000.30")
    assert annotated.other_currency_count == 1


# --- Permissions the view matrix leaves to these tests (see test_view_matrix.py) ------------


def test_contract_owner_cannot_move_it_to_a_supplier_they_do_not_manage(
    client, contract, other_owner
):
    elsewhere = SupplierFactory(owner=other_owner)
    client.force_login(contract.supplier.owner)
    url = reverse("portfolio:contract_edit", args=[contract.pk])
    response = client.post(url, contract_data(elsewhere, reference="CS-1"), **HTMX)
    assert response.status_code == 422
    assert 'id="id_supplier_error"' in response.content.decode()
    contract.refresh_from_db()
    assert contract.supplier.name == "Claimsoft"


# --- The pages ------------------------------------------------------------------------------


def test_contract_list_filters(client, viewer, supplier):
    ContractFactory(
        supplier=supplier,
        reference="DUE-1",
        renewal_date=in_days(100),
        notice_period_days=30,
        auto_renewal=True,
    )
    ContractFactory(reference="LATER-1", renewal_date=in_days(400))
    ContractFactory(reference="OLD-1", retired_at=timezone.now())
    client.force_login(viewer)
    url = reverse("portfolio:contract_list")

    def references(**params):
        body = client.get(url, params).content.decode()
        return sorted(r for r in ("DUE-1", "LATER-1", "OLD-1") if r in body)

    assert references(notice_due="true") == ["DUE-1"]
    assert references(notice_due="false") == ["LATER-1", "OLD-1"]
    assert references(auto_renewal="true") == ["DUE-1"]
    assert references(supplier=supplier.slug) == ["DUE-1"]
    assert references(retired="true") == ["OLD-1"]
    assert references(retired="false") == ["DUE-1", "LATER-1"]
    assert references(q="later") == ["LATER-1"]


def test_contract_list_htmx_partial_and_exports(client, viewer, supplier):
    ContractFactory(
        supplier=supplier,
        reference="CS-9",
        renewal_date=in_days(100),
        notice_period_days=30,
        annual_value=Decimal("1234.56"),
    )
    ContractFactory(reference="X-1")
    client.force_login(viewer)
    url = reverse("portfolio:contract_list")

    partial = client.get(url, {"supplier": supplier.slug}, **HTMX)
    assert is_partial(partial) and "CS-9" in partial.content.decode()
    assert "act now" in partial.content.decode()

    rows = csv_rows(client.get(url, {"supplier": supplier.slug, "export": "csv"}))
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Reference"] == "CS-9"
    assert record["Supplier"] == "Claimsoft"
    assert record["Annual value"] == "1234.56"
    assert record["Notice by"] == in_days(70).isoformat()

    sheet = xlsx_rows(client.get(url, {"supplier": supplier.slug, "export": "xlsx"}))
    record = dict(zip(sheet[0], sheet[1], strict=True))
    assert len(sheet) == 2
    assert record["Annual value"] == pytest.approx(1234.56)
    assert isinstance(record["Annual value"], float)
    assert record["Notice by"].date() == in_days(70)
    assert record["Auto-renews"] is False


def test_supplier_list_exports_counts_and_value(client, viewer, supplier):
    ContractFactory.create_batch(2, supplier=supplier, annual_value=Decimal("500.25"))
    client.force_login(viewer)
    url = reverse("portfolio:supplier_list")
    sheet = xlsx_rows(client.get(url, {"export": "xlsx"}))
    record = dict(zip(sheet[0], sheet[1], strict=True))
    assert record["Name"] == "Claimsoft"
    assert record["Live contracts"] == 2
    assert record["Annual value (EUR)"] == pytest.approx(1000.50)
    rows = csv_rows(client.get(url, {"export": "csv", "owner": supplier.owner.username}))
    assert rows[1][0] == "Claimsoft"
    body = client.get(url).content.decode()
    assert reverse("portfolio:contract_list") in body  # the link to all contracts


def test_contract_page_flags_notice_due(client, viewer, supplier):
    contract = ContractFactory(supplier=supplier, renewal_date=in_days(40), notice_period_days=30)
    client.force_login(viewer)
    body = client.get(contract.get_absolute_url()).content.decode()
    assert f"Notice is due by {in_days(10).isoformat()}" in body
    assert reverse("portfolio:coverage_add", args=[contract.pk]) not in body


def test_coverage_added_in_place_with_htmx(client, service_owner, contract):
    service = ServiceFactory(name="Claims platform")
    client.force_login(service_owner)
    url = reverse("portfolio:coverage_add", args=[contract.pk])

    form = client.get(url, **HTMX)
    assert is_partial(form)
    body = form.content.decode()
    assert 'hx-get="/pick/service/"' in body and 'hx-get="/pick/application/"' in body
    assert "<option" not in body  # no select of every service or application

    response = client.post(url, {"service": service.slug, "weight": "2"}, **HTMX)
    assert response.status_code == 200 and is_partial(response)
    assert response.content.decode().lstrip().startswith('<section id="coverages"')
    assert contract.coverages.get().service == service


def test_coverage_bad_input_answers_422_and_saves_nothing(client, service_owner, coverage):
    client.force_login(service_owner)
    url = reverse("portfolio:coverage_add", args=[coverage.contract.pk])
    duplicate = client.post(url, {"service": coverage.service.slug, "weight": "1"}, **HTMX)
    assert duplicate.status_code == 422 and is_partial(duplicate)
    assert "This contract already covers this service." in duplicate.content.decode()
    assert 'id="id_service_error"' in duplicate.content.decode()
    both = client.post(
        url,
        {"service": ServiceFactory().slug, "application": ApplicationFactory().slug},
        **HTMX,
    )
    assert both.status_code == 422
    assert "not both" in both.content.decode()
    negative = client.post(url, {"service": ServiceFactory().slug, "weight": "-1"})
    assert negative.status_code == 422 and not is_partial(negative)
    assert 'id="id_weight_error"' in negative.content.decode()
    assert coverage.contract.coverages.count() == 1


def test_contract_create_bad_input_answers_422(client, portfolio_manager, contract):
    client.force_login(portfolio_manager)
    data = contract_data(contract.supplier, end_date="2023-01-01", annual_value="-5")
    response = client.post(reverse("portfolio:contract_add"), data, **HTMX)
    assert response.status_code == 422 and is_partial(response)
    body = response.content.decode()
    assert 'id="id_end_date_error"' in body and 'id="id_annual_value_error"' in body
    assert Contract.objects.count() == 1


def test_contract_add_prefills_the_supplier(client, portfolio_manager, supplier):
    client.force_login(portfolio_manager)
    body = client.get(reverse("portfolio:contract_add"), {"supplier": supplier.slug})
    assert f'<option value="{supplier.slug}" selected>' in body.content.decode()


def test_contract_remove_retires_one_cost_refers_to_otherwise_deletes(
    client, portfolio_manager, coverage
):
    booked = ContractFactory(supplier=coverage.contract.supplier)
    CostItem.objects.create(
        description="Licence fee",
        period=Period.objects.create(year=2025, month=1),
        amount=Decimal(1000),
        category=CostCategory.values[0],
        contract=booked,
    )
    client.force_login(portfolio_manager)
    response = client.post(reverse("portfolio:contract_delete", args=[booked.pk]))
    assert response.url == booked.get_absolute_url()
    booked.refresh_from_db()
    assert booked.is_retired

    response = client.post(reverse("portfolio:contract_delete", args=[coverage.contract.pk]))
    assert response.url == reverse("portfolio:contract_list")
    assert list(Contract.objects.all()) == [booked]
    assert not ContractCoverage.objects.exists()


def test_supplier_remove_retires_one_with_contracts(client, portfolio_manager, contract):
    client.force_login(portfolio_manager)
    supplier = contract.supplier
    response = client.post(reverse("portfolio:supplier_delete", args=[supplier.slug]))
    assert response.url == supplier.get_absolute_url()
    supplier.refresh_from_db()
    assert supplier.is_retired
    assert Contract.objects.filter(pk=contract.pk, retired_at__isnull=True).exists()


def test_coverage_changed_from_a_month_keeps_the_months_before(client, service_owner, coverage):
    url = reverse("portfolio:coverage_change_from_month", args=[coverage.contract.pk, coverage.pk])
    client.force_login(service_owner)
    assert url in client.get(coverage.contract.get_absolute_url()).content.decode()
    response = client.post(url, {"month": "2025-10", "weight": "0"})
    assert response.status_code == 302
    assert response["Location"].endswith("#coverages")
    stored = ContractCoverage.objects.filter(service=coverage.service).order_by("pk")
    assert [(c.valid_from, c.valid_to, c.weight) for c in stored] == [
        (None, datetime.date(2025, 9, 30), Decimal(1)),
        (datetime.date(2025, 10, 1), None, Decimal(0)),
    ]
    # Edited with days that end before they start, it is refused on the last day.
    edit = reverse("portfolio:coverage_edit", args=[coverage.contract.pk, stored[1].pk])
    refused = client.post(
        edit, {"weight": "1", "valid_from": "2025-10-01", "valid_to": "2025-09-01"}, **HTMX
    )
    assert refused.status_code == 422
    assert "cannot end before it starts" in refused.content.decode()
