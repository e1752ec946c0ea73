"""Spreadsheet files: the current (filtered, sorted) list as CSV or XLSX, what the user sees,
every page of it; and the one rule every exported cell goes through (finance reports too).

A cell is text someone typed, so a spreadsheet must never run it: text beginning with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote (OWASP, CSV
injection). Numbers and dates stay numbers and dates, and so does text that is only a number
(``-12.50``): a spreadsheet reads that as the number, nothing more.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)")


def cell_value(value):
    """``value`` as a spreadsheet cell may hold it: numbers and dates as they are (None stays
    empty), anything else as text that cannot start a formula."""
    if value is None or isinstance(value, bool | int | float | Decimal | datetime.date):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable]) -> str:
    """Rows as CSV, every cell through ``cell_value``; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else cell_value(value) for value in row])
    return buffer.getvalue()


def workbook_bytes(workbook: Workbook) -> bytes:
    """The saved workbook, after every cell of every sheet went through ``cell_value``:
    whoever wrote a cell, nothing in the file is a formula."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, datetime.datetime) and value.tzinfo is not None:
                    cell.value = value.replace(tzinfo=None)  # XLSX has no time zones
                elif value is not None:
                    safe = cell_value(value)
                    if safe is not value:
                        cell.value = safe
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


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
        response = HttpResponse(csv_text(table_rows(table)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
        return response
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = name[:31]
    for row in table_rows(table):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    response = HttpResponse(workbook_bytes(workbook), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.xlsx"'
    return response
