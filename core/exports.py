"""Spreadsheet files: the current (filtered, sorted) list as CSV or XLSX, what the user sees,
every page of it; and the one rule every exported cell goes through (finance reports too).

A cell is text someone typed, so a spreadsheet must never run it: text beginning with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote (OWASP, CSV
injection). Numbers and dates stay numbers and dates, and so does text that is only a number
(``-12.50``): a spreadsheet reads that as the number, nothing more.

Every sheet of a workbook filters by its header row: the row above the frozen panes, else
the first, unless whoever wrote the sheet set its autofilter's header row already.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django_tables2 import DateColumn
from django_tables2 import DateTimeColumn
from django_tables2.utils import Accessor
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

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


def header_row_of(sheet: Worksheet) -> int:
    """The row a sheet's autofilter starts at: the one its writer set, else the row above
    the frozen panes, else the first."""
    if sheet.auto_filter.ref:
        return range_boundaries(sheet.auto_filter.ref)[1]
    frozen = sheet.freeze_panes
    if frozen:
        return max(1, range_boundaries(f"{frozen}:{frozen}")[1] - 1)
    return 1


def set_autofilter(sheet: Worksheet) -> None:
    """An autofilter over the table that starts at the sheet's header row: as wide as the
    headers, down to the last row before a blank one (a sheet may hold more tables below)."""
    header = header_row_of(sheet)
    width = max((cell.column for cell in sheet[header] if cell.value is not None), default=0)
    if not width:
        return
    last = header
    for row in sheet.iter_rows(min_row=header + 1, max_col=width):
        if all(cell.value is None for cell in row):
            break
        last = row[0].row
    sheet.auto_filter.ref = f"A{header}:{get_column_letter(width)}{last}"


def workbook_bytes(workbook: Workbook) -> bytes:
    """The saved workbook, after every cell of every sheet went through ``cell_value`` (whoever
    wrote a cell, nothing in the file is a formula), dates as dates in the local time (XLSX
    has no time zones), and every sheet with its autofilter."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, datetime.datetime) and value.tzinfo is not None:
                    cell.value = timezone.localtime(value).replace(tzinfo=None)
                elif value is not None:
                    safe = cell_value(value)
                    if safe is not value:
                        cell.value = safe
        set_autofilter(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, bool | int | float | Decimal | datetime.date):
        return value
    return str(value)


def table_rows(table):
    """The header and the rows of ``table`` as its exports hold them: what each column's
    ``value`` gives, except that a date column's cells are the dates themselves (a real date
    in XLSX; django-tables2 would give text)."""
    excluded = set(getattr(table, "export_exclude", ()))
    columns = [
        column
        for column in table.columns.iterall()
        if not (column.column.exclude_from_export or column.name in excluded)
    ]
    yield [str(column.header) for column in columns]
    dated = {
        column.name: Accessor(column.accessor)
        for column in columns
        if isinstance(column.column, DateColumn | DateTimeColumn)
    }
    for row in table.rows:
        yield [
            _plain(
                dated[column.name].resolve(row.record, quiet=True)
                if column.name in dated
                else row.get_cell_value(column.name)
            )
            for column in columns
        ]


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
