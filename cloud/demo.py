"""The demo organisation's cloud bill: one AWS billing account whose current month holds a few
hundred FOCUS lines, most tagged (with the messy keys real bills have) and mapped to demo
services by tag rules, the rest untagged, so Fund services shows untagged cloud spend."""

import csv
import datetime
import io
import json
import random

from django.utils import timezone

from cloud import services
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core.demo import SOURCE
from finance import services as finance_services
from finance.choices import CostCategory
from finance.choices import RunTrigger
from finance.models import month_serial
from finance.models import serial_label
from portfolio.models import Service

ACCOUNT = ("AWS", "210987654321", "Portico Insurance production")
LINES = 300
# application tag value -> the demo service it maps to, and the rule's category
APPLICATIONS = {
    "claims-portal": ("online-claims", CostCategory.INFRASTRUCTURE),
    "selfservice": ("policy-self-service", CostCategory.INFRASTRUCTURE),
    "quote-engine": ("quote-and-buy", CostCategory.INFRASTRUCTURE),
    "dwh": ("data-warehouse", CostCategory.INFRASTRUCTURE),
}
# (ServiceName, ServiceCategory, typical EffectiveCost of a line in USD)
PROVIDER_SERVICES = (
    ("Amazon Elastic Compute Cloud", "Compute", 42.0),
    ("Amazon Relational Database Service", "Databases", 65.0),
    ("Amazon Simple Storage Service", "Storage", 12.0),
    ("Elastic Load Balancing", "Networking", 6.0),
    ("AmazonCloudWatch", "Management and Governance", 3.0),
)
COLUMNS = (
    "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName", "ProviderName",
    "PublisherName", "InvoiceIssuerName", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ServiceCategory", "ServiceName",
    "ResourceId", "ResourceName", "RegionId", "Tags", "BilledCost", "EffectiveCost", "ListCost",
    "BillingCurrency",
)  # fmt: skip


def demo_bill(year: int, month: int) -> bytes:
    """The month's FOCUS lines, the same on every load (seeded by the month)."""
    rng = random.Random(year * 100 + month)
    start = datetime.datetime(year, month, 1)
    end = datetime.datetime(year + month // 12, month % 12 + 1, 1)
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    applications = list(APPLICATIONS)
    for number in range(LINES):
        service_name, category, typical = PROVIDER_SERVICES[number % len(PROVIDER_SERVICES)]
        day = start + datetime.timedelta(days=number % 28)
        roll = rng.random()
        resource = f"{service_name.split()[-1].lower()}-{number % 40:02d}"
        if roll < 0.7:
            application = applications[number % len(applications)]
            # The keys as teams write them: case, a stray space, a short form.
            key = rng.choice(["application", "Application", " application"])
            env_key = rng.choice(["environment", "env", "Env"])
            tags = json.dumps({key: application, env_key: rng.choice(["prod", "test"])})
        else:
            tags = ""
        effective = round(typical * (0.5 + rng.random()), 2)
        billed = round(effective * 1.08, 2)
        writer.writerow((
            ACCOUNT[1], ACCOUNT[2], "210987654321", "production", ACCOUNT[0],
            "Amazon Web Services, Inc.", "Amazon Web Services, Inc.",
            start.isoformat(sep=" "), end.isoformat(sep=" "), day.isoformat(sep=" "),
            (day + datetime.timedelta(days=1)).isoformat(sep=" "), "Usage", category,
            service_name, f"arn:aws:demo:{resource}", resource, "eu-central-1", tags,
            f"{billed:.2f}", f"{effective:.2f}", f"{billed * 1.2:.2f}", "USD",
        ))  # fmt: skip
    return output.getvalue().encode()


def load_rules(services_by_slug: dict[str, Service]) -> int:
    made = 0
    if not TagKeySynonym.objects.filter(source=SOURCE, external_id="synonym:env").exists():
        services.save_synonym(
            synonym=TagKeySynonym(
                source=SOURCE, external_id="synonym:env", synonym="env", key="environment"
            )
        )
        made += 1
    for priority, (application, (slug, category)) in enumerate(APPLICATIONS.items(), start=1):
        external_id = f"rule:{application}"
        if TagRule.objects.filter(source=SOURCE, external_id=external_id).exists():
            continue
        services.save_rule(
            rule=TagRule(
                source=SOURCE,
                external_id=external_id,
                name=f"{services_by_slug[slug].name} ({application})",
                priority=priority * 10,
                tag_key="application",
                tag_value=application,
                service=services_by_slug[slug],
                category=category,
            )
        )
        made += 1
    return made


def load(*, stdout) -> None:
    wanted = {slug for slug, _ in APPLICATIONS.values()}
    services_by_slug = {s.slug: s for s in Service.objects.filter(source=SOURCE, slug__in=wanted)}
    if len(services_by_slug) < len(wanted):
        stdout.write("Demo cloud bill: skipped, the demo portfolio is not there.")
        return
    rules = load_rules(services_by_slug)
    today = timezone.localdate()
    results = services.import_focus(
        stream=io.BytesIO(demo_bill(today.year, today.month)), name="demo-aws.csv"
    )
    label = serial_label(month_serial(today.year, today.month))
    changed = [r for r in results if r.outcome != "unchanged"]
    if changed:
        period = finance_services.period_for(label)
        if not period.is_closed:
            finance_services.recompute_tco(period=period, trigger=RunTrigger.DEMO)
        # Computed from the data as it now stands: nothing is left for after the commit.
        finance_services.discard_scheduled_recompute()
    lines = sum(r.lines for r in results)
    untagged = sum(r.untagged_lines for r in results)
    stdout.write(
        f"Demo cloud bill ({label}): {lines} lines of {ACCOUNT[0]} {ACCOUNT[2]}, "
        f"{untagged} untagged, {'imported' if changed else 'unchanged'}; tag rules and key "
        f"synonyms: {rules} created."
    )
