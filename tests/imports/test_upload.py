"""Uploading through the page: a bad file is answered with its reason (422), never a 500,
and nothing is kept; a good one leads to its run's mapping."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRun
from imports.reading import MAX_CELL
from tests.imports.files import workbook

pytestmark = pytest.mark.django_db

BAD_FILES = [
    ("empty.csv", b"", "The submitted file is empty."),
    ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "is not an Excel workbook"),
    ("broken.xlsx", b"PK\x03\x04" + bytes(range(256)) * 8, "not a readable Excel workbook"),
    ("binary.csv", bytes(range(256)) * 4, "neither an Excel workbook nor UTF-8 text"),
    ("huge.csv", b"Name\n" + b"y" * (MAX_CELL + 5) + b"\n", "longer than 10000 characters"),
]


@pytest.mark.parametrize(("name", "content", "problem"), BAD_FILES)
def test_a_bad_file_is_refused_with_its_reason(client, portfolio_manager, name, content, problem):
    client.force_login(portfolio_manager)
    answer = client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile(name, content), "source": "s", "mode": "upsert"},
    )
    assert answer.status_code == 422
    assert problem in answer.content.decode()
    assert not ImportRun.objects.exists()


def test_a_workbook_leads_to_its_mapping(client, portfolio_manager):
    client.force_login(portfolio_manager)
    content = workbook({"Services": [("External id", "Name", "Kind"), ("a", "A", "internal")]})
    answer = client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("p.xlsx", content), "source": "s", "mode": "full"},
    )
    run = ImportRun.objects.get()
    assert answer.status_code == 302 and answer["Location"] == run.get_absolute_url()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Sheet “Services” holds" in page and 'value="external_id" selected' in page


def test_an_unknown_mapping_is_refused_naming_the_sheet(client, portfolio_manager):
    client.force_login(portfolio_manager)
    content = workbook({"Services": [("Code", "Name"), ("a", "A")]})
    client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("p.xlsx", content), "source": "s", "mode": "upsert"},
    )
    run = ImportRun.objects.get()
    answer = client.post(
        reverse("imports:preview", args=[run.pk]),
        {"sheet0-resource": "services", "sheet0-col0": "", "sheet0-col1": "name", "mode": "upsert"},
    )
    assert answer.status_code == 422
    assert "Sheet “Services”: Map a column to External id" in answer.content.decode()
    answer = client.post(
        reverse("imports:preview", args=[run.pk]),
        {"sheet0-resource": "services", "sheet0-col0": "nope", "mode": "upsert"},
    )
    assert answer.status_code == 422
