"""Reading ledger files: CSV or XLSX, one line a row under a header row.

Pure reading and parsing: what the lines mean (rules, cost items) is ledger.services's.
Columns are found by their header, whatever their order, case, spacing or punctuation, under
the names and aliases of ``COLUMNS``; any other column is ignored.
"""

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Generator
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import IO
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from core.money import iso_4217_error
from ledger.choices import FileFormat

# Column -> the headers it is recognised by (compared after normalise_header).
COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("account", "gl account", "account code", "account number", "ledger account",
                "gl", "natural account"),
    "cost_centre": ("cost centre", "cost center", "cost centre code", "cost center code",
                    "cc", "costcentre", "costcenter", "department"),
    "vendor": ("vendor", "vendor name", "supplier", "supplier name", "payee"),
    "description": ("description", "text", "line description", "memo", "narrative"),
    "amount": ("amount", "value", "net amount", "amount local", "posted amount"),
    "currency": ("currency", "currency code", "ccy"),
    "posting_date": ("posting date", "posted on", "date", "document date", "gl date"),
    "period": ("period", "fiscal period", "accounting period", "posting period"),
}  # fmt: skip
LABELS = {
    "account": "account",
    "cost_centre": "cost centre",
    "vendor": "vendor",
    "description": "description",
    "amount": "amount",
    "currency": "currency",
    "posting_date": "posting date",
    "period": "period",
}
XLSX_MAGIC = b"PK\x03\x04"
PERIOD_PATTERN = re.compile(r"^(\d{4})[-/.]?(\d{1,2})$")
MAX_TEXT = {"account": 200, "cost_centre": 200, "vendor": 300}


@dataclass(frozen=True)
class Line:
    """One parsed line of a ledger file."""

    row: int  # its row in the file, the header being row 1
    account: str
    cost_centre: str
    vendor: str
    description: str
    amount: Decimal
    currency: str
    posting_date: datetime.date | None
    year: int
    month: int

    def digest_text(self) -> str:
        """The line as the digest that tells an unchanged period reads it."""
        return "\x1f".join(
            (self.account, self.cost_centre, self.vendor, self.description, str(self.amount),
             self.currency, str(self.posting_date or ""), f"{self.year}-{self.month:02d}")
        )  # fmt: skip


def normalise_header(text: str) -> str:
    """A header as columns are found by: case, punctuation and runs of spaces do not matter
    (``Cost_Center``, ``cost-center`` and ``COST CENTER`` are one)."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


ALIASES = {alias: column for column, names in COLUMNS.items() for alias in names}


def format_of(name: str, head: bytes) -> str:
    """XLSX when the file is a zip archive (as every XLSX is) or named .xlsx, else CSV."""
    if head.startswith(XLSX_MAGIC) or name.lower().endswith(".xlsx"):
        return FileFormat.XLSX
    return FileFormat.CSV


def columns_of(header: list[Any]) -> dict[str, int]:
    """Column -> its index in the header; a file that lacks a required column, or names one
    twice, is refused naming it."""
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        column = ALIASES.get(normalise_header("" if text is None else str(text)))
        if column is None:
            continue
        if column in found:
            raise ValidationError(
                {"file": f"Two columns are the {LABELS[column]}: {header[found[column]]!r} and "
                         f"{text!r}."}
            )  # fmt: skip
        found[column] = index
    missing = [LABELS[c] for c in ("account", "amount") if c not in found]
    if "posting_date" not in found and "period" not in found:
        missing.append("posting date or period")
    if missing:
        raise ValidationError(
            {
                "file": (
                    f"This is not a ledger file: it lacks the columns {', '.join(missing)} "
                    "(see the header names the import knows)."
                )
            }
        )
    return found


def read_lines(stream: IO[bytes], *, name: str = "") -> Iterator[Line]:
    """The lines of a ledger file, parsed; a bad file or value raises ValidationError naming
    the column and the row."""
    head = stream.read(4)
    stream.seek(0)
    rows = _xlsx_rows(stream) if format_of(name, head) == FileFormat.XLSX else _csv_rows(stream)
    try:
        header = next(rows, None)
        if header is None:
            raise ValidationError({"file": "The file is empty."})
        columns = columns_of(header)
        default_currency = settings.PORTICO_CURRENCY
        for number, row in enumerate(rows, start=2):
            if all(value is None or str(value).strip() == "" for value in row):
                continue  # a blank row (spreadsheets keep some at the end)
            yield parse(row, columns, number, default_currency)
    finally:
        rows.close()


def _csv_rows(stream: IO[bytes]) -> Generator[list[Any]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        try:
            sample = text.read(8192)
            text.seek(0)
            # Ledger exports use commas or, where the decimal mark is a comma, semicolons.
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            reader = csv.reader(text, delimiter=delimiter)
            yield from reader
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ValidationError({"file": f"This is not a CSV file in UTF-8: {exc}"}) from None
    finally:
        # The caller owns the stream: the wrapper must not close it when collected.
        if not stream.closed:
            text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Generator[list[Any]]:
    """The first worksheet's rows, as values (dates and numbers as the cells hold them)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationError({"file": f"This is not an XLSX workbook: {exc}"}) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def _text(row: list[Any], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    if index is None or index >= len(row) or row[index] is None:
        return ""
    value = row[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an account number a spreadsheet stored as a number
    return " ".join(str(value).split())


def _amount(value: Any, number: int) -> Decimal:
    if isinstance(value, bool):
        value = None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        # The shortest text that reads back as the cell's number: 0.1 stays 0.1.
        text = repr(value)
    else:
        text = "" if value is None else str(value).strip().replace(" ", "")
    if not text:
        raise ValidationError({"amount": f"Row {number}: the amount is empty."})
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValidationError({"amount": f"Row {number}: {text[:40]!r} is not a number."})
    exponent = amount.as_tuple().exponent
    if (isinstance(exponent, int) and exponent < -12) or abs(amount) >= Decimal(10) ** 18:
        raise ValidationError(
            {"amount": f"Row {number}: {text[:40]!r} has more than 18 digits before or 12 "
                       "after the decimal point."}
        )  # fmt: skip
    return amount


def _date(value: Any, number: int) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError(
            {"posting_date": f"Row {number}: {text[:40]!r} is not a date (YYYY-MM-DD)."}
        ) from None


def _period(value: Any, number: int) -> tuple[int, int] | None:
    if isinstance(value, datetime.date):
        return value.year, value.month
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    found = PERIOD_PATTERN.match(text)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ValidationError({"period": f"Row {number}: {text[:40]!r} is not a period (YYYY-MM)."})
    return int(found.group(1)), int(found.group(2))


def parse(row: list[Any], columns: dict[str, int], number: int, default_currency: str) -> Line:
    """One row as a Line; the first bad value raises ValidationError naming its column."""

    def cell(column: str) -> Any:
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else None

    account = _text(row, columns, "account")
    if not account:
        raise ValidationError({"account": f"Row {number}: the account is empty."})
    texts = {"account": account}
    for column in ("cost_centre", "vendor"):
        texts[column] = _text(row, columns, column)
    for column, limit in MAX_TEXT.items():
        if len(texts[column]) > limit:
            raise ValidationError({column: f"Row {number}: longer than {limit} characters."})
    amount = _amount(cell("amount"), number)
    currency = _text(row, columns, "currency").upper() or default_currency
    if error := iso_4217_error(currency):
        raise ValidationError({"currency": f"Row {number}: {error[:80]}"})
    posting_date = _date(cell("posting_date"), number)
    month = _period(cell("period"), number)
    if month is None:
        if posting_date is None:
            raise ValidationError(
                {"posting_date": f"Row {number}: give the posting date or the period."}
            )
        month = (posting_date.year, posting_date.month)
    return Line(
        row=number,
        account=account,
        cost_centre=texts["cost_centre"],
        vendor=texts["vendor"],
        description=_text(row, columns, "description"),
        amount=amount,
        currency=currency,
        posting_date=posting_date,
        year=month[0],
        month=month[1],
    )
