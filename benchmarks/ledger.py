"""Importing general-ledger files with ledger rules: 10,000 lines, then 100,000."""

import csv
import datetime
import io
import random
import time
from decimal import Decimal

from finance import services as finance_services
from finance.models import CostItem
from finance.models import Period
from ledger import services
from ledger.choices import MatchKind
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from portfolio.models import Service

TITLE = "General ledger (ledger import)"
DESCRIPTION = (
    "Generated general-ledger CSV files (seed 1): 400 accounts, 120 cost centres, 300 "
    "vendors, amounts of either sign, one line in seven with fractions of a cent. 60 ledger "
    "rules map them to 60 services: 20 exact accounts, 20 account prefixes with a cost "
    "centre, 10 vendor regular expressions, 10 cost-centre prefixes; about a third of the "
    "lines stay unmapped. Timed: `ledger.services.import_ledger` of a month of 10,000 lines "
    "(read, match every line, book the cost items, COPY the lines), the same file again "
    "(nothing written), again after a rule changed (every line and item replaced), the rule "
    "test of the file (`try_rules`, nothing written), the roll-up of the month, and a file "
    "of 100,000 lines over 10 months. Each import is checked to reconcile to the cent."
)

LINES = 10_000
BIG_LINES = 100_000
ACCOUNTS = [str(6000 + n * 7) for n in range(400)]
COST_CENTRES = [f"CC-{100 + n}" for n in range(120)]
VENDORS = [f"Vendor {n:03d} {'Cloud' if n % 9 == 0 else 'Services'}" for n in range(300)]


def ledger_bytes(lines: int, months: int = 1, seed: int = 1) -> tuple[bytes, Decimal]:
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Account", "Cost Centre", "Vendor", "Description", "Amount", "Currency",
                     "Posting Date"])  # fmt: skip
    total = Decimal(0)
    for number in range(lines):
        amount = Decimal(rng.randrange(-50_000, 5_000_000)) / 100
        if number % 7 == 0:
            amount += Decimal(rng.randrange(0, 1000)) / 100_000
        total += amount
        day = datetime.date(2030, 1 + number % months, 1 + number % 28)
        writer.writerow([rng.choice(ACCOUNTS), rng.choice(COST_CENTRES), rng.choice(VENDORS),
                         f"Posting {number}", str(amount), "EUR", day.isoformat()])  # fmt: skip
    return buffer.getvalue().encode(), total


def make_rules() -> list[LedgerRule]:
    targets = [Service.objects.create(name=f"Ledger consumer {n}", slug=f"ledger-consumer-{n}")
               for n in range(60)]  # fmt: skip
    rules = []
    for n in range(20):
        rules.append(LedgerRule(name=f"Account {n}", priority=10 + n, account=ACCOUNTS[n * 3],
                                service=targets[n]))  # fmt: skip
    for n in range(20):
        rules.append(LedgerRule(name=f"Prefix {n}", priority=100 + n, account=f"6{n % 10}",
                                account_match=MatchKind.PREFIX, cost_centre=COST_CENTRES[n],
                                service=targets[20 + n]))  # fmt: skip
    for n in range(10):
        rules.append(LedgerRule(name=f"Vendors {n}", priority=200 + n,
                                vendor=rf"vendor 0{n}\d cloud", vendor_match=MatchKind.REGEX,
                                service=targets[40 + n]))  # fmt: skip
    for n in range(10):
        rules.append(LedgerRule(name=f"Centres {n}", priority=300 + n, cost_centre=f"CC-1{n}",
                                cost_centre_match=MatchKind.PREFIX,
                                service=targets[50 + n]))  # fmt: skip
    return [services.save_rule(rule=rule) for rule in rules]


def reconciles(period: Period, total: Decimal) -> bool:
    booked = sum(
        (item.amount for item in CostItem.objects.filter(source="ledger", period=period)),
        Decimal(0),
    )
    return booked == total.quantize(Decimal("0.01"))


def run(bench) -> None:
    lines = max(1000, round(LINES * bench.scale))
    rules = make_rules()
    data, total = ledger_bytes(lines)

    started = time.perf_counter()
    (result,) = services.import_ledger(stream=io.BytesIO(data), name="ledger.csv")
    first = time.perf_counter() - started
    period = Period.objects.get(year=2030, month=1)
    bench.figure(
        f"Import of {lines:,} lines ({result.unmapped_lines:,} unmapped)",
        f"{first:.2f} s ({lines / first:,.0f} lines/s)",
        target="< 5 s",
        met=first < 5 and LedgerLine.objects.count() == lines and reconciles(period, total),
    )
    started = time.perf_counter()
    (again,) = services.import_ledger(stream=io.BytesIO(data), name="ledger.csv")
    second = time.perf_counter() - started
    bench.figure(
        "The same file again (unchanged, nothing written)",
        f"{second:.2f} s",
        target="< 5 s",
        met=second < 5 and again.outcome == "unchanged",
    )
    rules[0].account = ACCOUNTS[1]
    services.save_rule(rule=rules[0])
    started = time.perf_counter()
    (replaced,) = services.import_ledger(stream=io.BytesIO(data), name="ledger.csv")
    third = time.perf_counter() - started
    bench.figure(
        "The same file after a rule changed (lines and cost items replaced)",
        f"{third:.2f} s",
        target="< 5 s",
        met=third < 5 and replaced.outcome == "replaced" and reconciles(period, total),
    )
    started = time.perf_counter()
    outcome = services.try_rules(stream=io.BytesIO(data), name="ledger.csv")
    tested = time.perf_counter() - started
    bench.figure(
        f"Rule test of the {lines:,}-line file (nothing written)",
        f"{tested:.2f} s",
        target="< 5 s",
        met=tested < 5 and outcome.lines == lines,
    )
    started = time.perf_counter()
    run_ = finance_services.recompute_tco(period=period)
    rollup = time.perf_counter() - started
    bench.figure(
        "Roll-up of the month after the import",
        f"{rollup:.2f} s ({run_.services_count} services)",
        target="< 10 s",
        met=rollup < 10 and run_.kept_total + run_.unallocated_total == run_.input_total,
    )
    big = max(10_000, round(BIG_LINES * bench.scale))
    data, total = ledger_bytes(big, months=10, seed=2)
    started = time.perf_counter()
    results = services.import_ledger(stream=io.BytesIO(data), name="big.csv")
    elapsed = time.perf_counter() - started
    booked = sum((item.amount for item in CostItem.objects.filter(source="ledger")), Decimal(0))
    exact_months = sum((Decimal(r.totals["EUR"]["total"]) for r in results), Decimal(0))
    bench.figure(
        f"Import of {big:,} lines over {len(results)} months",
        f"{elapsed:.1f} s ({big / elapsed:,.0f} lines/s)",
        target="< 60 s",
        met=elapsed < 60 and exact_months == total and abs(booked - total) < len(results) / 100,
    )
    bench.note(
        "Every import above was checked to reconcile: its cost items add up to the file's "
        "total rounded once, to the cent (the 100,000-line file: per month)."
    )
