"""The ledger pages' answers to bad input, the rule tests, exports and Fund services, beside
the view matrix (test_view_matrix.py)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from finance.models import Period
from finance.services import recompute_tco
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from tests.factories.ledger import import_rows
from tests.factories.ledger import ledger_csv
from tests.factories.ledger import ledger_rows

pytestmark = pytest.mark.django_db


def test_a_bad_upload_is_refused_beside_the_file_field(client, finance_user, ledger_rules):
    client.force_login(finance_user)
    not_ledger = client.post(
        "/costs/ledger/import/", {"file": SimpleUploadedFile("x.csv", b"a\n1\n")}
    )
    assert not_ledger.status_code == 422
    assert "This is not a ledger file" in not_ledger.content.decode()
    broken = b"account,amount,period\n6100,12.3x,2025-03\n"
    refused = client.post("/costs/ledger/import/", {"file": SimpleUploadedFile("x.csv", broken)})
    assert refused.status_code == 422
    assert "amount: Row 2: &#x27;12.3x&#x27; is not a number." in refused.content.decode()
    assert not LedgerLine.objects.exists()


def test_an_upload_imports_and_the_overview_shows_the_period(client, finance_user, ledger_rules):
    client.force_login(finance_user)
    rows = ledger_rows(100)
    answer = client.post(
        "/costs/ledger/import/", {"file": SimpleUploadedFile("gl.csv", ledger_csv(rows))}
    )
    assert answer.status_code == 302
    assert LedgerLine.objects.count() == 100
    page = client.get("/costs/ledger/").content.decode()
    assert "2025-03" in page and "mapped +" in page and "gl.csv" in page


def test_testing_a_rule_before_saving_shows_its_take_and_saves_nothing(
    client, finance_user, ledger_rules
):
    client.force_login(finance_user)
    data = {"name": "Try", "priority": "1", "account": "(", "account_match": "regex",
            "cost_centre_match": "exact", "vendor_match": "exact", "category": "vendor",
            "expenditure": "opex", "service": ledger_rules["hosting"].pk, "test": ""}  # fmt: skip
    bad_regex = client.post(
        "/costs/ledger/rules/new/",
        {**data, "test_file": SimpleUploadedFile("s.csv", ledger_csv(ledger_rows(10)))},
    )
    assert bad_regex.status_code == 422
    assert "This is not a valid regular expression" in bad_regex.content.decode()
    data["account"] = "7.*"
    no_file = client.post("/costs/ledger/rules/new/", data)
    assert no_file.status_code == 422
    assert "Choose the file to test the rule against." in no_file.content.decode()
    rows = ledger_rows(300)
    tested = client.post(
        "/costs/ledger/rules/new/",
        {**data, "test_file": SimpleUploadedFile("s.csv", ledger_csv(rows))},
    )
    assert tested.status_code == 200
    outcome = tested.context["outcome"]
    assert outcome.candidate.lines == sum(1 for r in rows if r["Account"].startswith("7")) > 0
    assert "This rule: Try" in tested.content.decode()
    assert not LedgerRule.objects.filter(name="Try").exists()
    assert not LedgerLine.objects.exists()


def test_the_test_page_shows_each_rule_and_the_unmapped_lines(client, viewer, ledger_rules):
    client.force_login(viewer)
    rows = ledger_rows(300)
    answer = client.post(
        "/costs/ledger/test/", {"file": SimpleUploadedFile("gl.csv", ledger_csv(rows))}
    )
    assert answer.status_code == 200
    outcome = answer.context["outcome"]
    assert [take.rule.name for take in outcome.takes] == list(ledger_rules["rules"])
    assert outcome.lines == 300 and outcome.unmapped.lines > 0
    page = answer.content.decode()
    assert "Unmapped" in page and "The file" in page and "Nothing was saved" in page
    bad = client.post("/costs/ledger/test/", {"file": SimpleUploadedFile("x.csv", b"a\n")})
    assert bad.status_code == 422 and "This is not a ledger file" in bad.content.decode()
    assert not LedgerLine.objects.exists()


def test_line_exports_neutralise_formulas(client, viewer, ledger_rules):
    rows = ledger_rows(3)
    rows[0]["Description"] = '=HYPERLINK("http://example.com","x")'
    rows[1]["Vendor"] = "@SUM(A1:A2)"
    import_rows(rows)
    client.force_login(viewer)

    answer = client.get("/costs/ledger/lines/?export=csv")

    assert answer.status_code == 200
    exported = list(csv.reader(io.StringIO(answer.content.decode())))
    cells = [cell for row in exported for cell in row]
    assert '\'=HYPERLINK("http://example.com","x")' in cells and "'@SUM(A1:A2)" in cells
    assert not any(cell.startswith(("=", "@")) for cell in cells)
    xlsx = client.get("/costs/ledger/lines/?export=xlsx")
    assert xlsx.status_code == 200


def test_fund_services_shows_the_unmapped_lines_as_unallocated(client, viewer, ledger_rules):
    import_rows(ledger_rows(200))
    recompute_tco(period=Period.objects.get(year=2025, month=3))
    client.force_login(viewer)

    page = client.get("/costs/?period=2025-03").content.decode()

    assert "Unmapped ledger lines" in page and "no ledger rule maps" in page
