"""Helpers shared by the portfolio page tests."""

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

HTMX = {"HTTP_HX_REQUEST": "true"}


def queries_for(client, url: str, *, htmx: bool = False) -> int:
    """How many queries one GET of ``url`` makes (after a warm-up request)."""
    extra = HTMX if htmx else {}
    client.get(url, **extra)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(captured.captured_queries)


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def xlsx_rows(response) -> list[tuple]:
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def is_partial(response) -> bool:
    """An htmx partial: a fragment of the page, not a whole document."""
    body = response.content.decode()
    return "<html" not in body and "<body" not in body
