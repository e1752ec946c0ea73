"""Consumption drivers end to end: quantities entered, synced by the API and imported from a
CSV file move a driven source's cost month by month; the rules of driven edges on every write
path; the stored figures, the unallocated reason and the lineage behind each driven flow."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from finance import selectors
from finance import services
from finance.choices import UnallocatedReason
from finance.models import DriverQuantity
from finance.models import PoolAllocation
from finance.models import TcoResult
from finance.models import TcoUnallocated
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import DriverFactory
from tests.factories.finance import DriverQuantityFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_centre():
    """A data-centre pool of 1,000.00 in 2025-03 driven by sites among three services, and an
    application of 600.00 shared by tickets between two others."""
    march = PeriodFactory(year=2025, month=3)
    sites, tickets = DriverFactory(name="Sites"), DriverFactory(name="Tickets", unit="ticket")
    pool = CostPoolFactory(name="Data centre")
    claims, billing, portal, desk, payroll = (
        ServiceFactory(name=name) for name in ("Claims", "Billing", "Portal", "Desk", "Payroll")
    )
    for service, count in ((claims, 1), (billing, 3), (portal, 4)):
        PoolAllocationFactory(pool=pool, service=service, driver=sites)
        DriverQuantityFactory(driver=sites, period=march, service=service, quantity=count)
    application = ApplicationFactory(name="Ticketing")
    for service, count in ((desk, 2), (payroll, 6)):
        ApplicationSupportFactory(application=application, service=service, driver=tickets)
        DriverQuantityFactory(driver=tickets, period=march, service=service, quantity=count)
    CostItemFactory(period=march, pool=pool, service=None, amount=Decimal("1000.00"))
    CostItemFactory(period=march, application=application, service=None, amount=Decimal("600.00"))
    return {
        "march": march,
        "sites": sites,
        "tickets": tickets,
        "pool": pool,
        "claims": claims,
        "billing": billing,
        "portal": portal,
        "desk": desk,
        "payroll": payroll,
    }


def tco_of(period) -> dict[str, Decimal]:
    return dict(
        TcoResult.objects.filter(period=period, version=period.current_version).values_list(
            "service__name", "tco"
        )
    )


def test_rollup_shares_a_driven_pool_by_the_months_quantities(data_centre):
    services.recompute_tco(period=data_centre["march"])
    assert tco_of(data_centre["march"]) == {
        "Claims": Decimal("125.00"),
        "Billing": Decimal("375.00"),
        "Portal": Decimal("500.00"),
        "Desk": Decimal("150.00"),
        "Payroll": Decimal("450.00"),
    }


def test_changing_one_quantity_moves_cost_only_among_that_drivers_consumers(data_centre):
    march = data_centre["march"]
    services.recompute_tco(period=march)
    before = tco_of(march)
    quantity = DriverQuantity.objects.get(service=data_centre["claims"])
    quantity.quantity = Decimal(5)
    services.save_quantity(quantity=quantity)
    services.recompute_tco(period=march)
    after = tco_of(march)
    assert after["Claims"] == Decimal("416.67")
    assert after["Billing"] + after["Portal"] == Decimal("583.33")
    assert (after["Desk"], after["Payroll"]) == (before["Desk"], before["Payroll"])
    assert sum(after.values()) == sum(before.values()) == Decimal("1600.00")


def test_a_month_without_quantities_leaves_the_driven_cost_unallocated(data_centre):
    april = PeriodFactory(year=2025, month=4)
    CostItemFactory(period=april, pool=data_centre["pool"], service=None, amount=Decimal(80))
    # A quantity of March, or of another driver, does not drive April's pool.
    DriverQuantityFactory(
        driver=data_centre["tickets"], period=april, service=data_centre["claims"], quantity=9
    )
    services.recompute_tco(period=april)
    (row,) = TcoUnallocated.objects.filter(period=april)
    assert (row.source_label, row.reason, row.amount) == (
        "Data centre",
        UnallocatedReason.NO_QUANTITIES,
        Decimal("80.00"),
    )
    assert "none of its consumers has a quantity" in row.detail
    assert not TcoResult.objects.filter(period=april, tco__gt=0).exists()


def test_a_driven_dependency_passes_the_providers_cost_by_quantity():
    march = PeriodFactory(year=2025, month=3)
    users = DriverFactory(name="Users", unit="user")
    network, claims, billing = (ServiceFactory(name=n) for n in ("Network", "Claims", "Billing"))
    for consumer, count in ((claims, 30), (billing, 10)):
        ServiceDependencyFactory(provider=network, consumer=consumer, driver=users)
        DriverQuantityFactory(driver=users, period=march, service=consumer, quantity=count)
    CostItemFactory(period=march, service=network, amount=Decimal("100.00"))
    services.recompute_tco(period=march)
    assert tco_of(march) == {
        "Network": Decimal("100.00"),
        "Claims": Decimal("75.00"),
        "Billing": Decimal("25.00"),
    }


def test_lineage_shows_the_driver_the_quantities_and_the_share(data_centre):
    march = data_centre["march"]
    services.recompute_tco(period=march)
    found = selectors.lineage(service=data_centre["billing"], period=march)
    (edge,) = found["edges"]
    assert (edge.driven.name, edge.driven.unit) == ("Sites", "site")
    assert (edge.driven.quantity, edge.driven.total) == (Decimal(3), Decimal(8))
    assert edge.share == Decimal("0.375")
    assert round(edge.flow, 2) == Decimal("375.00")
    assert not found["differs"]


def test_lineage_page_and_its_json_name_the_driver(data_centre, client, finance_user):
    services.recompute_tco(period=data_centre["march"])
    client.force_login(finance_user)
    url = reverse("finance:service_lineage", args=[data_centre["portal"].slug])
    page = client.get(url, {"period": "2025-03"})
    assert "Driver Sites: 4 of 8 site" in page.content.decode()
    (edge,) = client.get(url, {"period": "2025-03", "format": "json"}).json()["edges"]
    assert edge["share"] == "0.500000"
    assert edge["driver"]["name"] == "Sites"
    assert (edge["driver"]["quantity"], edge["driver"]["total"]) == ("4.0000", "8.0000")
    pool_page = client.get(data_centre["pool"].get_absolute_url()).content.decode()
    assert pool_page.count("by Sites") == 3


def test_driver_list_counts_driven_edges_and_quantities(data_centre, client, finance_user):
    client.force_login(finance_user)
    rows = {
        row.name: (row.edge_count, row.quantity_count)
        for row in client.get(reverse("finance:driver_list")).context["table"].data
    }
    assert rows == {"Sites": (3, 3), "Tickets": (2, 2)}


# --- The rules, on every write path ----------------------------------------------------------


def test_mixing_weighted_and_driven_edges_of_one_source_is_refused(data_centre):
    extra = PoolAllocation(pool=data_centre["pool"], service=ServiceFactory(), weight=2)
    with pytest.raises(ValidationError) as refused:
        services.save_allocation(allocation=extra)
    assert "driven by Sites" in str(refused.value.message_dict["driver"])
    extra.driver = data_centre["tickets"]
    with pytest.raises(ValidationError) as refused:
        services.save_allocation(allocation=extra)
    assert "all driven by the same driver" in str(refused.value.message_dict["driver"])
    extra.driver = data_centre["sites"]
    services.save_allocation(allocation=extra)


def test_a_source_may_turn_from_weights_to_a_driver_from_a_month():
    pool, sites = CostPoolFactory(), DriverFactory(name="Sites")
    weighted = PoolAllocationFactory(pool=pool, valid_to=timezone.datetime(2025, 3, 31).date())
    driven = PoolAllocation(
        pool=pool,
        service=weighted.service,
        driver=sites,
        valid_from=timezone.datetime(2025, 4, 1).date(),
    )
    services.save_allocation(allocation=driven)
    assert PoolAllocation.objects.filter(pool=pool).count() == 2


def test_a_retired_driver_drives_no_new_edge_and_takes_no_new_quantity():
    sites = DriverFactory(name="Sites", retired_at=timezone.now())
    allocation = PoolAllocation(pool=CostPoolFactory(), service=ServiceFactory(), driver=sites)
    with pytest.raises(ValidationError, match="retired"):
        services.save_allocation(allocation=allocation)
    quantity = DriverQuantity(
        driver=sites, period=PeriodFactory(), service=ServiceFactory(), quantity=1
    )
    with pytest.raises(ValidationError, match="retired"):
        services.save_quantity(quantity=quantity)


def test_a_driver_with_quantities_is_retired_not_deleted():
    used, unused = DriverFactory(name="Sites"), DriverFactory(name="Spare")
    DriverQuantityFactory(driver=used)
    assert services.remove_driver(driver=used) == "retired"
    assert services.remove_driver(driver=unused) == "deleted"


def test_a_quantity_is_for_exactly_one_consumer_once_per_driver_and_month():
    existing = DriverQuantityFactory(quantity=2)
    twin = DriverQuantity(
        driver=existing.driver, period=existing.period, service=existing.service, quantity=3
    )
    with pytest.raises(ValidationError, match="already has a quantity"):
        services.save_quantity(quantity=twin)
    both = DriverQuantity(
        driver=existing.driver,
        period=existing.period,
        service=ServiceFactory(),
        application=ApplicationFactory(),
        quantity=1,
    )
    with pytest.raises(ValidationError, match="exactly one consumer"):
        services.save_quantity(quantity=both)


# --- The CSV import -------------------------------------------------------------


def quantities_csv(driver, service, application, *, claims="12") -> str:
    return (
        "driver,period,service,application,quantity,external_id\n"
        f"{driver.slug},2025-03,{service.slug},,{claims},q-claims\n"
        f"{driver.slug},2025-03,,{application.slug},4,q-ticketing\n"
    )


def test_csv_import_command_syncs_quantities_idempotently(tmp_path, finance_user):
    driver, service = DriverFactory(name="Sites"), ServiceFactory(name="Claims")
    application = ApplicationFactory(name="Ticketing")
    path = tmp_path / "quantities.csv"
    path.write_text(quantities_csv(driver, service, application))
    out = StringIO()
    call_command("import_driver_quantities", str(path), "--user", finance_user.username, stdout=out)
    assert "2 new" in out.getvalue()
    assert DriverQuantity.objects.get(service=service).quantity == Decimal(12)
    assert DriverQuantity.objects.get(application=application).source == "csv"
    out = StringIO()
    call_command("import_driver_quantities", str(path), "--user", finance_user.username, stdout=out)
    assert "0 new, 0 changed, 2 unchanged" in out.getvalue()
    path.write_text(quantities_csv(driver, service, application, claims="13"))
    call_command("import_driver_quantities", str(path), "--user", finance_user.username, stdout=out)
    assert DriverQuantity.objects.get(service=service).quantity == Decimal(13)


def test_csv_import_refuses_a_bad_file_whole_naming_the_line(tmp_path, finance_user, viewer):
    driver, service = DriverFactory(name="Sites"), ServiceFactory(name="Claims")
    path = tmp_path / "quantities.csv"
    path.write_text(
        "driver,period,service,quantity,external_id\n"
        f"{driver.slug},2025-03,{service.slug},3,q-1\n"
        f"{driver.slug},2025-03,no-such-service,3,q-2\n"
    )
    with pytest.raises(CommandError, match="Line 3: no service has the slug 'no-such-service'"):
        call_command("import_driver_quantities", str(path), "--user", finance_user.username)
    path.write_text(
        f"driver,period,service,quantity,external_id\n{driver.slug},2025-03,{service.slug},-3,q-1\n"
    )
    with pytest.raises(CommandError, match="Line 2, quantity"):
        call_command("import_driver_quantities", str(path), "--user", finance_user.username)
    path.write_text(f"driver,period,service,quantity\n{driver.slug},2025-03,{service.slug},3\n")
    with pytest.raises(CommandError, match="lacks the column"):
        call_command("import_driver_quantities", str(path), "--user", finance_user.username)
    path.write_text(
        f"driver,period,service,quantity,external_id\n{driver.slug},2025-03,{service.slug},3,q-1\n"
    )
    with pytest.raises(CommandError):  # a viewer may not add quantities
        call_command("import_driver_quantities", str(path), "--user", viewer.username)
    assert not DriverQuantity.objects.exists()
