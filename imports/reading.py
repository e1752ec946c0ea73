"""Reading an uploaded CSV or XLSX file into sheets of rows, each row with its number in the
file, so every problem can be told in the file's own terms (row 12, column "Owner").

Cells keep what the file holds: text, numbers (int, or float as the spreadsheet stores
them), booleans, dates and date-times; an empty cell is None. A file that cannot be read
raises FileRefused with a sentence naming the problem, never a server error."""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from imports import xlsx

MAX_BYTES = 25 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CELL = 10_000  # characters: no field of the portfolio holds more
XLSX_MAGIC = b"PK\x03\x04"


class FileRefused(Exception):
    """The file cannot be imported; ``str()`` says why, in a sentence a person can act on."""


@dataclass
class Sheet:
    name: str
    headers: list[str]
    # (row number in the file, cells in the order of ``headers``)
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def kind_of(filename: str, content: bytes) -> str:
    """``xlsx`` or ``csv``, by the content first (a renamed file is read as what it is)."""
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise FileRefused("The file is named .xlsx but is not an Excel workbook.")
    return "csv"


def read_file(filename: str, content: bytes, *, header_only: bool = False) -> list[Sheet]:
    """The sheets of the file that hold a header row. ``header_only`` reads the headers and
    the first few rows (for the mapping page) without reading the whole file."""
    if not content:
        raise FileRefused("The file is empty.")
    if len(content) > MAX_BYTES:
        raise FileRefused(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if kind_of(filename, content) == "xlsx":
        sheets = _read_xlsx(content, header_only=header_only)
    else:
        sheets = [_read_csv(filename, content, header_only=header_only)]
    sheets = [sheet for sheet in sheets if sheet.headers]
    if not sheets:
        raise FileRefused("The file has no header row: its first row must name the columns.")
    return sheets


def _headers(cells: list[Any], where: str) -> list[str]:
    headers = [_text(cell).strip() for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise FileRefused(f"{where}has {len(headers)} columns; at most {MAX_COLUMNS} are read.")
    seen: set[str] = set()
    for number, header in enumerate(headers, start=1):
        if not header:
            raise FileRefused(f"{where}column {number} has no header: name every column.")
        if len(header) > 200:
            raise FileRefused(f"{where}the header of column {number} is too long.")
        if header.lower() in seen:
            raise FileRefused(f"{where}the header “{header}” is used twice.")
        seen.add(header.lower())
    return headers


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime.datetime):
        return (
            cell.isoformat(sep=" ") if cell.time() != datetime.time() else cell.date().isoformat()
        )
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    return str(cell)


def _row(cells: list[Any], width: int, number: int, where: str) -> list[Any] | None:
    """The row's first ``width`` cells (None when all are empty); a long text is refused."""
    values = list(cells[:width]) + [None] * (width - len(cells))
    values = [None if isinstance(v, str) and not v.strip() else v for v in values]
    if all(v is None for v in values):
        return None
    extra = [
        v for v in cells[width:] if v is not None and not (isinstance(v, str) and not v.strip())
    ]
    if extra:
        raise FileRefused(f"{where}row {number} has more values than there are headers.")
    for v in values:
        if isinstance(v, str) and len(v) > MAX_CELL:
            raise FileRefused(f"{where}row {number} has a cell longer than {MAX_CELL} characters.")
    return values


def _read_csv(filename: str, content: bytes, *, header_only: bool) -> Sheet:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file is neither an Excel workbook nor UTF-8 text.") from None
    if "\x00" in text:
        raise FileRefused("The file is not text: it holds null characters.")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    sheet_name = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "CSV"
    try:
        header = next(reader, None)
        if header is None:
            raise FileRefused("The file is empty.")
        sheet = Sheet(sheet_name, _headers(header, ""))
        for cells in reader:
            number = reader.line_num
            row = _row(cells, len(sheet.headers), number, "")
            if row is not None:
                sheet.rows.append((number, row))
            if header_only and len(sheet.rows) >= 3:
                break
            if len(sheet.rows) > MAX_ROWS:
                raise FileRefused(f"The file has more than {MAX_ROWS} rows.")
    except csv.Error as exc:
        raise FileRefused(
            f"The file is not a readable CSV file (line {reader.line_num}: {exc})."
        ) from None
    return sheet


def _read_xlsx(content: bytes, *, header_only: bool) -> list[Sheet]:
    try:
        return _read_xlsx_fast(content, header_only=header_only)
    except FileRefused:
        raise
    except Exception:  # anything unexpected: openpyxl reads it, or says what is wrong
        return _read_xlsx_openpyxl(content, header_only=header_only)


def _sheet_of(title: str, rows, *, header_only: bool) -> Sheet | None:
    where = f"Sheet “{title}”: "
    header = next(rows, None)
    if header is None:
        return None
    sheet = Sheet(title, _headers(list(header), where))
    if not sheet.headers:
        return None
    for number, cells in enumerate(rows, start=2):
        row = _row(list(cells), len(sheet.headers), number, where)
        if row is not None:
            sheet.rows.append((number, row))
        if header_only and len(sheet.rows) >= 3:
            break
        if len(sheet.rows) > MAX_ROWS:
            raise FileRefused(f"{where}more than {MAX_ROWS} rows.")
    return sheet


def _read_xlsx_fast(content: bytes, *, header_only: bool) -> list[Sheet]:
    book = xlsx.Workbook(content)
    sheets = []
    for title, state, path in book.sheets:
        if state != "visible":
            continue  # a template's lists of allowed values
        sheet = _sheet_of(title, book.rows(path), header_only=header_only)
        if sheet is not None:
            sheets.append(sheet)
    return sheets


def _read_xlsx_openpyxl(content: bytes, *, header_only: bool) -> list[Sheet]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise FileRefused(f"The file is not a readable Excel workbook ({exc}).") from None
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileRefused(f"The file is not a readable Excel workbook ({exc}).") from None
    sheets = []
    try:
        for worksheet in workbook.worksheets:
            if worksheet.sheet_state != "visible":
                continue
            rows = worksheet.iter_rows(values_only=True)
            sheet = _sheet_of(worksheet.title, rows, header_only=header_only)
            if sheet is not None:
                sheets.append(sheet)
    except FileRefused:
        raise
    except Exception as exc:
        raise FileRefused(f"The workbook could not be read ({exc}).") from None
    finally:
        workbook.close()
    return sheets
