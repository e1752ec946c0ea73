import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from cloud import services
from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from cloud.models import TagRule
from core.models import ObjectChange
from core.money import to_cents
from finance.choices import Expenditure
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.services import close_period
from finance.services import recompute_tco
from finance.services import restate_period
from tests.factories.cloud import SAMPLE
from tests.factories.cloud import import_sample
from tests.factories.cloud import sample_bytes
from tests.factories.cloud import sample_parquet
from tests.factories.cloud import sample_rows
from tests.factories.cloud import tags_of

pytestmark = pytest.mark.django_db


def exact_by_account_period() -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in sample_rows():
        totals[(row["BillingAccountId"], row["BillingPeriodStart"][:7])] += Decimal(
            row["EffectiveCost"]
        )
    return totals


def focus_items(account: CloudAccount, label: str):
    return CostItem.objects.filter(source="focus", external_id__startswith=f"{account.pk}/{label}/")


def test_sample_imports_every_line_per_account_and_billing_period(sample_rules):
    results = import_sample()

    assert sorted((r.account.provider_name, r.period_label, r.lines) for r in results) == [
        ("AWS", "2024-09", 942),
        ("Microsoft", "2024-09", 51),
        ("Oracle", "2024-09", 6),
        ("Oracle", "2024-10", 1),
    ]
    assert {r.outcome for r in results} == {"imported"}
    assert FocusLine.objects.count() == 1000
    assert not FocusLine.objects.filter(cost_item=None).exists()
    line = FocusLine.objects.get(resource_id__endswith="i-032l64f2065481b12")
    assert line.effective_cost == Decimal("0E-12")
    assert line.billed_cost == Decimal("0.0000008")
    assert line.service_category == "Integration" and line.charge_category == "Usage"


def test_effective_cost_is_allocated_plus_untagged_to_the_cent(sample_rules):
    import_sample()

    for (account_id, month), exact in exact_by_account_period().items():
        account = CloudAccount.objects.get(billing_account_id=account_id)
        items = focus_items(account, month)
        untagged = items.filter(pool=account.untagged_pool)
        allocated = items.exclude(pool=account.untagged_pool)
        allocated_sum = sum((item.amount for item in allocated), Decimal(0))
        untagged_sum = sum((item.amount for item in untagged), Decimal(0))
        assert allocated_sum + untagged_sum == to_cents(exact)
        lines = FocusLine.objects.filter(
            billing_import__account=account, billing_import__period__year=int(month[:4]),
            billing_import__period__month=int(month[5:]),
        )  # fmt: skip
        untagged_exact = sum(
            (line.effective_cost for line in lines.filter(untagged=True)), Decimal(0)
        )
        assert abs(untagged_sum - untagged_exact) <= Decimal("0.01")
        # Every cost item is its lines' sum, within the one cent the shared rounding moves.
        for item in items:
            exact_item = sum((line.effective_cost for line in item.focus_lines.all()), Decimal(0))
            assert abs(item.amount - exact_item) <= Decimal("0.01"), item
        billing_import = BillingImport.objects.get(
            account=account, period__year=int(month[:4]), period__month=int(month[5:])
        )
        totals = billing_import.totals["USD"]
        assert Decimal(totals["allocated"]) + Decimal(totals["untagged"]) == exact
        assert Decimal(totals["billed"]) == sum(
            (Decimal(r["BilledCost"]) for r in sample_rows()
             if r["BillingAccountId"] == account_id and r["BillingPeriodStart"][:7] == month),
            Decimal(0),
        )  # fmt: skip


def test_rules_take_lines_by_priority_with_normalised_keys_and_synonyms(sample_rules):
    import_sample()
    rules = sample_rules["rules"]
    rows = sample_rows()

    bright = [r for r in rows if tags_of(r).get("application", "").lower() == "brightpathmatrix"]
    assert FocusLine.objects.filter(rule=rules["bright"]).count() == len(bright) == 176

    def normal_keys(row):
        return {" ".join(k.split()).lower(): v for k, v in tags_of(row).items()}

    def environment(row):
        keys = normal_keys(row)
        return keys.get("environment", keys.get("env", "")).lower()

    prod = [r for r in rows if r not in bright and environment(r) == "prod"]
    assert FocusLine.objects.filter(rule=rules["prod"]).count() == len(prod)
    assert any("env" in tags_of(r) for r in prod)  # the synonym counts
    org = [r for r in rows if r not in bright and r not in prod and "org" in normal_keys(r)]
    assert FocusLine.objects.filter(rule=rules["org"]).count() == len(org) > 0
    # The key with a stray space counts.
    assert any(" org" in tags_of(r) and "org" not in tags_of(r) for r in org)
    storage = [r for r in rows if r not in bright and r not in org and r not in prod
               and r["ServiceName"] == "Amazon Simple Storage Service"]  # fmt: skip
    assert FocusLine.objects.filter(rule=rules["storage"]).count() == len(storage) > 0
    taken = len(bright) + len(org) + len(storage) + len(prod)
    assert FocusLine.objects.filter(untagged=True).count() == 1000 - taken
    capex = CostItem.objects.filter(source="focus", service=sample_rules["production"])
    assert {item.expenditure for item in capex} == {Expenditure.CAPEX}


def test_reimporting_the_same_file_writes_nothing_new(sample_rules):
    import_sample()
    lines = list(FocusLine.objects.values_list("id", flat=True).order_by("id"))
    items = {item.pk: item.updated_at for item in CostItem.objects.all()}
    changes = ObjectChange.objects.count()
    imports = list(BillingImport.objects.values_list("id", "imported_at").order_by("id"))

    results = import_sample()

    assert {r.outcome for r in results} == {"unchanged"}
    assert list(FocusLine.objects.values_list("id", flat=True).order_by("id")) == lines
    assert {item.pk: item.updated_at for item in CostItem.objects.all()} == items
    assert ObjectChange.objects.count() == changes
    assert list(BillingImport.objects.values_list("id", "imported_at").order_by("id")) == imports


def test_reimporting_a_changed_billing_period_replaces_only_that_accounts_lines(sample_rules):
    import_sample()
    oracle_lines = set(
        FocusLine.objects.filter(provider_name="Oracle").values_list("id", flat=True)
    )
    rows = sample_bytes().decode().splitlines()
    aws_only = "\n".join([rows[0], *[r for r in rows[1:] if ',"AWS",' in r][:100]]) + "\n"

    results = import_sample(aws_only.encode(), name="aws.csv")

    assert [(r.account.provider_name, r.outcome, r.lines) for r in results] == [
        ("AWS", "replaced", 100)
    ]
    assert FocusLine.objects.filter(provider_name="AWS").count() == 100
    assert (
        set(FocusLine.objects.filter(provider_name="Oracle").values_list("id", flat=True))
        == oracle_lines
    )
    aws = CloudAccount.objects.get(provider_name="AWS")
    exact = sum(
        (line.effective_cost for line in FocusLine.objects.filter(provider_name="AWS")), Decimal(0)
    )
    assert sum((i.amount for i in focus_items(aws, "2024-09")), Decimal(0)) == to_cents(exact)


def test_parquet_import_gives_the_same_result_as_csv(sample_rules):
    import_sample()
    from_csv = {
        i.external_id: (i.amount, i.currency, i.category)
        for i in CostItem.objects.filter(source="focus")
    }
    csv_lines = FocusLine.objects.filter(untagged=True).count()

    results = import_sample(sample_parquet(), name="focus_sample.parquet")

    assert sum(r.lines for r in results) == 1000
    from_parquet = {
        i.external_id: (i.amount, i.currency, i.category)
        for i in CostItem.objects.filter(source="focus")
    }
    assert from_parquet == from_csv
    assert FocusLine.objects.count() == 1000
    assert FocusLine.objects.filter(untagged=True).count() == csv_lines


def test_untagged_bucket_is_unallocated_naming_account_and_largest_resources(sample_rules):
    import_sample()
    period = Period.objects.get(year=2024, month=9)
    ExchangeRate.objects.create(period=period, currency="USD", rate=Decimal("0.9"))

    recompute_tco(period=period)

    untagged = {
        row.source_id: row
        for row in TcoUnallocated.objects.filter(period=period, reason=UnallocatedReason.UNTAGGED)
    }
    aws = CloudAccount.objects.get(provider_name="AWS")
    row = untagged[aws.untagged_pool_id]
    assert "AWS" in row.detail and "1234567890123" in row.detail
    top = BillingImport.objects.get(account=aws, period=period).top_untagged[0]
    assert (top["resource_name"] or top["resource_id"]) in row.detail
    untagged_usd = sum(
        (i.amount for i in CostItem.objects.filter(pool=aws.untagged_pool, period=period)),
        Decimal(0),
    )
    assert row.amount == to_cents(untagged_usd * Decimal("0.9"))
    assert not TcoUnallocated.objects.filter(
        period=period, reason=UnallocatedReason.NO_TARGET, source_id=aws.untagged_pool_id
    ).exists()


def test_a_closed_period_keeps_its_figures_until_restated(sample_rules):
    import_sample()
    period = Period.objects.get(year=2024, month=9)
    ExchangeRate.objects.create(period=period, currency="USD", rate=Decimal("1"))
    close_period(period=period)
    bright = sample_rules["bright"]
    before = TcoResult.objects.get(period=period, version=1, service=bright).tco
    rule = sample_rules["rules"]["bright"]
    rule.tag_value = "ZoomMapMax"  # another application's lines go to Bright Path now
    services.save_rule(rule=rule)

    assert {r.outcome for r in import_sample()} == {"replaced"}

    period.refresh_from_db()
    assert period.current_version == 1
    assert TcoResult.objects.get(period=period, version=1, service=bright).tco == before
    restate_period(period=period, reason="Cloud tag rules changed")
    period.refresh_from_db()
    assert TcoResult.objects.get(period=period, version=2, service=bright).tco != before


def test_a_file_that_is_not_focus_is_refused_naming_what_is_missing(sample_rules):
    with pytest.raises(ValidationError) as refused:
        services.import_focus(stream=io.BytesIO(b"a,b\n1,2\n"), name="x.csv")
    assert "BillingAccountId" in str(refused.value.message_dict["file"])
    rows = sample_bytes().decode().splitlines()
    broken = rows[0] + "\n" + rows[1].replace("0.00000080000", "lots", 1) + "\n"
    with pytest.raises(ValidationError) as refused:
        services.import_focus(stream=io.BytesIO(broken.encode()), name="x.csv")
    assert "Line 1" in str(refused.value.message_dict["BilledCost"])
    assert not FocusLine.objects.exists() and not CloudAccount.objects.exists()


def test_rule_test_before_saving_counts_lines_and_cost_and_writes_nothing(sample_rules):
    candidate = TagRule(name="Everything compute", priority=5, tag_key="ComputeType",
                        service=sample_rules["production"])  # fmt: skip
    rows = sample_rows()

    outcome = services.try_rules(
        stream=io.BytesIO(sample_bytes()), name="focus_sample.csv", candidate=candidate
    )

    taken = [r for r in rows if "ComputeType" in tags_of(r)]
    assert outcome.candidate is not None
    assert outcome.candidate.lines == len(taken) > 0
    assert outcome.candidate.effective_cost["USD"] == sum(
        (Decimal(r["EffectiveCost"]) for r in taken), Decimal(0)
    )
    assert outcome.lines == 1000
    assert sum(t.lines for t in outcome.takes) + outcome.untagged.lines == 1000
    assert next(t.rule.name for t in outcome.takes) == "Everything compute"
    assert candidate.pk is None and not TagRule.objects.filter(name="Everything compute").exists()
    assert not FocusLine.objects.exists()


def test_a_rule_needs_a_criterion_and_a_value_needs_its_key(sample_rules):
    with pytest.raises(ValidationError) as refused:
        services.save_rule(rule=TagRule(name="All", service=sample_rules["bright"]))
    assert "tag_key" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.save_rule(rule=TagRule(name="V", tag_value="x", service=sample_rules["bright"]))
    assert "A tag value needs" in str(refused.value.message_dict["tag_key"])


def test_import_focus_command_imports_files_and_names_a_bad_one(sample_rules, tmp_path):
    out = io.StringIO()
    call_command("import_focus", str(SAMPLE), stdout=out)
    assert "AWS SunBird 2024-09: imported, 942 lines" in out.getvalue()
    again = io.StringIO()
    call_command("import_focus", str(SAMPLE), stdout=again)
    assert again.getvalue().count(": unchanged,") == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("BillingAccountId\n1\n")
    with pytest.raises(CommandError, match=r"bad\.csv: This is not a FOCUS file"):
        call_command("import_focus", str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_focus", str(tmp_path / "missing.csv"), stdout=io.StringIO())


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_parquet_cost_that_is_not_a_number_is_refused_naming_the_column(sample_rules, value):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(sample_parquet())).slice(0, 2)
    costs = pa.array([value, 1.5], pa.float64())
    table = table.set_column(table.schema.get_field_index("EffectiveCost"), "EffectiveCost", costs)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)

    with pytest.raises(ValidationError) as refused:
        import_sample(buffer.getvalue(), name="bill.parquet")
    assert "not a number" in str(refused.value.message_dict["EffectiveCost"])
    assert not FocusLine.objects.exists()
