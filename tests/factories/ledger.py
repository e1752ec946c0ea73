"""Generated general-ledger files, the mapping rules the ledger tests map them with, and single
records for the view matrix and the API's list tests."""

import csv
import datetime
import io
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PoolType
from ledger import services
from ledger.choices import MatchKind
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory

HEADER = ("Account", "Cost Centre", "Vendor", "Description", "Amount", "Currency",
          "Posting Date")  # fmt: skip
ACCOUNTS = ["6100", "6110", "6200", "6210", "6250", "6300", "6400", "6510", "7100", "7200"]
COST_CENTRES = ["CC-410", "CC-420", "CC-510", "CC-520", "CC-600", "CC-700", ""]
VENDORS = ["Amazon Web Services EMEA", "Microsoft Ireland", "Dell", "Atos", "KPN",
           "Iron Mountain", "Amazonia Catering", ""]  # fmt: skip


def ledger_rows(lines: int, *, seed: int = 1, months=((2025, 3),)) -> list[dict]:
    """``lines`` ledger lines, deterministic for a seed: amounts of either sign, some with
    more places than cents (allocations), spread over ``months``."""
    rng = random.Random(seed)
    rows = []
    for number in range(lines):
        year, month = months[number % len(months)]
        cents = rng.randrange(-20_000, 2_000_000)
        amount = Decimal(cents) / 100
        if number % 7 == 0:  # an allocated posting: a fraction of a cent
            amount += Decimal(rng.randrange(0, 1000)) / 100_000
        rows.append(
            {
                "Account": rng.choice(ACCOUNTS),
                "Cost Centre": rng.choice(COST_CENTRES),
                "Vendor": rng.choice(VENDORS),
                "Description": f"Posting {number}",
                "Amount": str(amount),
                "Currency": "EUR",
                "Posting Date": datetime.date(year, month, 1 + number % 28).isoformat(),
            }
        )
    return rows


def ledger_csv(rows: list[dict], header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def import_rows(rows: list[dict], *, name: str = "ledger.csv", user=None):
    return services.import_ledger(stream=io.BytesIO(ledger_csv(rows)), name=name, user=user)


def expected_rule(row: dict) -> str | None:
    """Which of ``ledger_rules``'s rules takes a row, written out plainly: the oracle the
    matcher is checked against."""
    account, centre, vendor = row["Account"], row["Cost Centre"], row["Vendor"]
    if account == "6100":
        return "hosting"
    if account.startswith("62") and centre == "CC-410":
        return "claims development"
    if vendor.lower().startswith(("amazon web services", "microsoft")):
        return "cloud contracts"
    if centre.startswith("CC-5"):
        return "service desk"
    if vendor == "Dell" and account.startswith("6"):
        return "hardware"
    return None


@pytest.fixture
def ledger_rules(db):
    """Rules of every kind (exact, prefix, regex; on account, cost centre and vendor) to a
    service, an application, a contract and a pool, ordered by priority."""
    hosting = ServiceFactory(name="Hosting")
    workplace = ServiceFactory(name="Workplace")
    claims = ApplicationFactory(name="Claims")
    contract = ContractFactory(annual_value=Decimal(0))
    desk = CostPoolFactory(name="Service desk")
    PoolAllocationFactory(pool=desk, service=workplace)
    ApplicationSupportFactory(application=claims, service=hosting)
    ContractCoverageFactory(contract=contract, service=workplace)
    rules = {
        "hosting": LedgerRule(name="hosting", priority=10, account="6100", service=hosting),
        "claims development": LedgerRule(
            name="claims development",
            priority=20,
            account="62",
            account_match=MatchKind.PREFIX,
            cost_centre="CC-410",
            application=claims,
            category=CostCategory.DEVELOPMENT,
            expenditure=Expenditure.CAPEX,
        ),
        "cloud contracts": LedgerRule(
            name="cloud contracts",
            priority=30,
            vendor=r"(amazon web services|microsoft)\b.*",
            vendor_match=MatchKind.REGEX,
            contract=contract,
            category=CostCategory.VENDOR,
        ),
        "service desk": LedgerRule(
            name="service desk",
            priority=40,
            cost_centre="cc-5",
            cost_centre_match=MatchKind.PREFIX,
            pool=desk,
            category=CostCategory.SUPPORT,
            pool_type=PoolType.LABOUR,
        ),
        "hardware": LedgerRule(
            name="hardware",
            priority=50,
            account="6",
            account_match=MatchKind.PREFIX,
            vendor="dell",
            service=workplace,
        ),
    }
    for rule in rules.values():
        services.save_rule(rule=rule)
    return {"rules": rules, "hosting": hosting, "workplace": workplace, "claims": claims,
            "contract": contract, "desk": desk}  # fmt: skip


# --- Single records (the API's list tests, the view matrix) ---------------------------------


def make_rule(**fields) -> LedgerRule:
    number = LedgerRule.objects.count() + 1
    fields.setdefault("service", ServiceFactory(name=f"Ledger service {number}"))
    return services.save_rule(
        rule=LedgerRule(
            **{
                "name": f"Ledger rule {number}",
                "priority": number,
                "account": f"6{number:03d}",
                **fields,
            }
        )
    )


def make_import(**fields) -> LedgerImport:
    period = fields.pop("period", None) or PeriodFactory(
        year=2024, month=LedgerImport.objects.count() % 12 + 1
    )
    return LedgerImport.objects.create(
        period=period,
        digest="0" * 64,
        line_count=1,
        unmapped_count=1,
        totals={"EUR": {"total": "2.50", "mapped": "0", "unmapped": "2.50"}},
        top_unmapped=[
            {
                "account": "6999",
                "cost_centre": "CC-1",
                "vendor": "Acme",
                "currency": "EUR",
                "amount": "2.50",
                "lines": 1,
            }
        ],
        imported_at=timezone.now(),
        **fields,
    )


def make_line(ledger_import: LedgerImport | None = None, **fields) -> LedgerLine:
    ledger_import = ledger_import or make_import()
    return LedgerLine.objects.create(
        **{
            "ledger_import": ledger_import,
            "row_number": LedgerLine.objects.filter(ledger_import=ledger_import).count() + 2,
            "account": "6999",
            "cost_centre": "CC-1",
            "vendor": "Acme",
            "description": "Consulting",
            "amount": Decimal("2.50"),
            "currency": "EUR",
            "posting_date": datetime.date(ledger_import.period.year, ledger_import.period.month, 3),
            "unmapped": True,
            **fields,
        }
    )
