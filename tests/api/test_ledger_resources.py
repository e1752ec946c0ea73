import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from finance.models import CostItem
from finance.models import Period
from finance.services import recompute_tco
from ledger.models import LedgerLine
from ledger.models import LedgerRule
from tests.api.helpers import sync
from tests.factories import ledger
from tests.factories.ledger import expected_rule
from tests.factories.ledger import ledger_csv
from tests.factories.ledger import ledger_rows

pytestmark = pytest.mark.django_db

# A record of each resource, for the lists' and the schema's tests (tests/api/test_lists.py).
FACTORIES = {
    "ledger-imports": ledger.make_import,
    "ledger-lines": ledger.make_line,
    "ledger-rules": ledger.make_rule,
}


def upload(api, url: str, data: bytes, name: str = "gl.csv", **fields):
    return api.client.post(
        url,
        {"file": SimpleUploadedFile(name, data), **fields},
        headers={"Authorization": f"Bearer {api.token}"},
    )


@pytest.fixture
def finance_api(finance_user, api_for):
    return api_for(finance_user)


def test_import_by_api_books_each_period_and_again_writes_nothing(ledger_rules, finance_api):
    rows = ledger_rows(500, months=((2025, 3), (2025, 4)))

    answer = upload(finance_api, "/api/v1/ledger-imports/import/", ledger_csv(rows))

    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [(r["period"], r["outcome"], r["lines"]) for r in results] == [
        ("2025-03", "imported", 250),
        ("2025-04", "imported", 250),
    ]
    again = upload(finance_api, "/api/v1/ledger-imports/import/", ledger_csv(rows))
    assert {r["outcome"] for r in again.json()["results"]} == {"unchanged"}
    assert LedgerLine.objects.count() == 500
    imports = finance_api.get("/api/v1/ledger-imports/", period="2025-03").json()["results"]
    totals = imports[0]["totals"]["EUR"]
    assert Decimal(totals["mapped"]) + Decimal(totals["unmapped"]) == Decimal(totals["total"])
    unmapped = finance_api.get("/api/v1/ledger-lines/", unmapped="true", page_size=500)
    assert unmapped.status_code == 200, unmapped.content
    lines = unmapped.json()["results"]
    assert lines and all(line["unmapped"] and line["rule"] is None for line in lines)
    assert len(lines) == sum(1 for row in rows if expected_rule(row) is None)


def test_import_refuses_a_viewer_a_read_only_token_and_bad_files(
    ledger_rules, viewer, finance_user, api_for, finance_api
):
    data = ledger_csv(ledger_rows(10))
    assert upload(api_for(viewer), "/api/v1/ledger-imports/import/", data).status_code == 403
    read_only = api_for(finance_user, write=False)
    assert upload(read_only, "/api/v1/ledger-imports/import/", data).status_code == 403
    missing = finance_api.client.post(
        "/api/v1/ledger-imports/import/",
        {},
        headers={"Authorization": f"Bearer {finance_api.token}"},
    )
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    bad = upload(
        finance_api, "/api/v1/ledger-imports/import/", b"account,amount,period\n1,x,2025-03\n"
    )
    assert bad.status_code == 400
    assert "Row 2: 'x' is not a number." in bad.json()["errors"]["amount"][0]
    not_xlsx = upload(finance_api, "/api/v1/ledger-imports/import/", b"PK\x03\x04!", "x.xlsx")
    assert not_xlsx.status_code == 400 and "file" in not_xlsx.json()["errors"]
    several = finance_api.client.post(
        "/api/v1/ledger-imports/import/",
        {"file": [SimpleUploadedFile("good.csv", data), SimpleUploadedFile("bad.csv", b"a\n1\n")]},
        headers={"Authorization": f"Bearer {finance_api.token}"},
    )
    assert several.status_code == 400
    assert not LedgerLine.objects.exists() and not CostItem.objects.filter(source="ledger").exists()


def test_ledger_rules_are_written_through_the_rules_and_a_bad_regex_is_refused(
    ledger_rules, finance_api
):
    service = ledger_rules["hosting"]
    created = finance_api.post(
        "/api/v1/ledger-rules/",
        {"name": "Telecom", "account": " 65  ", "account_match": "prefix", "service": service.pk},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["account"] == "65" and body["category"] == "infrastructure"
    refused = finance_api.post(
        "/api/v1/ledger-rules/",
        {"name": "Bad", "vendor": "[a-", "vendor_match": "regex", "service": service.pk},
    )
    assert refused.status_code == 400
    assert "not a valid regular expression" in refused.json()["errors"]["vendor"][0]
    nothing = finance_api.post("/api/v1/ledger-rules/", {"name": "Nothing", "service": service.pk})
    assert nothing.status_code == 400 and "account" in nothing.json()["errors"]
    two = finance_api.post(
        "/api/v1/ledger-rules/",
        {"name": "Two", "account": "1", "service": service.pk, "pool": ledger_rules["desk"].pk},
    )
    assert two.status_code == 400
    unknown = finance_api.post(
        "/api/v1/ledger-rules/",
        {"name": "Kind", "account": "1", "account_match": "fuzzy", "service": service.pk},
    )
    assert unknown.status_code == 400 and "account_match" in unknown.json()["errors"]


def test_a_sync_of_rules_applies_the_same_rules_and_writes_all_or_none(ledger_rules, finance_api):
    service = ledger_rules["hosting"].pk
    items = [
        {"external_id": "r1", "name": "Travel", "account": "64", "account_match": "prefix",
         "service": service},
        {"external_id": "r2", "name": "Bad", "vendor": "(x", "vendor_match": "regex",
         "service": service},
    ]  # fmt: skip

    refused = sync(finance_api, "ledger-rules", items, source="erp")

    assert refused.status_code == 400, refused.content
    assert "not a valid regular expression" in json.dumps(refused.json())
    assert not LedgerRule.objects.filter(source="erp").exists()
    items[1]["vendor"] = "x.*"
    accepted = sync(finance_api, "ledger-rules", items, source="erp")
    assert accepted.status_code == 200, accepted.content
    assert set(LedgerRule.objects.filter(source="erp").values_list("name", flat=True)) == {
        "Travel",
        "Bad",
    }


def test_rule_test_endpoint_counts_lines_and_money_and_saves_nothing(
    ledger_rules, finance_api, viewer, api_for
):
    rows = ledger_rows(400)
    rule = {"name": "Sevens", "priority": 1, "account": "7", "account_match": "prefix",
            "service": ledger_rules["hosting"].pk}  # fmt: skip

    answer = upload(
        finance_api, "/api/v1/ledger-rules/test/", ledger_csv(rows), rule=json.dumps(rule)
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    taken = [r for r in rows if r["Account"].startswith("7")]
    assert body["candidate"]["lines"] == len(taken) > 0
    assert Decimal(body["candidate"]["amount"]["EUR"]) == sum(
        (Decimal(r["Amount"]) for r in taken), Decimal(0)
    )
    assert body["rules"][0]["name"] == "Sevens"
    assert (
        body["lines"] == 400 == sum(r["lines"] for r in body["rules"]) + body["unmapped"]["lines"]
    )
    assert not LedgerRule.objects.filter(name="Sevens").exists()
    edit = {"id": ledger_rules["rules"]["hosting"].pk, "account": "7100"}
    edited = upload(
        finance_api, "/api/v1/ledger-rules/test/", ledger_csv(rows), rule=json.dumps(edit)
    )
    assert edited.json()["candidate"]["lines"] == sum(1 for r in rows if r["Account"] == "7100")
    assert LedgerRule.objects.get(pk=edit["id"]).account == "6100"
    bad = upload(finance_api, "/api/v1/ledger-rules/test/", ledger_csv(rows), rule="{")
    assert bad.status_code == 400 and "rule" in bad.json()["errors"]
    regex = json.dumps({**rule, "account": "(", "account_match": "regex"})
    bad_regex = upload(finance_api, "/api/v1/ledger-rules/test/", ledger_csv(rows), rule=regex)
    assert bad_regex.status_code == 400 and "account" in bad_regex.json()["errors"]
    # A viewer may test the stored rules, not a candidate.
    stored = upload(api_for(viewer), "/api/v1/ledger-rules/test/", ledger_csv(rows))
    assert stored.status_code == 200 and stored.json()["candidate"] is None
    refused = upload(
        api_for(viewer), "/api/v1/ledger-rules/test/", ledger_csv(rows), rule=json.dumps(rule)
    )
    assert refused.status_code == 403
    assert not LedgerLine.objects.exists()


def test_unmapped_bucket_in_the_api_tco_unallocated(ledger_rules, finance_api):
    upload(finance_api, "/api/v1/ledger-imports/import/", ledger_csv(ledger_rows(300)))
    recompute_tco(period=Period.objects.get(year=2025, month=3))

    rows = finance_api.get("/api/v1/tco-unallocated/", reason="unmapped").json()["results"]

    assert len(rows) == 1 and "no ledger rule maps" in rows[0]["detail"]
