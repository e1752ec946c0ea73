"""The cloud pages' answers to bad input, beside the view matrix (test_view_matrix.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cloud.models import FocusLine
from cloud.models import TagRule
from tests.factories.cloud import sample_bytes

pytestmark = pytest.mark.django_db


def test_a_bad_upload_is_refused_beside_the_file_field(client, finance_user, sample_rules):
    client.force_login(finance_user)
    not_focus = client.post(
        "/costs/cloud/import/", {"file": SimpleUploadedFile("x.csv", b"a\n1\n")}
    )
    assert not_focus.status_code == 422
    assert "This is not a FOCUS file" in not_focus.content.decode()
    rows = sample_bytes().decode().splitlines()
    broken = (rows[0] + "\n" + rows[1].replace('"USD"', '"US"', 1) + "\n").encode()
    refused = client.post("/costs/cloud/import/", {"file": SimpleUploadedFile("x.csv", broken)})
    assert refused.status_code == 422
    assert "BillingCurrency: Line 1: give a three-letter ISO 4217 code." in refused.content.decode()
    assert not FocusLine.objects.exists()


def test_testing_a_rule_without_a_file_or_with_a_bad_one_saves_nothing(
    client, finance_user, sample_rules
):
    client.force_login(finance_user)
    data = {"name": "Try", "priority": "1", "tag_key": "env", "category": "infrastructure",
            "expenditure": "opex", "service": sample_rules["bright"].pk, "test": ""}  # fmt: skip
    no_file = client.post("/costs/cloud/rules/new/", data)
    assert no_file.status_code == 422
    assert "Choose the file to test the rule against." in no_file.content.decode()
    bad = client.post(
        "/costs/cloud/rules/new/", {**data, "test_file": SimpleUploadedFile("x.csv", b"\xff\x00")}
    )
    assert bad.status_code == 422
    tested = client.post(
        "/costs/cloud/rules/new/",
        {**data, "test_file": SimpleUploadedFile("s.csv", sample_bytes())},
    )
    assert tested.status_code == 200 and tested.context["outcome"].candidate.lines > 0
    assert not TagRule.objects.filter(name="Try").exists()
