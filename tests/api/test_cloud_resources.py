import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cloud.models import CloudAccount
from cloud.models import FocusLine
from cloud.models import TagRule
from finance.models import CostItem
from finance.models import ExchangeRate
from finance.models import Period
from finance.services import recompute_tco
from tests.factories import cloud
from tests.factories.cloud import sample_bytes
from tests.factories.cloud import sample_parquet
from tests.factories.cloud import sample_rows
from tests.factories.cloud import tags_of

pytestmark = pytest.mark.django_db

# A record of each resource, for the lists' and the schema's tests (tests/api/test_lists.py).
FACTORIES = {
    "cloud-accounts": cloud.make_account,
    "billing-imports": cloud.make_billing_import,
    "focus-lines": cloud.make_focus_line,
    "tag-rules": cloud.make_tag_rule,
    "tag-key-synonyms": cloud.make_synonym,
}


def upload(api, url: str, data: bytes, name: str = "focus_sample.csv", **fields):
    return api.client.post(
        url,
        {"file": SimpleUploadedFile(name, data), **fields},
        headers={"Authorization": f"Bearer {api.token}"},
    )


@pytest.fixture
def finance_api(finance_user, api_for):
    return api_for(finance_user)


def test_import_by_api_books_each_billing_period_and_again_writes_nothing(
    sample_rules, finance_api
):
    answer = upload(finance_api, "/api/v1/billing-imports/import/", sample_bytes())

    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert sorted((r["provider_name"], r["period"], r["outcome"], r["lines"]) for r in results) == [
        ("AWS", "2024-09", "imported", 942),
        ("Microsoft", "2024-09", "imported", 51),
        ("Oracle", "2024-09", "imported", 6),
        ("Oracle", "2024-10", "imported", 1),
    ]
    again = upload(finance_api, "/api/v1/billing-imports/import/", sample_bytes())
    assert {r["outcome"] for r in again.json()["results"]} == {"unchanged"}
    assert FocusLine.objects.count() == 1000


def test_parquet_upload_imports_the_same_lines(sample_rules, finance_api):
    answer = upload(
        finance_api, "/api/v1/billing-imports/import/", sample_parquet(), "bill.parquet"
    )

    assert answer.status_code == 200, answer.content
    assert sum(r["lines"] for r in answer.json()["results"]) == 1000


def test_import_refuses_a_viewer_a_read_only_token_and_bad_files(
    sample_rules, viewer, finance_user, api_for, finance_api
):
    assert (
        upload(api_for(viewer), "/api/v1/billing-imports/import/", sample_bytes()).status_code
        == 403
    )
    read_only = api_for(finance_user, write=False)
    assert upload(read_only, "/api/v1/billing-imports/import/", sample_bytes()).status_code == 403
    missing = finance_api.client.post(
        "/api/v1/billing-imports/import/",
        {},
        headers={"Authorization": f"Bearer {finance_api.token}"},
    )
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    bad = upload(finance_api, "/api/v1/billing-imports/import/", b"\xff\xfe\x00garbage")
    assert bad.status_code == 400 and "file" in bad.json()["errors"]
    not_parquet = upload(
        finance_api, "/api/v1/billing-imports/import/", b"PAR1 broken", "x.parquet"
    )
    assert not_parquet.status_code == 400 and "file" in not_parquet.json()["errors"]
    assert not FocusLine.objects.exists()


def test_untagged_bucket_names_largest_accounts_and_resources_in_the_api(sample_rules, finance_api):
    upload(finance_api, "/api/v1/billing-imports/import/", sample_bytes())
    period = Period.objects.get(year=2024, month=9)
    ExchangeRate.objects.create(period=period, currency="USD", rate=Decimal("1"))
    recompute_tco(period=period)

    unallocated = finance_api.get("/api/v1/tco-unallocated/", reason="untagged").json()["results"]
    aws = CloudAccount.objects.get(provider_name="AWS")
    row = next(r for r in unallocated if r["source_id"] == aws.untagged_pool_id)
    assert "1234567890123" in row["detail"] and "largest untagged resources" in row["detail"]
    # Largest first: the AWS account's untagged spend is the biggest of the three.
    assert unallocated[0]["source_id"] == aws.untagged_pool_id

    imports = finance_api.get("/api/v1/billing-imports/", period="2024-09").json()["results"]
    aws_import = next(r for r in imports if r["account"]["id"] == aws.pk)
    top = aws_import["top_untagged"]
    assert len(top) == 5
    amounts = [abs(Decimal(r["effective_cost"])) for r in top]
    assert amounts == sorted(amounts, reverse=True)
    assert top[0]["resource_name"] or top[0]["resource_id"] in row["detail"]
    totals = aws_import["totals"]["USD"]
    assert Decimal(totals["allocated"]) + Decimal(totals["untagged"]) == Decimal(
        totals["effective"]
    )

    lines = finance_api.get("/api/v1/focus-lines/", untagged="true", account=aws.pk, page_size=500)
    assert lines.status_code == 200, lines.content
    assert all(line["untagged"] and line["rule"] is None for line in lines.json()["results"])


def test_tag_rules_are_written_through_the_rules_with_normalised_keys(sample_rules, finance_api):
    service = sample_rules["bright"]
    created = finance_api.post(
        "/api/v1/tag-rules/",
        {"name": "Cost centre", "tag_key": "  Cost   Department ", "service": service.pk},
    )
    assert created.status_code == 201, created.content
    assert created.json()["tag_key"] == "cost department"
    assert (
        created.json()["category"] == "infrastructure" and created.json()["expenditure"] == "opex"
    )
    refused = finance_api.post("/api/v1/tag-rules/", {"name": "Nothing", "service": service.pk})
    assert refused.status_code == 400 and "tag_key" in refused.json()["errors"]
    two = finance_api.post(
        "/api/v1/tag-rules/",
        {"name": "Two", "tag_key": "x", "service": service.pk, "pool": sample_rules["storage"].pk},
    )
    assert two.status_code == 400
    synonym = finance_api.post(
        "/api/v1/tag-key-synonyms/", {"synonym": "Env ", "key": "ENVIRONMENT"}
    )
    assert synonym.status_code == 400  # "env" is a synonym already (sample_rules)
    new = finance_api.post(
        "/api/v1/tag-key-synonyms/", {"synonym": "CostCenter", "key": "cost department"}
    )
    assert new.status_code == 201 and new.json()["synonym"] == "costcenter"


def test_rule_test_endpoint_counts_lines_and_cost_and_saves_nothing(
    sample_rules, finance_api, viewer, api_for
):
    rule = {
        "name": "Compute",
        "priority": 1,
        "tag_key": "computetype",
        "service": sample_rules["production"].pk,
    }

    answer = upload(finance_api, "/api/v1/tag-rules/test/", sample_bytes(), rule=json.dumps(rule))

    assert answer.status_code == 200, answer.content
    body = answer.json()
    taken = [r for r in sample_rows() if "ComputeType" in tags_of(r)]
    assert body["candidate"]["lines"] == len(taken) > 0
    assert body["rules"][0]["name"] == "Compute"
    assert (
        body["lines"] == 1000 == sum(r["lines"] for r in body["rules"]) + body["untagged"]["lines"]
    )
    assert not TagRule.objects.filter(name="Compute").exists()
    edit = {"id": sample_rules["rules"]["bright"].pk, "tag_value": "zoommapmax"}
    edited = upload(finance_api, "/api/v1/tag-rules/test/", sample_bytes(), rule=json.dumps(edit))
    assert edited.json()["candidate"]["lines"] == 17
    assert TagRule.objects.get(pk=edit["id"]).tag_value == "brightpathmatrix"
    bad = upload(finance_api, "/api/v1/tag-rules/test/", sample_bytes(), rule="{")
    assert bad.status_code == 400 and "rule" in bad.json()["errors"]
    nothing = json.dumps({"name": "x", "service": sample_rules["bright"].pk})
    no_criterion = upload(finance_api, "/api/v1/tag-rules/test/", sample_bytes(), rule=nothing)
    assert no_criterion.status_code == 400 and "tag_key" in no_criterion.json()["errors"]
    assert upload(api_for(viewer), "/api/v1/tag-rules/test/", sample_bytes()).status_code == 403


def test_an_import_of_several_files_writes_all_or_none(sample_rules, finance_api):
    answer = finance_api.client.post(
        "/api/v1/billing-imports/import/",
        {
            "file": [
                SimpleUploadedFile("good.csv", sample_bytes()),
                SimpleUploadedFile("bad.csv", b"a,b\n1,2\n"),
            ]
        },
        headers={"Authorization": f"Bearer {finance_api.token}"},
    )

    assert answer.status_code == 400
    assert not FocusLine.objects.exists() and not CostItem.objects.filter(source="focus").exists()
