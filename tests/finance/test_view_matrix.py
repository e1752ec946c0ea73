"""Who may do what on the finance pages, and their queries: one spec per model (tests/views.py
turns each into its cases). Every role reads cost data; Finance and Portfolio managers write
it; the owner of a cost pool changes and removes it, and adds, changes and removes its
allocations (core.permissions: the owner of the parent adds a child)."""

import datetime
import re
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core import roles
from finance import services
from finance.choices import ReportFormat
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.choices import RunTrigger
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import ReportDefinition
from finance.models import ReportFile
from finance.models import ReportRun
from finance.models import TcoRun
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import DriverFactory
from tests.factories.finance import DriverQuantityFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.views import GRANTS
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import changed_from_april
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import gone
from tests.views import listing
from tests.views import post
from tests.views import read
from tests.views import view_tests

FINANCE_GRANTS = {
    **GRANTS,
    "add": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "change": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "delete": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
}
OTHER_ROLES = (roles.FINANCE, roles.SERVICE_OWNER)
# The lists asked with an empty search: their filters are bound and validated (the lists with
# no query at all are tested in test_views.py).
FILTERED = "q="


def finance_spec(**options) -> ViewSpec:
    return ViewSpec(**{"grants": FINANCE_GRANTS, "other_roles": OTHER_ROLES, **options})


# --- Fund services and lineage -----------------------------------------------------------------


def rolled_up_service(owner):
    """March 2025 rolled up, with the cost of one service."""
    march = PeriodFactory(year=2025, month=3)
    service = ServiceFactory(name="Claims")
    CostItemFactory(period=march, service=service, amount=Decimal("400.00"))
    services.recompute_tco(period=march)
    return service


def thirty_more_services(service, owner):
    march = PeriodFactory(year=2025, month=3)
    for _ in range(30):
        CostItemFactory(period=march, service=ServiceFactory())
    services.recompute_tco(period=march)


FUND_SERVICES = finance_spec(
    name="Fund services and a service's lineage",
    make=rolled_up_service,
    url_args=lambda service: [service.slug],
    label=lambda service: service.name,
    actions={
        "overview": read("finance:overview", args=lambda service: []),
        "lineage": read("finance:service_lineage", query="period=2025-03"),
        "budget": read(
            "finance:overview",
            args=lambda service: [],
            query="view=budget",
            shows=lambda service: "Budget against actual",
        ),
        "variances": read(
            "finance:overview",
            args=lambda service: [],
            query="view=variances",
            shows=lambda service: "Variances beyond the thresholds",
        ),
    },
    queries={"overview": Queries(bound=25, populate=thirty_more_services)},
)
test_fund_services_views = view_tests(FUND_SERVICES)


# --- Cost items --------------------------------------------------------------------------------


def cost_item_data(item, **overrides) -> dict:
    data = {
        "description": "Licences",
        "period_label": "2025-03",
        "amount": "120.00",
        "currency": "EUR",
        "category": "vendor",
        "expenditure": "opex",
        "spread_months": "1",
        "service": item.service.slug,
    }
    return {**data, **overrides}


def make_cost_item(owner):
    return CostItemFactory(period=PeriodFactory(year=2025, month=3), service=ServiceFactory())


def cost_item_added(item):
    added = CostItem.objects.get(description="Licences")
    assert (added.service, added.period.label, added.amount) == (
        item.service,
        "2025-03",
        Decimal(120),
    )


def cost_item_changed(item):
    changed = fresh(item)
    assert (changed.description, changed.amount) == ("Licences", Decimal(120))


def twenty_more_cost_items(item, owner):
    pool, application = CostPoolFactory(), ApplicationFactory()
    for number in range(20):
        target = [{"pool": pool}, {"application": application}, {}][number % 3]
        CostItemFactory(period=item.period, **target)


COST_ITEM = finance_spec(
    name="cost items",
    make=make_cost_item,
    label=lambda item: item.description,
    actions={
        "list": listing("finance:costitem_list", query=FILTERED),
        "add": add("finance:costitem_add", data=cost_item_data, done=cost_item_added),
        "edit": edit("finance:costitem_edit", data=cost_item_data, done=cost_item_changed),
        "delete": delete("finance:costitem_delete"),
    },
    queries={"list": Queries(bound=20, populate=twenty_more_cost_items, rows=21)},
)
test_cost_item_views = view_tests(COST_ITEM)


# --- Cost pools and their allocations ------------------------------------------------------------


def make_pool(owner):
    return CostPoolFactory(owner=owner)


def pool_added(pool):
    assert CostPool.objects.get(name="Data centre").slug == "data-centre"


def pool_renamed(pool):
    changed = fresh(pool)
    assert (changed.name, changed.slug) == ("Service desk", pool.slug)


def pool_with_an_allocation(owner):
    return PoolAllocationFactory(pool=make_pool(owner)).pool


def fifteen_more_pools(pool, owner):
    for _ in range(15):
        PoolAllocationFactory(pool=CostPoolFactory(owner=owner))


COST_POOL = finance_spec(
    name="cost pools",
    make=make_pool,
    url_args=lambda pool: [pool.slug],
    owner_role=roles.SERVICE_OWNER,
    other_roles=(roles.FINANCE,),
    label=lambda pool: pool.name,
    actions={
        "list": listing("finance:pool_list", query=FILTERED),
        "detail": read("finance:pool_detail"),
        "add": add(
            "finance:pool_add",
            data=lambda pool: {"name": "Data centre", "pool_type": ""},
            done=pool_added,
        ),
        "edit": edit(
            "finance:pool_edit",
            data=lambda pool: {"name": "Service desk", "pool_type": "", "owner": pool.owner_id},
            done=pool_renamed,
        ),
        "delete": delete("finance:pool_delete"),
    },
    queries={
        "list": Queries(
            bound=20, make=pool_with_an_allocation, populate=fifteen_more_pools, rows=16
        ),
    },
)
test_cost_pool_views = view_tests(COST_POOL)


def make_allocation(owner):
    return PoolAllocationFactory(pool=make_pool(owner), weight=1)


def allocation_added(allocation):
    weights = allocation.pool.allocations.values_list("service__slug", "weight")
    assert sorted(weights) == sorted([(allocation.service.slug, 1), ("hosting", 2)])


def weight_three(allocation):
    assert fresh(allocation).weight == 3


ALLOCATION = finance_spec(
    name="pool allocations",
    make=make_allocation,
    owner_role=roles.SERVICE_OWNER,
    other_roles=(roles.FINANCE,),
    # The pool's owner allocates it too, as the owner of any parent adds its child rows.
    owner_may=("add", "change", "delete"),
    actions={
        "add": post(
            "finance:allocation_add",
            needs="add",
            args=lambda allocation: [allocation.pool.slug],
            data=lambda allocation: {
                "service": ServiceFactory(slug="hosting").slug,
                "weight": "2",
            },
            done=allocation_added,
        ),
        "edit": edit(
            "finance:allocation_edit",
            data=lambda allocation: {"service": allocation.service.slug, "weight": "3"},
            done=weight_three,
        ),
        "remove": post("finance:allocation_remove", needs="delete", done=gone),
        "change from a month": edit(
            "finance:allocation_change_from_month",
            data=lambda allocation: {"month": "2025-04", "weight": "3"},
            done=changed_from_april,
        ),
    },
)
test_allocation_views = view_tests(ALLOCATION)


# --- Exchange rates ------------------------------------------------------------------------------


def make_rate(owner):
    return ExchangeRateFactory(period=PeriodFactory(year=2025, month=1), currency="GBP")


def rate_added(rate):
    assert ExchangeRate.objects.get(currency="USD").rate == Decimal("0.91")


def rate_changed(rate):
    assert fresh(rate).rate == Decimal("0.87")


def ten_more_rates(rate, owner):
    for month in range(2, 12):
        ExchangeRateFactory(period=PeriodFactory(year=2025, month=month), currency="GBP")


EXCHANGE_RATE = finance_spec(
    name="exchange rates",
    make=make_rate,
    label=lambda rate: "GBP",
    actions={
        "list": listing("finance:rate_list", query=FILTERED),
        "add": add(
            "finance:rate_add",
            data=lambda rate: {"period_label": "2025-03", "currency": "USD", "rate": "0.91"},
            done=rate_added,
        ),
        "edit": edit(
            "finance:rate_edit",
            data=lambda rate: {"period_label": "2025-01", "currency": "GBP", "rate": "0.87"},
            done=rate_changed,
        ),
        "delete": delete("finance:rate_delete"),
    },
    queries={"list": Queries(bound=20, populate=ten_more_rates)},
)
test_exchange_rate_views = view_tests(EXCHANGE_RATE)


# --- Periods and runs ----------------------------------------------------------------------------


def rolled_up_period(owner):
    return services.recompute_tco(period=PeriodFactory(year=2025, month=3)).period


def period_added(period):
    assert Period.objects.filter(year=2026, month=1).exists()


def closed(period, user):
    closed = fresh(period)
    assert closed.is_closed and closed.closed_by == user


def recomputed(period):
    assert TcoRun.objects.filter(period=period, trigger=RunTrigger.MANUAL).exists()


PERIOD = finance_spec(
    name="periods",
    make=rolled_up_period,
    url_args=lambda period: [period.label],
    label=lambda period: period.label,
    actions={
        "list": listing("finance:period_list"),
        "add": post(
            "finance:period_add",
            needs="add",
            args=lambda period: [],
            data=lambda period: {"label": "2026-01"},
            done=period_added,
        ),
        "detail": read("finance:period_detail"),
        "close": post("finance:period_close", done=closed),
        "recompute": post("finance:period_recompute", done=recomputed, watch=(TcoRun,)),
    },
)
test_period_views = view_tests(PERIOD)


def closed_period(owner):
    period = rolled_up_period(owner)
    services.close_period(period=period)
    return fresh(period)


def restated(period):
    assert fresh(period).current_version == 2


CLOSED_PERIOD = finance_spec(
    name="closed periods",
    make=closed_period,
    url_args=lambda period: [period.label],
    actions={
        "restate": post(
            "finance:period_restate", data=lambda period: {"reason": "Late invoice"}, done=restated
        ),
    },
)
test_closed_period_views = view_tests(CLOSED_PERIOD)


def eight_more_runs(run, owner):
    for month in range(4, 12):
        services.recompute_tco(period=PeriodFactory(year=2025, month=month))


TCO_RUN = finance_spec(
    name="TCO runs",
    make=lambda owner: services.recompute_tco(period=PeriodFactory(year=2025, month=3)),
    label=lambda run: run.period.label,
    actions={"list": listing("finance:run_list", query=FILTERED)},
    queries={"list": Queries(bound=20, populate=eight_more_runs, rows=9)},
)
test_tco_run_views = view_tests(TCO_RUN)


# --- Scheduled reports ---------------------------------------------------------------------------


def report_data(**overrides) -> dict:
    data = {
        "name": "Browser pack",
        "period_selector": "last_month",
        "formats": ["xlsx", "pdf"],
        "recipients": "cfo@example.org\ncontroller@example.org",
        "scope_kind": "",
        "scope_owner": "",
        "scope_customer": "",
        "scope_value_stream": "",
        "scope_q": "",
        "minute": "0",
        "hour": "7",
        "day_of_month": "3",
        "month_of_year": "*",
        "day_of_week": "*",
        "enabled": "on",
    }
    return {**data, **overrides}


def report_added(definition, user):
    added = ReportDefinition.objects.get(name="Browser pack")
    assert added.created_by == user and added.periodic_task is not None


def report_renamed(definition):
    assert fresh(definition).name == "Board pack"


def run_queued(definition, user, response):
    """Queued after commit, which a test's transaction never reaches: the answer tells, and
    leads to the runs list following the run asked for."""
    assert re.fullmatch(
        re.escape(definition.get_absolute_url()) + r"\?requested=\d+#runs", response.url
    )


REPORT = finance_spec(
    name="report definitions",
    make=lambda owner: ReportDefinitionFactory(),
    label=lambda definition: definition.name,
    actions={
        "list": read("finance:report_list", args=lambda definition: []),
        "detail": read("finance:report_detail"),
        "add": add("finance:report_add", data=lambda definition: report_data(), done=report_added),
        "edit": edit(
            "finance:report_edit",
            data=lambda definition: report_data(name="Board pack"),
            done=report_renamed,
        ),
        "run": post(
            "finance:report_run",
            data=lambda definition: {"period": ""},
            done=run_queued,
            watch=(ReportRun,),
        ),
        "delete": delete("finance:report_delete"),
    },
)
test_report_views = view_tests(REPORT)


def report_file(owner):
    """A report's CSV file, as a run keeps it."""
    now = timezone.now()
    run = ReportRun.objects.create(
        definition=ReportDefinitionFactory(name="Pack"),
        period_key="2025-03",
        trigger=ReportTrigger.MANUAL,
        outcome=ReportOutcome.SUCCEEDED,
        started_at=now,
        finished_at=now + datetime.timedelta(seconds=1),
    )
    content = b"Service,TCO\r\nClaims,100.00\r\n"
    return ReportFile.objects.create(
        run=run,
        format=ReportFormat.CSV,
        filename="pack-2025-03.csv",
        content_type="text/csv",
        content=content,
        size=len(content),
        rendered_at=now,
    )


REPORT_FILE = finance_spec(
    name="report files",
    make=report_file,
    label=lambda report_file: "Claims,100.00",
    actions={"download": read("finance:report_download")},
)
test_report_file_views = view_tests(REPORT_FILE)


# --- Customer statements -----------------------------------------------------------------------


def rolled_up_statement(owner):
    """March 2025 rolled up: Retail's statement of its two subscriptions."""
    march = PeriodFactory(year=2025, month=3)
    claims = ServiceFactory(name="Claims")
    quotes = ServiceFactory(name="Quotes")
    CostItemFactory(period=march, service=claims, amount=Decimal("400.00"))
    CostItemFactory(period=march, service=quotes, amount=Decimal("100.00"))
    retail = CustomerFactory(name="Retail", relationship_manager=owner)
    SubscriptionFactory(customer=retail, service=claims)
    SubscriptionFactory(customer=retail, service=quotes, units=3, unit_name="policy")
    services.recompute_tco(period=march)
    return CustomerStatement.objects.get(period=march, customer=retail)


def eight_more_statements(statement, owner):
    march = statement.period
    claims = statement.lines.first().service
    for number in range(8):
        customer = CustomerFactory(name=f"Customer {number}", relationship_manager=owner)
        SubscriptionFactory(customer=customer, service=claims)
        SubscriptionFactory(customer=customer, service=ServiceFactory(), unit_name="policy")
    services.recompute_tco(period=march)


STATEMENT = finance_spec(
    name="customer statements",
    make=rolled_up_statement,
    label=lambda statement: statement.customer.name,
    actions={
        "list": listing("finance:statement_list", query=FILTERED),
        "download": listing(
            "finance:statement_list", query="download=xlsx", shows=lambda statement: ""
        ),
        "detail": read("finance:statement_detail", args=lambda statement: [statement.pk]),
        "fund-by-customer": read(
            "finance:overview", args=lambda statement: [], query="view=customer"
        ),
        "fund-by-stream": read(
            "finance:overview",
            args=lambda statement: [],
            query="view=stream",
            shows=lambda statement: "In no value stream",
        ),
    },
    queries={
        "list": Queries(bound=20, populate=eight_more_statements, rows=9),
        "fund-by-customer": Queries(bound=25, populate=eight_more_statements),
    },
)
test_statement_views = view_tests(STATEMENT)


# --- Consumption drivers and their quantities ----------------------------------------------------


def driver_added(driver):
    assert Driver.objects.get(name="VM-hours").unit == "VM-hour"


def driver_changed(driver):
    assert fresh(driver).unit == "physical site"


def ten_more_drivers(driver, owner):
    for number in range(10):
        DriverQuantityFactory(driver=DriverFactory(name=f"Measure {number}"))


DRIVER = finance_spec(
    name="drivers",
    make=lambda owner: DriverFactory(name="Sites", unit="site"),
    url_args=lambda driver: [driver.slug],
    label=lambda driver: driver.name,
    actions={
        "list": listing("finance:driver_list", query=FILTERED),
        "add": add(
            "finance:driver_add",
            data=lambda driver: {"name": "VM-hours", "unit": "VM-hour"},
            done=driver_added,
        ),
        "edit": edit(
            "finance:driver_edit",
            data=lambda driver: {"name": "Sites", "unit": "physical site"},
            done=driver_changed,
        ),
        "delete": delete("finance:driver_delete"),
    },
    queries={"list": Queries(bound=20, populate=ten_more_drivers)},
)
test_driver_views = view_tests(DRIVER)


def make_quantity(owner):
    return DriverQuantityFactory(
        driver=DriverFactory(name="Sites"),
        period=PeriodFactory(year=2025, month=1),
        service=ServiceFactory(name="Claims"),
        quantity=Decimal(3),
    )


def quantity_added(quantity):
    added = DriverQuantity.objects.get(period__month=2)
    assert (added.driver, added.service, added.quantity) == (
        quantity.driver,
        quantity.service,
        Decimal("4.5"),
    )


def quantity_changed(quantity):
    assert fresh(quantity).quantity == Decimal(7)


def quantity_data(record, **overrides) -> dict:
    data = {
        "driver": record.driver.pk,
        "period_label": "2025-01",
        "service": record.service.slug,
        "quantity": "7",
    }
    return {**data, **overrides}


def ten_more_quantities(quantity, owner):
    application = ApplicationFactory()
    for month in range(2, 12):
        target = {"application": application} if month % 2 else {}
        DriverQuantityFactory(
            driver=quantity.driver, period=PeriodFactory(year=2025, month=month), **target
        )


def quantities_imported(quantity):
    assert DriverQuantity.objects.get(source="csv", external_id="q-1").quantity == Decimal(9)


def quantity_file(quantity) -> dict:
    text = (
        "driver,period,service,quantity,external_id\n"
        f"{quantity.driver.slug},2025-02,{quantity.service.slug},9,q-1\n"
    )
    return {"file": SimpleUploadedFile("quantities.csv", text.encode()), "source": "csv"}


DRIVER_QUANTITY = finance_spec(
    name="driver quantities",
    make=make_quantity,
    label=lambda quantity: "Claims",
    actions={
        "list": listing("finance:driverquantity_list", query=FILTERED),
        "add": add(
            "finance:driverquantity_add",
            data=lambda quantity: quantity_data(quantity, period_label="2025-02", quantity="4.5"),
            done=quantity_added,
        ),
        "edit": edit("finance:driverquantity_edit", data=quantity_data, done=quantity_changed),
        "delete": delete("finance:driverquantity_delete"),
        "import": add(
            "finance:driverquantity_import", data=quantity_file, done=quantities_imported
        ),
    },
    queries={"list": Queries(bound=20, populate=ten_more_quantities)},
)
test_driver_quantity_views = view_tests(DRIVER_QUANTITY)
