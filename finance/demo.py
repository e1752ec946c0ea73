"""The cost side of the demo insurer, Meridian Mutual: twelve months of cost items for its
services, applications, contracts and cost pools; a data-centre and a service-desk pool
(and an innovation-lab pool allocated to nothing, so something stays unallocated), the
data centre driven by the VM-hours its services ran each month; USD and
GBP items with their exchange rates and one CHF item without a rate; nine closed months
(one of them restated after a late invoice) and three open ones, all rolled up; and two
scheduled reports to finance (a monthly TCO pack, a quarterly summary and the monthly customer
statements).

Records have source "demo" and stable external ids and are created only when missing, so a
second load creates and changes nothing. Portfolio records are looked up by their demo keys;
whatever is missing is skipped. The months are the twelve up to the current one.
"""

import datetime
import zlib
from decimal import Decimal

from django.conf import settings

from core.demo import SOURCE
from finance import services
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PoolType
from finance.choices import ReportFormat
from finance.choices import ReportKind
from finance.choices import ReportPeriodSelector
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.models import CostItem
from finance.models import CostPool
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import ReportDefinition
from finance.models import TcoRun
from finance.models import month_serial
from finance.models import serial_label
from portfolio.models import Application
from portfolio.models import Contract
from portfolio.models import Service

MONTHS = 12
OPEN_MONTHS = 3
RESTATED_MONTHS_AGO = 4  # the closed month a late invoice restates

DEV, INFRA, MAINT, VENDOR, SUPPORT = (
    CostCategory.DEVELOPMENT,
    CostCategory.INFRASTRUCTURE,
    CostCategory.MAINTENANCE,
    CostCategory.VENDOR,
    CostCategory.SUPPORT,
)

# Monthly run and change cost of applications: slug → [(line, category, pool type, EUR)].
APPLICATION_COSTS = {
    "polaris-policy": [("Application management", MAINT, PoolType.LABOUR, "38000")],
    "polaris-claims": [
        ("Application management", MAINT, PoolType.LABOUR, "31000"),
        ("Claims automation releases", DEV, PoolType.LABOUR, "12000"),
    ],
    "motor-mainframe": [
        ("Mainframe capacity (MIPS)", INFRA, PoolType.HARDWARE, "54000"),
        ("COBOL maintenance", MAINT, PoolType.OUTSIDE_SERVICES, "9000"),
    ],
    "clearview-crm": [("CRM administration", MAINT, PoolType.LABOUR, "8000")],
    "customer-portal": [
        ("Portal operations", MAINT, PoolType.LABOUR, "14000"),
        ("Portal feature team", DEV, PoolType.LABOUR, "26000"),
    ],
    "meridian-mobile": [
        ("App store and device lab", MAINT, PoolType.SOFTWARE, "6000"),
        ("Mobile feature team", DEV, PoolType.LABOUR, "18000"),
    ],
    "quote-engine": [
        ("Quote engine operations", MAINT, PoolType.LABOUR, "7000"),
        ("New products in the quote engine", DEV, PoolType.LABOUR, "15000"),
    ],
    "rating-engine": [("Rating model maintenance", MAINT, PoolType.LABOUR, "11000")],
    "broker-extranet": [("Extranet maintenance", MAINT, PoolType.OUTSIDE_SERVICES, "9000")],
    "meridian-id": [
        ("Identity operations", MAINT, PoolType.LABOUR, "5000"),
        ("Passkeys project", DEV, PoolType.LABOUR, "8000"),
    ],
    "paystream-connector": [("Connector maintenance", MAINT, PoolType.LABOUR, "3000")],
    "docugen": [("Template maintenance", MAINT, PoolType.LABOUR, "4500")],
    "document-archive": [("Archive storage", INFRA, PoolType.HARDWARE, "6500")],
    "service-bus": [("Bus maintenance", MAINT, PoolType.OUTSIDE_SERVICES, "12000")],
    "api-gateway": [
        ("Gateway operations", MAINT, PoolType.LABOUR, "7000"),
        ("Event streaming roll-out", DEV, PoolType.LABOUR, "6000"),
    ],
    "enterprise-dwh": [("Warehouse operations", MAINT, PoolType.LABOUR, "16000")],
    "notify": [("Messaging templates and routing", MAINT, PoolType.LABOUR, "2500")],
    "contact-centre-suite": [("Contact-centre configuration", MAINT, PoolType.LABOUR, "5000")],
    "itsm-tool": [("ITSM licences", SUPPORT, PoolType.SOFTWARE, "3500")],
    "fraud-engine": [("Fraud rules maintenance", MAINT, PoolType.LABOUR, "4000")],
    "ledgerworks-finance": [("Finance suite administration", MAINT, PoolType.LABOUR, "3000")],
    "ledgerworks-hr": [("Payroll administration", MAINT, PoolType.LABOUR, "2500")],
    # Retired, and so is the only service it supported: its cost stays unallocated.
    "printstream": [("Print template archive licence", VENDOR, PoolType.SOFTWARE, "1200")],
    "assist-dispatch": [("Dispatch operations", MAINT, PoolType.LABOUR, "4000")],
    "procure-to-pay": [("Implementation partner", DEV, PoolType.OUTSIDE_SERVICES, "9000")],
}

# Cost recorded on services themselves: slug → [(line, category, pool type, EUR)].
SERVICE_COSTS = {
    "service-desk": [("Second-line support engineers", SUPPORT, PoolType.LABOUR, "46000")],
    "customer-contact-centre": [("Contact-centre agents", SUPPORT, PoolType.LABOUR, "185000")],
    "workplace-services": [("Laptops and peripherals", INFRA, PoolType.HARDWARE, "22000")],
    "network-services": [("Branch office lines", INFRA, PoolType.TELECOM, "9000")],
    "hosting-platform": [("Platform engineering team", MAINT, PoolType.LABOUR, "64000")],
    "integration-hub": [("Integration team", DEV, PoolType.LABOUR, "38000")],
    "data-warehouse": [("BI team", DEV, PoolType.LABOUR, "21000")],
    "fraud-screening": [("Fraud analysts' tooling", SUPPORT, PoolType.SOFTWARE, "5000")],
}

# slug: (name, pool type, description, owner, monthly lines, {service: weight})
POOLS = {
    "data-centre": (
        "Data centre",
        PoolType.FACILITIES_AND_POWER,
        "Colocation, power, cooling and the hardware in the two data halls.",
        "bob",
        [
            ("Colocation and power", INFRA, "42000"),
            ("Hardware maintenance", MAINT, "8500"),
        ],
        {
            "hosting-platform": "6",
            "network-services": "2",
            "data-warehouse": "1",
            "document-management": "1",
        },
    ),
    "service-desk": (
        "Service desk",
        PoolType.LABOUR,
        "First-line support for customers, brokers and staff, shared by ticket volume.",
        "alice",
        [("First-line support staff", SUPPORT, "58000")],
        {
            "customer-contact-centre": "5",
            "online-claims": "3",
            "policy-self-service": "2",
            "broker-portal": "2",
            "mobile-app": "2",
            "billing-and-payments": "1",
            "workplace-services": "3",
        },
    ),
    "innovation-lab": (
        "Innovation lab",
        PoolType.OTHER,
        "Experiments not yet charged to any service: shown as unallocated until they are.",
        "demo",
        [("Lab experiments", DEV, "6000")],
        {},
    ),
}

# Pools driven by consumption: pool slug → (driver slug, name, unit, description,
# {service: VM-hours in a typical month}); each month's quantity varies by wobble().
DRIVEN_POOLS = {
    "data-centre": (
        "vm-hours",
        "VM-hours",
        "VM-hour",
        "Hours of virtual machines run in the data halls, from the hypervisors' monthly report.",
        {
            "hosting-platform": 52000,
            "network-services": 9000,
            "data-warehouse": 14000,
            "document-management": 6000,
        },
    ),
}

# Capex spread over months: (key, line, target kind, slug, category, EUR, months,
# months after the first demo month it is booked in).
CAPEX = (
    ("storage", "Storage array replacement", "service", "hosting-platform", INFRA, "360000", 60, 2),
    ("portal", "Portal redesign", "application", "customer-portal", DEV, "180000", 36, 0),
    ("p2p", "Procure-to-pay implementation", "application", "procure-to-pay", DEV, "216000", 36, 3),
)

# Foreign-currency lines every month: (key, line, target kind, key, category, currency, amount)
FOREIGN = (
    (
        "cloud-usage",
        "Cloud usage above the commitment",
        "contract",
        "NCS-MSA-2019-044",
        VENDOR,
        "USD",
        "14000",
    ),
    (
        "sentinel-models",
        "Sentinel model updates",
        "application",
        "fraud-engine",
        VENDOR,
        "USD",
        "9500",
    ),
    (
        "polaris-indexation",
        "Polaris licence indexation",
        "contract",
        "POL-LIC-2012-003",
        VENDOR,
        "GBP",
        "2400",
    ),
)
RATES = {"USD": "0.9200", "GBP": "1.1700"}
# In the current month only, and no CHF rate: unallocated for want of a rate.
UNCONVERTED = ("roaming", "Roaming data bundle", "network-services", INFRA, "CHF", "3800")
LATE_INVOICE = (
    "late-invoice",
    "Late invoice: emergency hardware support",
    "hosting-platform",
    MAINT,
    "17500",
)


def wobble(key: str, serial: int) -> Decimal:
    """A steady, repeatable month-to-month variation of -4 % to +4 %."""
    step = zlib.crc32(f"{key}:{serial}".encode()) % 9 - 4
    return Decimal(100 + step) / 100


def demo_months(today: datetime.date) -> list[int]:
    last = month_serial(today.year, today.month)
    return list(range(last - MONTHS + 1, last + 1))


class FinanceDemo:
    def __init__(self, *, today: datetime.date):
        self.today = today
        self.reporting = settings.PORTICO_CURRENCY
        self.created: dict[str, int] = {}
        self.items = {obj.external_id: obj for obj in CostItem.objects.filter(source=SOURCE)}
        self.services = {s.slug: s for s in Service.objects.filter(source=SOURCE)}
        self.applications = {a.slug: a for a in Application.objects.filter(source=SOURCE)}
        self.contracts = {c.reference: c for c in Contract.objects.filter(source=SOURCE)}
        self.pools: dict[str, CostPool] = {}
        self.periods: dict[int, Period] = {}

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def load(self) -> None:
        months = demo_months(self.today)
        for serial in months:
            self.periods[serial] = self.period(serial)
        for serial in months:
            for currency, base in RATES.items():
                if currency != self.reporting:
                    self.rate(serial, currency, base)
        self.load_pools()
        self.load_drivers(months)
        for number, serial in enumerate(months):
            self.month_items(serial)
            for key, line, kind, slug, category, amount, spread, offset in CAPEX:
                if number == offset:
                    self.item(
                        f"capex:{key}",
                        serial,
                        line,
                        kind,
                        slug,
                        category,
                        Decimal(amount),
                        expenditure=Expenditure.CAPEX,
                        spread=spread,
                    )
        current = months[-1]
        key, line, slug, category, currency, amount = UNCONVERTED
        self.item(key, current, line, "service", slug, category, Decimal(amount), currency=currency)
        self.roll_up(months)

    def period(self, serial: int) -> Period:
        year, month = divmod(serial, 12)
        period, created = Period.objects.get_or_create(year=year, month=month + 1)
        if created:
            self.count("periods")
        return period

    def rate(self, serial: int, currency: str, base: str) -> None:
        period = self.periods[serial]
        external_id = f"rate:{currency}:{period.label}"
        if ExchangeRate.objects.filter(source=SOURCE, external_id=external_id).exists():
            return
        if ExchangeRate.objects.filter(period=period, currency=currency).exists():
            return  # someone recorded the real rate: keep it
        value = (Decimal(base) * (1 + (wobble(currency, serial) - 1) / 4)).quantize(
            Decimal("0.0001")
        )
        services.save_rate(
            rate=ExchangeRate(
                source=SOURCE,
                external_id=external_id,
                period=period,
                currency=currency,
                rate=value,
            )
        )
        self.count("exchange rates")

    def load_pools(self) -> None:
        from django.contrib.auth import get_user_model

        users = {
            u.username: u
            for u in get_user_model().objects.filter(
                username__in={row[3] for row in POOLS.values()}
            )
        }
        existing = {p.external_id: p for p in CostPool.objects.filter(source=SOURCE)}
        for slug, (name, pool_type, description, owner, _, weights) in POOLS.items():
            pool = existing.get(f"pool:{slug}")
            if pool is None:
                if CostPool.objects.filter(slug=slug).exists():
                    continue  # a pool of someone else's has the slug: leave it alone
                pool = services.save_pool(
                    pool=CostPool(
                        source=SOURCE,
                        external_id=f"pool:{slug}",
                        name=name,
                        slug=slug,
                        pool_type=pool_type,
                        description=description,
                        owner=users.get(owner),
                    )
                )
                self.count("cost pools")
            self.pools[slug] = pool
            have = set(
                PoolAllocation.objects.filter(source=SOURCE, pool=pool).values_list(
                    "external_id", flat=True
                )
            )
            driver = self.driver(slug)
            for service_slug, weight in weights.items():
                external_id = f"allocation:{slug}:{service_slug}"
                service = self.services.get(service_slug)
                if external_id in have or service is None:
                    continue
                if PoolAllocation.objects.filter(pool=pool, service=service).exists():
                    continue
                services.save_allocation(
                    allocation=PoolAllocation(
                        source=SOURCE,
                        external_id=external_id,
                        pool=pool,
                        service=service,
                        weight=Decimal(weight),
                        driver=driver,
                    )
                )
                self.count("pool allocations")

    def driver(self, pool_slug: str) -> Driver | None:
        """The driver of a driven pool (made when missing), or None for a weighted one."""
        if pool_slug not in DRIVEN_POOLS:
            return None
        slug, name, unit, description, _ = DRIVEN_POOLS[pool_slug]
        driver = Driver.objects.filter(source=SOURCE, external_id=f"driver:{slug}").first()
        if driver is None:
            driver = Driver.objects.filter(slug=slug).first()
        if driver is None:
            driver = services.save_driver(
                driver=Driver(
                    source=SOURCE,
                    external_id=f"driver:{slug}",
                    name=name,
                    slug=slug,
                    unit=unit,
                    description=description,
                )
            )
            self.count("drivers")
        return driver

    def load_drivers(self, months: list[int]) -> None:
        """Each month's quantities of the driven pools' drivers, for the services the pool
        is allocated to."""
        have = set(
            DriverQuantity.objects.filter(source=SOURCE).values_list("external_id", flat=True)
        )
        for pool_slug, (slug, *_, typical) in DRIVEN_POOLS.items():
            driver = self.driver(pool_slug)
            assert driver is not None
            for serial in months:
                period = self.periods[serial]
                for service_slug, hours in typical.items():
                    service = self.services.get(service_slug)
                    external_id = f"quantity:{slug}:{service_slug}:{period.label}"
                    if service is None or external_id in have:
                        continue
                    if DriverQuantity.objects.filter(
                        driver=driver, period=period, service=service
                    ).exists():
                        continue  # someone recorded the real figure: keep it
                    services.save_quantity(
                        quantity=DriverQuantity(
                            source=SOURCE,
                            external_id=external_id,
                            driver=driver,
                            period=period,
                            service=service,
                            quantity=(hours * wobble(external_id, serial)).quantize(Decimal(1)),
                        )
                    )
                    self.count("driver quantities")

    def month_items(self, serial: int) -> None:
        for slug, lines in APPLICATION_COSTS.items():
            for number, (line, category, pool_type, amount) in enumerate(lines):
                self.item(
                    f"app:{slug}:{number}",
                    serial,
                    line,
                    "application",
                    slug,
                    category,
                    (Decimal(amount) * wobble(slug + line, serial)).quantize(Decimal("0.01")),
                    pool_type=pool_type,
                )
        for slug, lines in SERVICE_COSTS.items():
            for number, (line, category, pool_type, amount) in enumerate(lines):
                self.item(
                    f"service:{slug}:{number}",
                    serial,
                    line,
                    "service",
                    slug,
                    category,
                    (Decimal(amount) * wobble(slug + line, serial)).quantize(Decimal("0.01")),
                    pool_type=pool_type,
                )
        for slug, (_, pool_type, _, _, lines, _) in POOLS.items():
            for number, (line, category, amount) in enumerate(lines):
                self.item(
                    f"pool:{slug}:{number}",
                    serial,
                    line,
                    "pool",
                    slug,
                    category,
                    (Decimal(amount) * wobble(slug + line, serial)).quantize(Decimal("0.01")),
                    pool_type=pool_type,
                )
        for key, line, kind, target, category, currency, amount in FOREIGN:
            self.item(
                f"foreign:{key}",
                serial,
                line,
                kind,
                target,
                category,
                (Decimal(amount) * wobble(key, serial)).quantize(Decimal("0.01")),
                currency=currency,
            )

    def target(self, kind: str, key: str):
        return {
            "service": self.services,
            "application": self.applications,
            "contract": self.contracts,
            "pool": self.pools,
        }[kind].get(key)

    def item(
        self,
        key,
        serial,
        line,
        kind,
        target_key,
        category,
        amount,
        *,
        expenditure=Expenditure.OPEX,
        spread=1,
        currency=None,
        pool_type="",
    ) -> CostItem | None:
        period = self.periods[serial]
        external_id = f"cost:{period.label}:{key}"
        existing = self.items.get(external_id)
        if existing is not None:
            return existing
        target = self.target(kind, target_key)
        if target is None:
            return None
        item = CostItem(
            source=SOURCE,
            external_id=external_id,
            description=line,
            period=period,
            amount=amount,
            currency=currency or self.reporting,
            category=category,
            expenditure=expenditure,
            spread_months=spread,
            pool_type=pool_type,
            **{kind: target},
        )
        services.save_cost_item(item=item)
        self.items[external_id] = item
        self.count("cost items")
        return item

    def roll_up(self, months: list[int]) -> None:
        """Close the older months, restate one after a late invoice, and compute the open
        ones that have no current result yet (or whose data changed)."""
        closing = months[: len(months) - OPEN_MONTHS]
        for serial in closing:
            period = Period.objects.get(pk=self.periods[serial].pk)
            if not period.is_closed:
                services.close_period(period=period, trigger=RunTrigger.DEMO)
                self.count("closed periods")
        restated = months[len(months) - OPEN_MONTHS - RESTATED_MONTHS_AGO]
        key, line, slug, category, amount = LATE_INVOICE
        if self.item(key, restated, line, "service", slug, category, Decimal(amount)):
            period = Period.objects.get(pk=self.periods[restated].pk)
            if period.current_version == 1:
                services.restate_period(
                    period=period,
                    reason="Late invoice for emergency hardware support booked after closing.",
                )
                self.count("restatements")
        for serial in months[len(months) - OPEN_MONTHS :]:
            period = Period.objects.get(pk=self.periods[serial].pk)
            computed = TcoRun.objects.filter(
                period=period, version=period.current_version, outcome=RunOutcome.SUCCEEDED
            ).exists()
            if period.is_closed or (computed and period.recompute_requested_at is None):
                continue
            services.recompute_tco(period=period, trigger=RunTrigger.DEMO)
            self.count("roll-ups")
        # Everything is computed from the data as it now stands: the recomputation the
        # demo's own edits scheduled for after the commit has nothing left to do.
        services.discard_scheduled_recompute()


# The scheduled reports: (name, period, formats, scope, recipients, schedule, kind).
def demo_reports() -> list[tuple]:
    from finance.models import fiscal_start_month

    # The first month of each fiscal quarter: the quarter before it has just ended.
    quarter_starts = sorted((fiscal_start_month() - 1 + 3 * n) % 12 + 1 for n in range(4))
    return [
        (
            "Monthly TCO pack",
            ReportPeriodSelector.LAST_MONTH,
            [ReportFormat.XLSX, ReportFormat.CSV, ReportFormat.PDF],
            {},
            ["finance@example.org", "fiona@example.org"],
            {"minute": "0", "hour": "7", "day_of_month": "3", "month_of_year": "*"},
            ReportKind.SERVICES,
        ),
        (
            "Quarterly customer-facing summary",
            ReportPeriodSelector.LAST_QUARTER,
            [ReportFormat.PDF, ReportFormat.XLSX],
            {"kind": "customer_facing"},
            ["cfo@example.org", "demo@example.org"],
            {
                "minute": "30",
                "hour": "8",
                "day_of_month": "10",
                "month_of_year": ",".join(map(str, quarter_starts)),
            },
            ReportKind.SERVICES,
        ),
        (
            # Each relationship manager receives their customers' statements; finance those
            # of the customers without one.
            "Monthly customer statements",
            ReportPeriodSelector.LAST_MONTH,
            [ReportFormat.PDF, ReportFormat.XLSX],
            {},
            ["finance@example.org"],
            {"minute": "30", "hour": "7", "day_of_month": "3", "month_of_year": "*"},
            ReportKind.STATEMENTS,
        ),
        (
            # Each relationship manager receives the service review packs of their customers
            # for the month; finance those of the customers without one.
            "Monthly service reviews",
            ReportPeriodSelector.LAST_MONTH,
            [ReportFormat.PDF, ReportFormat.XLSX],
            {},
            ["finance@example.org"],
            {"minute": "45", "hour": "7", "day_of_month": "3", "month_of_year": "*"},
            ReportKind.REVIEW_PACKS,
        ),
    ]


def load_reports() -> int:
    """The demo's scheduled reports, each created once (an edited one is left as it is)."""
    from django.contrib.auth import get_user_model

    author = get_user_model().objects.filter(username="fiona").first()
    made = 0
    for name, selector, formats, scope, recipients, schedule, kind in demo_reports():
        if ReportDefinition.objects.filter(name=name).exists():
            continue
        services.save_report_definition(
            definition=ReportDefinition(
                name=name,
                kind=kind,
                period_selector=selector,
                formats=formats,
                scope=scope,
                recipients=recipients,
                day_of_week="*",
                **schedule,
            ),
            user=author,
        )
        made += 1
    return made


def load(*, stdout) -> None:
    from django.utils import timezone

    demo = FinanceDemo(today=timezone.localdate())
    if not demo.services:
        stdout.write("Demo finance: skipped, the demo portfolio is not there.")
        return
    demo.load()
    reports = load_reports()
    if reports:
        demo.created["scheduled reports"] = reports
    made = ", ".join(f"{n} {what}" for what, n in demo.created.items()) or "nothing new"
    first, last = demo_months(demo.today)[0], demo_months(demo.today)[-1]
    stdout.write(f"Demo finance ({serial_label(first)} to {serial_label(last)}): {made}.")
