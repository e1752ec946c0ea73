"""The current (filtered, sorted) list as CSV or XLSX: what the user sees, every page of it."""

import csv
import datetime
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | datetime.date):
        return value
    return str(value)


def table_rows(table):
    for row in table.as_values(exclude_columns=getattr(table, "export_exclude", ())):
        yield [_plain(value) for value in row]


def export_table(table, fmt: str, name: str) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in table_rows(table):
            writer.writerow(row)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
        return response
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = name[:31]
    for row in table_rows(table):
        sheet.append(
            [
                value.replace(tzinfo=None) if isinstance(value, datetime.datetime) else value
                for value in row
            ]
        )
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.xlsx"'
    return response
