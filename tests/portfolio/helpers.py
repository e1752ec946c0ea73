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


# Form data as the pages send it, shared by the page tests and the view specs.


def subscription_data(service, **overrides) -> dict:
    data = {
        "service": service.slug,
        "units": "20",
        "unit_name": "vehicle",
        "price_per_unit": "5",
        "annual_charge": "",
        "currency": "EUR",
        "start_date": "2025-01-01",
        "end_date": "",
    }
    return {**data, **overrides}


OUTCOME_DATA = {
    "statement": "Our drivers are back on the road the same day",
    "metric": "Vehicles mobile again within 24 hours",
    "target": "90",
    "unit": "%",
    "specification_item": "",
    "agreement": "proposed",
}


def contract_data(supplier, **overrides) -> dict:
    data = {
        "supplier": supplier.slug,
        "reference": "CS-2",
        "title": "Hosting",
        "start_date": "2024-01-01",
        "end_date": "",
        "renewal_date": "2026-12-31",
        "notice_period_days": "90",
        "auto_renewal": "on",
        "annual_value": "24000.00",
        "currency": "EUR",
        "escalation_percent": "0",
        "owner": "",
    }
    return {**data, **overrides}


APPLICATION_DATA = {
    "name": "Policy core",
    "description": "",
    "owner": "",
    "lifecycle": "active",
    "disposition": "invest",
    "criticality": "high",
    "vendor": "",
}
