"""Importing a month of FOCUS cloud bills: 1,000,000 lines, with tag rules."""

import csv
import datetime
import json
import os
import random
import tempfile
import time
from decimal import Decimal

from django.db import connection

from cloud import services
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from finance import services as finance_services
from finance.models import ExchangeRate
from finance.models import Period
from portfolio.models import Service

TITLE = "Cloud bills (FOCUS import)"
DESCRIPTION = (
    "A generated FOCUS 1.0 CSV file of one month (seed 1): 1,000,000 lines of 3 billing "
    "accounts, 40 provider services, 20,000 resources; 70 % of the lines tagged with messy "
    "keys (`application`, `Application`, ` env`, `environment`…), the rest untagged. 50 tag "
    "rules (by tag key and value, by provider service, by resource name pattern) and a key "
    "synonym map them to 50 services. Timed: `cloud.services.import_focus` of the file (read, "
    "parse, match every line, COPY into a staging table, book the cost items, insert the "
    "lines), then the same file again (nothing written), then the roll-up of the month."
)

LINES = 1_000_000
TARGET_SECONDS = 120
ACCOUNTS = (("AWS", "111111111111", "Main"), ("AWS", "222222222222", "Data"),
            ("Microsoft", "/providers/Microsoft.Billing/billingAccounts/42", "Azure"))  # fmt: skip
COLUMNS = (
    "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", "ProviderName",
    "PublisherName", "InvoiceIssuerName", "ChargePeriodStart", "ChargePeriodEnd",
    "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory", "ChargeDescription",
    "ServiceCategory", "ServiceName", "ResourceId", "ResourceName", "RegionId", "Tags",
    "BilledCost", "EffectiveCost", "ListCost", "BillingCurrency",
)  # fmt: skip
APPLICATIONS = [f"app-{n:02d}" for n in range(40)]
PROVIDER_SERVICES = [f"Cloud Service {n:02d}" for n in range(40)]


def write_file(path: str, lines: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime.datetime(2030, 1, 1)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(lines):
            provider, account, name = ACCOUNTS[number % len(ACCOUNTS)]
            resource = rng.randrange(20_000)
            hour = start + datetime.timedelta(hours=number % 744)
            roll = rng.random()
            if roll < 0.35:
                tags = {rng.choice(["application", "Application", " application"]):
                        APPLICATIONS[resource % 40], "environment": "prod"}  # fmt: skip
            elif roll < 0.7:
                tags = {rng.choice(["env", "environment"]): rng.choice(["prod", "dev"]),
                        "CostCenter": str(resource % 90)}  # fmt: skip
            else:
                tags = None
            effective = rng.randrange(0, 500_000) / 1_000_000
            writer.writerow((
                account, name, f"sub-{resource % 30}", f"Subscription {resource % 30}",
                provider, provider, provider, hour.isoformat(sep=" "),
                (hour + datetime.timedelta(hours=1)).isoformat(sep=" "),
                "2030-01-01 00:00:00", "2030-02-01 00:00:00", "Usage", "Usage of a resource",
                "Compute", PROVIDER_SERVICES[resource % 40], f"res-{resource}",
                f"{'web' if resource % 3 else 'db'}-{resource}", "eu-west-1",
                json.dumps(tags) if tags else "NULL", f"{effective * 1.1:.6f}",
                f"{effective:.6f}", f"{effective * 1.3:.6f}", "USD",
            ))  # fmt: skip


def make_rules() -> None:
    targets = [Service.objects.create(name=f"Cloud consumer {n}", slug=f"cloud-consumer-{n}")
               for n in range(50)]  # fmt: skip
    services.save_synonym(synonym=TagKeySynonym(synonym="env", key="environment"))
    for n, application in enumerate(APPLICATIONS):
        services.save_rule(rule=TagRule(name=f"Application {application}", priority=10 + n,
                                        tag_key="application", tag_value=application,
                                        service=targets[n]))  # fmt: skip
    for n in range(5):
        services.save_rule(rule=TagRule(name=f"Provider service {n}", priority=100 + n,
                                        provider_service_name=PROVIDER_SERVICES[n],
                                        service=targets[40 + n]))  # fmt: skip
    for n in range(5):
        services.save_rule(rule=TagRule(name=f"Databases {n}", priority=200 + n,
                                        resource_name_pattern=f"db-{n}*",
                                        service=targets[45 + n]))  # fmt: skip


def run(bench) -> None:
    lines = max(1000, round(LINES * bench.scale))
    make_rules()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "focus.csv")
        started = time.perf_counter()
        write_file(path, lines)
        bench.note(
            f"Generating the file ({os.path.getsize(path) / 1e6:.0f} MB) took "
            f"{time.perf_counter() - started:.1f} s (not part of the import)."
        )
        started = time.perf_counter()
        with open(path, "rb") as stream:
            results = services.import_focus(stream=stream, name="focus.csv")
        first = time.perf_counter() - started
        stored = FocusLine.objects.count()
        untagged = FocusLine.objects.filter(untagged=True).count()
        bench.figure(
            f"Import of {lines:,} lines ({len(results)} accounts, {untagged:,} untagged)",
            f"{first:.1f} s ({lines / first:,.0f} lines/s)",
            target=f"< {TARGET_SECONDS} s",
            met=first < TARGET_SECONDS and stored == lines,
        )
        started = time.perf_counter()
        with open(path, "rb") as stream:
            again = services.import_focus(stream=stream, name="focus.csv")
        second = time.perf_counter() - started
        bench.figure(
            "The same file again (every billing period unchanged, nothing written)",
            f"{second:.1f} s",
            target=f"< {TARGET_SECONDS} s",
            met=second < TARGET_SECONDS and {r.outcome for r in again} == {"unchanged"},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    period = Period.objects.get(year=2030, month=1)
    ExchangeRate.objects.create(period=period, currency="USD", rate=Decimal("0.9"))
    started = time.perf_counter()
    run_ = finance_services.recompute_tco(period=period)
    rollup = time.perf_counter() - started
    bench.figure(
        "Roll-up of the month after the import",
        f"{rollup:.2f} s ({run_.services_count} services)",
        target="< 10 s",
        met=rollup < 10,
    )
