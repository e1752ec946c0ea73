import datetime
import io
from collections import Counter
from collections import defaultdict
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from core.models import ObjectChange
from core.money import to_cents
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.services import close_period
from finance.services import recompute_tco
from finance.services import restate_period
from ledger import services
from ledger.choices import MatchKind
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from tests.factories.ledger import expected_rule
from tests.factories.ledger import import_rows
from tests.factories.ledger import ledger_csv
from tests.factories.ledger import ledger_rows
from tests.factories.ledger import make_rule

pytestmark = pytest.mark.django_db


def file_total(rows) -> Decimal:
    return sum((Decimal(row["Amount"]) for row in rows), Decimal(0))


def ledger_items(period: Period):
    return CostItem.objects.filter(source="ledger", period=period)


def test_ten_thousand_lines_reconcile_to_the_cent_mapped_plus_unmapped(ledger_rules):
    rows = ledger_rows(10_000)
    exact = file_total(rows)

    (result,) = import_rows(rows)

    assert (result.period_label, result.outcome, result.lines) == ("2025-03", "imported", 10_000)
    period = Period.objects.get(year=2025, month=3)
    assert LedgerLine.objects.count() == 10_000
    assert LedgerLine.objects.aggregate(total=Sum("amount"))["total"] == exact
    assert not LedgerLine.objects.filter(cost_item=None).exists()
    pool = services.unmapped_pool()
    items = ledger_items(period)
    unmapped = sum((i.amount for i in items.filter(pool=pool)), Decimal(0))
    mapped = sum((i.amount for i in items.exclude(pool=pool)), Decimal(0))
    assert mapped + unmapped == to_cents(exact)
    unmapped_rows = [row for row in rows if expected_rule(row) is None]
    assert result.unmapped_lines == len(unmapped_rows) > 0
    assert abs(unmapped - file_total(unmapped_rows)) <= Decimal("0.01")
    totals = LedgerImport.objects.get(period=period).totals["EUR"]
    assert Decimal(totals["total"]) == exact
    assert Decimal(totals["mapped"]) + Decimal(totals["unmapped"]) == exact
    assert Decimal(totals["unmapped"]) == file_total(unmapped_rows)
    # Every cost item is its lines' sum, within the one cent the shared rounding moves.
    for item in items:
        lines = item.ledger_lines.aggregate(total=Sum("amount"))["total"]
        assert abs(item.amount - lines) <= Decimal("0.01"), item


def test_ten_thousand_lines_reconcile_through_the_rollup_kept_plus_unallocated(ledger_rules):
    rows = ledger_rows(10_000, seed=2)
    import_rows(rows)
    period = Period.objects.get(year=2025, month=3)

    run = recompute_tco(period=period)

    assert run.input_total == to_cents(file_total(rows))
    assert run.kept_total + run.unallocated_total == run.input_total
    results = TcoResult.objects.filter(period=period, version=run.version)
    assert sum((r.kept for r in results), Decimal(0)) == run.kept_total
    (unmapped,) = TcoUnallocated.objects.filter(period=period, reason=UnallocatedReason.UNMAPPED)
    assert unmapped.source_id == services.unmapped_pool().pk
    assert unmapped.amount == sum(
        (i.amount for i in ledger_items(period).filter(pool=services.unmapped_pool())),
        Decimal(0),
    )
    assert run.unallocated_total == unmapped.amount  # nothing else is left unallocated
    top = LedgerImport.objects.get(period=period).top_unmapped[0]
    assert "no ledger rule maps" in unmapped.detail and top["account"] in unmapped.detail
    assert not TcoUnallocated.objects.filter(
        period=period, reason=UnallocatedReason.NO_TARGET, source_id=unmapped.source_id
    ).exists()
    # The pool's, application's and contract's shares reached the services behind them.
    workplace = results.get(service=ledger_rules["workplace"])
    assert workplace.received_pools != 0


def test_rules_take_lines_by_priority_exact_prefix_and_regex(ledger_rules):
    rows = ledger_rows(2_000, seed=3)
    import_rows(rows)

    expected = Counter(expected_rule(row) for row in rows)
    stored = Counter(LedgerLine.objects.values_list("rule__name", flat=True))
    assert stored == expected
    assert all(expected[name] > 0 for name in ledger_rules["rules"])
    # Priority: account 6100 with a cloud vendor goes to hosting (10), not the contracts (30).
    assert LedgerLine.objects.filter(
        account="6100", vendor__startswith="Amazon Web", rule__name="hosting"
    ).exists()
    assert not LedgerLine.objects.filter(vendor="Amazonia Catering", rule__name="cloud contracts")
    claims = CostItem.objects.get(source="ledger", application=ledger_rules["claims"])
    assert (claims.category, claims.expenditure) == ("development", "capex")
    desk = CostItem.objects.get(source="ledger", pool=ledger_rules["desk"])
    assert (desk.category, desk.pool_type) == ("support", "labour")


def test_a_file_over_two_months_books_each_period(ledger_rules):
    rows = ledger_rows(300, months=((2025, 3), (2025, 4)))

    results = import_rows(rows)

    assert [(r.period_label, r.lines) for r in results] == [("2025-03", 150), ("2025-04", 150)]
    for result in results:
        year, month = map(int, result.period_label.split("-"))
        period = Period.objects.get(year=year, month=month)
        month_rows = [r for r in rows if r["Posting Date"].startswith(result.period_label)]
        total = sum((i.amount for i in ledger_items(period)), Decimal(0))
        assert total == to_cents(file_total(month_rows))


def test_importing_the_same_file_again_writes_nothing(ledger_rules):
    rows = ledger_rows(500)
    import_rows(rows)
    lines = list(LedgerLine.objects.values_list("id", flat=True).order_by("id"))
    items = {item.pk: item.updated_at for item in CostItem.objects.all()}
    changes = ObjectChange.objects.count()

    (again,) = import_rows(rows)

    assert again.outcome == "unchanged"
    assert list(LedgerLine.objects.values_list("id", flat=True).order_by("id")) == lines
    assert {item.pk: item.updated_at for item in CostItem.objects.all()} == items
    assert ObjectChange.objects.count() == changes


def test_importing_a_period_again_replaces_its_lines_and_items(ledger_rules):
    import_rows(ledger_rows(500))
    rule = ledger_rules["rules"]["hardware"]
    services.remove_rule(rule=rule)
    rows = ledger_rows(200, seed=9)

    (again,) = import_rows(rows)

    assert again.outcome == "replaced"
    assert LedgerLine.objects.count() == 200
    period = Period.objects.get(year=2025, month=3)
    assert sum((i.amount for i in ledger_items(period)), Decimal(0)) == to_cents(file_total(rows))
    assert not CostItem.objects.filter(source="ledger", external_id__contains=f"rule-{rule.pk}/")
    assert LedgerImport.objects.count() == 1


def test_a_closed_period_keeps_its_figures_until_restated(ledger_rules):
    import_rows(ledger_rows(300))
    period = Period.objects.get(year=2025, month=3)
    close_period(period=period)
    hosting = ledger_rules["hosting"]
    before = TcoResult.objects.get(period=period, version=1, service=hosting).tco
    rule = ledger_rules["rules"]["hosting"]
    rule.account, rule.account_match = "61", MatchKind.PREFIX
    services.save_rule(rule=rule)

    assert import_rows(ledger_rows(300))[0].outcome == "replaced"

    period.refresh_from_db()
    assert TcoResult.objects.get(period=period, version=1, service=hosting).tco == before
    restate_period(period=period, reason="Ledger rules changed")
    period.refresh_from_db()
    assert TcoResult.objects.get(period=period, version=2, service=hosting).tco != before


def test_a_rule_with_a_bad_regex_or_no_criterion_is_refused_naming_the_field(ledger_rules):
    service = ledger_rules["hosting"]
    with pytest.raises(ValidationError) as refused:
        services.save_rule(
            rule=LedgerRule(
                name="Bad", vendor="(amazon", vendor_match=MatchKind.REGEX, service=service
            )
        )
    assert "not a valid regular expression" in str(refused.value.message_dict["vendor"])
    with pytest.raises(ValidationError) as refused:
        services.save_rule(rule=LedgerRule(name="All", service=service))
    assert "at least one criterion" in str(refused.value.message_dict["account"])
    with pytest.raises(ValidationError):
        services.save_rule(rule=LedgerRule(name="Nowhere", account="6100"))
    assert not LedgerRule.objects.filter(name__in=["Bad", "All", "Nowhere"]).exists()


def test_rule_test_counts_lines_and_money_per_rule_and_writes_nothing(ledger_rules):
    rows = ledger_rows(1_000, seed=4)
    candidate = LedgerRule(
        name="Everything 7",
        priority=5,
        account="7",
        account_match=MatchKind.PREFIX,
        service=ledger_rules["hosting"],
    )

    outcome = services.try_rules(
        stream=io.BytesIO(ledger_csv(rows)), name="l.csv", candidate=candidate
    )

    taken = [row for row in rows if row["Account"].startswith("7")]
    assert outcome.candidate is not None and outcome.candidate.lines == len(taken) > 0
    assert outcome.candidate.amounts["EUR"] == file_total(taken)
    assert outcome.takes[0] is outcome.candidate
    assert outcome.lines == 1_000
    assert sum(t.lines for t in outcome.takes) + outcome.unmapped.lines == 1_000
    assert (
        sum((t.amounts.get("EUR", 0) for t in outcome.takes), Decimal(0))
        + (outcome.unmapped.amounts["EUR"])
        == outcome.total.amounts["EUR"]
        == file_total(rows)
    )
    assert candidate.pk is None and not LedgerRule.objects.filter(name="Everything 7").exists()
    assert not LedgerLine.objects.exists() and not CostItem.objects.exists()


def test_xlsx_with_header_aliases_gives_the_same_result_as_csv(ledger_rules):
    rows = ledger_rows(200, seed=5)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["GL Account", "Cost_Center", "Supplier", "Memo", "Net Amount", "Posting date"])
    for row in rows:
        sheet.append([
            int(row["Account"]), row["Cost Centre"] or None, row["Vendor"] or None,
            row["Description"], float(row["Amount"]),
            datetime.date.fromisoformat(row["Posting Date"]),
        ])  # fmt: skip
    sheet.append([None] * 6)  # the blank rows spreadsheets keep
    buffer = io.BytesIO()
    workbook.save(buffer)

    (result,) = services.import_ledger(stream=io.BytesIO(buffer.getvalue()), name="gl.xlsx")

    assert result.lines == 200
    assert Decimal(result.totals["EUR"]["total"]) == file_total(rows)
    stored = Counter(LedgerLine.objects.values_list("rule__name", flat=True))
    assert stored == Counter(expected_rule(row) for row in rows)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (b"konto,betrag\n1,2\n", "file", "lacks the columns account, amount, posting date"),
        (b"", "file", "The file is empty."),
        (b"account,amount,period\n6100,12.3x,2025-03\n", "amount", "Row 2: '12.3x' is not a"),
        (b"account,amount,period\n6100,NaN,2025-03\n", "amount", "Row 2: 'NaN' is not a number"),
        (b"account,amount,period\n6100,1,2025-03\n,1,2025-03\n", "account", "Row 3: the acc"),
        (b"account,amount,period\n6100,1,2025-13\n", "period", "Row 2: '2025-13' is not a per"),
        (b"account,amount,posting date\n6100,1,\n", "posting_date", "Row 2: give the posting"),
        (b"account,amount,posting date\n6100,1,3/4/25\n", "posting_date", "is not a date"),
        (b"account,amount,period,currency\n6100,1,2025-03,XYZ\n", "currency", "not an ISO"),
        (b"account,amount,period\n6100,1,1990-03\n", "period", ""),
        (b"account,account code,amount,period\n1,2,3,2025-03\n", "file", "Two columns are"),
        (b"account,amount,period\n", "file", "The file holds no lines."),
        (b"\xff\xfe\x00a", "file", "This is not a CSV file in UTF-8"),
    ],
)
def test_a_bad_file_is_refused_naming_the_column_and_row(ledger_rules, data, field, message):
    with pytest.raises(ValidationError) as refused:
        services.import_ledger(stream=io.BytesIO(data), name="bad.csv")
    assert message in " ".join(refused.value.message_dict[field])
    assert not LedgerLine.objects.exists() and not CostItem.objects.exists()
    assert not LedgerImport.objects.exists()


def test_a_broken_xlsx_is_refused(ledger_rules):
    with pytest.raises(ValidationError) as refused:
        services.import_ledger(stream=io.BytesIO(b"PK\x03\x04broken"), name="gl.xlsx")
    assert "This is not an XLSX workbook" in refused.value.message_dict["file"][0]


def test_a_bad_line_late_in_a_big_file_leaves_everything_as_it_was(ledger_rules):
    import_rows(ledger_rows(100))
    before = sorted(CostItem.objects.values_list("external_id", "amount"))
    rows = ledger_rows(3_000, seed=6)
    rows[-1]["Amount"] = "lots"

    with pytest.raises(ValidationError) as refused:
        import_rows(rows)

    assert "Row 3001" in refused.value.message_dict["amount"][0]
    assert sorted(CostItem.objects.values_list("external_id", "amount")) == before
    assert LedgerLine.objects.count() == 100


def test_semicolon_csv_and_default_currency(ledger_rules, settings):
    data = b"Konto;Betrag;Periode\n"
    with pytest.raises(ValidationError):
        services.import_ledger(stream=io.BytesIO(data), name="x.csv")
    data = b"account;cost centre;amount;period\n6100;CC-1;12.5;2025-03\n7100;;-2.25;2025-03\n"

    (result,) = services.import_ledger(stream=io.BytesIO(data), name="x.csv")

    totals = {
        name: Decimal(value) for name, value in result.totals[settings.PORTICO_CURRENCY].items()
    }
    assert totals == {
        "total": Decimal("10.25"),
        "mapped": Decimal("12.5"),
        "unmapped": Decimal("-2.25"),
    }


def test_import_ledger_command_imports_files_and_names_a_bad_one(ledger_rules, tmp_path):
    path = tmp_path / "gl.csv"
    path.write_bytes(ledger_csv(ledger_rows(50)))
    out = io.StringIO()
    call_command("import_ledger", str(path), stdout=out)
    assert "gl.csv: 2025-03: imported, 50 lines" in out.getvalue()
    again = io.StringIO()
    call_command("import_ledger", str(path), stdout=again)
    assert ": unchanged," in again.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("vendor\nx\n")
    with pytest.raises(CommandError, match=r"bad\.csv: This is not a ledger file"):
        call_command("import_ledger", str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_ledger", str(tmp_path / "missing.csv"), stdout=io.StringIO())


def test_lines_keep_their_lineage_to_rule_and_cost_item(ledger_rules):
    rows = ledger_rows(400, seed=7)
    import_rows(rows)

    by_item = defaultdict(set)
    for rule_id, item_id in LedgerLine.objects.values_list("rule_id", "cost_item_id"):
        by_item[item_id].add(rule_id)
    assert all(len(rules) == 1 for rules in by_item.values())
    for item in CostItem.objects.filter(source="ledger"):
        (rule_id,) = by_item[item.pk]
        if rule_id is None:
            assert item.pool == services.unmapped_pool()
        else:
            assert item.target == LedgerRule.objects.get(pk=rule_id).target


def rule_rows(rules: list[LedgerRule], month: int) -> list[dict]:
    """One line of 1.25 EUR for each rule's account, in 2025-``month``."""
    return [
        {"Account": rule.account, "Cost Centre": "", "Vendor": "", "Description": rule.name,
         "Amount": "1.25", "Currency": "EUR", "Posting Date": f"2025-{month:02d}-01"}
        for rule in rules
    ]  # fmt: skip


def test_the_import_books_20_cost_items_in_as_many_queries_as_2(db):
    rules = [make_rule() for _ in range(2)]
    import_rows(rule_rows(rules, 1))  # the unmapped pool is made, the caches warmed
    with CaptureQueriesContext(connection) as few:
        import_rows(rule_rows(rules, 2))
    rules += [make_rule() for _ in range(18)]
    with CaptureQueriesContext(connection) as many:
        import_rows(rule_rows(rules, 3))

    assert len(many) == len(few), f"{len(few)} queries for 2 cost items, {len(many)} for 20"
    items = ledger_items(Period.objects.get(year=2025, month=3))
    assert sorted(item.description for item in items) == sorted(
        f"Ledger: {rule.name}" for rule in rules
    )
    assert all(item.amount == Decimal("1.25") for item in items)
    logged = ObjectChange.objects.filter(
        content_type__model="costitem",
        action="create",
        object_id__in=[str(pk) for pk in items.values_list("pk", flat=True)],
    )
    assert logged.count() == 20
