"""The FOCUS 1.0 sample (tests/data/focus: FOCUS sample data, FinOps Foundation, CC BY 4.0)
and the tag rules the cloud tests map it with."""

import csv
import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from cloud import services
from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from finance.choices import Expenditure
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ServiceFactory

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "focus" / "focus_sample.csv"


def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


def sample_rows() -> list[dict]:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def sample_parquet() -> bytes:
    """The sample as a provider exports it in Parquet: typed columns (decimal costs, UTC
    times), nulls for the CSV's NULL."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sample_rows()
    columns = list(rows[0])
    arrays = {}
    for column in columns:
        values = [None if row[column] in ("", "NULL") else row[column] for row in rows]
        if column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
            arrays[column] = pa.array(
                [None if v is None else Decimal(v) for v in values], pa.decimal128(30, 12)
            )
        elif column.endswith(("PeriodStart", "PeriodEnd")):
            arrays[column] = pa.array(
                [None if v is None else v.replace(" ", "T") + "Z" for v in values], pa.string()
            ).cast(pa.timestamp("s", tz="UTC"))
        else:
            arrays[column] = pa.array(values, pa.string())
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays), buffer)
    return buffer.getvalue()


def import_sample(data: bytes | None = None, *, name: str = "focus_sample.csv", user=None):
    return services.import_focus(
        stream=io.BytesIO(sample_bytes() if data is None else data), name=name, user=user
    )


def tags_of(row: dict) -> dict:
    return {} if row["Tags"] in ("", "NULL") else json.loads(row["Tags"])


@pytest.fixture
def sample_rules(db):
    """Rules of every kind over the sample: by tag (a synonym among the keys, a key with a
    stray space), by provider service, by resource name, by account; ordered by priority."""
    bright = ServiceFactory(name="Bright Path")
    production = ServiceFactory(name="Production platform")
    reporting = ApplicationFactory(name="Org reporting")
    storage = CostPoolFactory(name="Shared storage")
    services.save_synonym(synonym=TagKeySynonym(synonym="ENV", key="environment"))
    rules = {
        "bright": TagRule(name="Bright Path", priority=10, tag_key="Application",
                          tag_value="brightpathmatrix", service=bright),
        "org": TagRule(name="Org tag", priority=20, tag_key="org", application=reporting),
        "storage": TagRule(name="Object storage", priority=30,
                           provider_service_name="amazon simple storage service", pool=storage),
        "prod": TagRule(name="Production", priority=15, tag_key="environment",
                        tag_value="prod", service=production,
                        expenditure=Expenditure.CAPEX),
    }  # fmt: skip
    for rule in rules.values():
        services.save_rule(rule=rule)
    return {"rules": rules, "bright": bright, "production": production,
            "reporting": reporting, "storage": storage}  # fmt: skip


# --- Single records (the API's list tests, the view matrix) ---------------------------------


def make_account(**fields) -> CloudAccount:
    number = CloudAccount.objects.count() + 1
    pool = CostPoolFactory(name=f"Untagged cloud spend {number}")
    return CloudAccount.objects.create(
        **{
            "name": f"Account {number}",
            "slug": f"account-{number}",
            "provider_name": "AWS",
            "billing_account_id": f"{100000 + number}",
            "untagged_pool": pool,
            **fields,
        }
    )


def make_billing_import(account: CloudAccount | None = None, **fields) -> BillingImport:
    account = account or make_account()
    period = fields.pop("period", None) or PeriodFactory(year=2025, month=3)
    return BillingImport.objects.create(
        account=account,
        period=period,
        billing_period_start=datetime.datetime(period.year, period.month, 1, tzinfo=datetime.UTC),
        billing_period_end=datetime.datetime(period.year, period.month, 28, tzinfo=datetime.UTC),
        digest="0" * 64,
        line_count=1,
        untagged_count=1,
        totals={
            "USD": {"effective": "2.50", "billed": "3.00", "allocated": "0", "untagged": "2.50"}
        },
        top_untagged=[
            {
                "resource_id": "i-0abc",
                "resource_name": "web-1",
                "service_name": "Amazon Elastic Compute Cloud",
                "currency": "USD",
                "effective_cost": "2.50",
            }
        ],
        imported_at=timezone.now(),
        **fields,
    )


def make_focus_line(billing_import: BillingImport | None = None) -> FocusLine:
    billing_import = billing_import or make_billing_import()
    account = billing_import.account
    return FocusLine.objects.create(
        billing_import=billing_import,
        billing_account_id=account.billing_account_id,
        billing_account_name=account.name,
        provider_name=account.provider_name,
        charge_period_start=billing_import.billing_period_start,
        charge_period_end=billing_import.billing_period_start + datetime.timedelta(hours=1),
        billing_period_start=billing_import.billing_period_start,
        billing_period_end=billing_import.billing_period_end,
        charge_category="Usage",
        service_category="Compute",
        service_name="Amazon Elastic Compute Cloud",
        resource_id="i-0abc",
        resource_name="web-1",
        tags={"env": "prod"},
        billed_cost=Decimal("3.00"),
        effective_cost=Decimal("2.50"),
        billing_currency="USD",
        untagged=True,
    )


def make_tag_rule(**fields) -> TagRule:
    number = TagRule.objects.count() + 1
    fields.setdefault("service", ServiceFactory(name=f"Cloud service {number}"))
    return services.save_rule(
        rule=TagRule(
            **{
                "name": f"Rule {number}",
                "priority": number,
                "tag_key": "application",
                "tag_value": f"app-{number}",
                **fields,
            }
        )
    )


def make_synonym() -> TagKeySynonym:
    number = TagKeySynonym.objects.count() + 1
    return services.save_synonym(synonym=TagKeySynonym(synonym=f"key{number}", key="environment"))
