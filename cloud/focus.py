"""Reading FOCUS files: CSV or Parquet, into the columns Portico keeps (models.FOCUS_COLUMNS).

Pure reading and parsing: what the lines mean (rules, cost items) is cloud.services's.
"""

import csv
import datetime
import functools
import io
import json
from collections.abc import Generator
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import IO
from typing import Any

from django.core.exceptions import ValidationError

from cloud.choices import FileFormat
from cloud.models import FOCUS_COLUMNS
from cloud.models import REQUIRED_COLUMNS

COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost")
MOMENT_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd")
# How exports write a missing value (the FOCUS sample writes NULL).
NULLS = frozenset({"", "NULL", "null"})
PARQUET_MAGIC = b"PAR1"
BATCH_ROWS = 50_000


@dataclass(frozen=True)
class Line:
    """One parsed line: FOCUS column -> value (str, Decimal, datetime, dict or None)."""

    number: int
    values: dict[str, Any]
    # The line as read, for the digest that tells an unchanged billing period.
    raw: str
    # Its tags as JSON (as stored), also the key under which lines with the same tags match.
    tags_json: str


def format_of(name: str, head: bytes) -> str:
    """Parquet when the file starts with Parquet's magic bytes, else CSV (whatever its name)."""
    if head.startswith(PARQUET_MAGIC) or name.lower().endswith(".parquet"):
        return FileFormat.PARQUET
    return FileFormat.CSV


def read_lines(stream: IO[bytes], *, name: str = "") -> Iterator[Line]:
    """The lines of a FOCUS file, parsed; a bad file or value raises ValidationError naming
    the column (and the line)."""
    head = stream.read(4)
    stream.seek(0)
    if format_of(name, head) == FileFormat.PARQUET:
        rows = _parquet_rows(stream)
    else:
        rows = _csv_rows(stream)
    try:
        columns = next(rows)
        missing = [column for column in REQUIRED_COLUMNS if column not in columns]
        if missing:
            raise ValidationError(
                {"file": f"This is not a FOCUS file: it lacks the columns {', '.join(missing)}."}
            )
        wanted = [(i, column) for i, column in enumerate(columns) if column in FOCUS_COLUMNS]
        for number, row in enumerate(rows, start=1):
            values = {column: row[index] for index, column in wanted}
            raw = "\x1f".join("" if row[index] is None else str(row[index]) for index, _ in wanted)
            parsed, tags_json = parse(values, number)
            yield Line(number, parsed, raw, tags_json)
    finally:
        rows.close()  # while the caller's stream is still open


def _csv_rows(stream: IO[bytes]) -> Generator[list]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield from _csv_rows_of(text)
    finally:
        # The caller owns the stream: the wrapper must not close it (or warn) when collected.
        if not stream.closed:
            text.detach()


def _csv_rows_of(text: io.TextIOWrapper) -> Iterator[list]:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError({"file": "The file is empty."}) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError({"file": f"This is not a CSV file in UTF-8: {exc}"}) from None
    yield [column.strip() for column in header]
    try:
        for row in reader:
            if len(row) != len(header):
                raise ValidationError(
                    {
                        "file": (
                            f"Line {reader.line_num}: {len(row)} values for {len(header)} columns."
                        )
                    }
                )
            yield row
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError({"file": f"Line {reader.line_num}: {exc}"}) from None


def _parquet_rows(stream: IO[bytes]) -> Generator[list]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError) as exc:
        raise ValidationError({"file": f"This is not a Parquet file: {exc}"}) from None
    columns = list(parquet.schema_arrow.names)
    yield columns
    wanted = [column for column in columns if column in FOCUS_COLUMNS]
    batches = parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted)
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:
            raise ValidationError({"file": f"This Parquet file cannot be read: {exc}"}) from None
        if batch is None:
            break
        data = batch.to_pydict()
        positions = {column: columns.index(column) for column in wanted}
        for i in range(batch.num_rows):
            row: list = [None] * len(columns)
            for column in wanted:
                row[positions[column]] = data[column][i]
            yield row


def _text(value) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    return "" if text in NULLS else text


def _decimal(value, column: str, number: int) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    text = _text(value)  # a float (Parquet) too, so that NaN and infinities are refused below
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValidationError({column: f"Line {number}: {text[:40]!r} is not a number."})
    return amount


@functools.lru_cache(maxsize=100_000)
def _moment_of_text(text: str) -> datetime.datetime | None:
    """A FOCUS date and time (in UTC when it names no zone); None when it is none. A bill
    repeats the same hours and days on many lines: each text is parsed once."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _moment(value, column: str, number: int) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
    text = _text(value)
    if not text:
        return None
    try:
        return _moment_of_text(text)
    except ValueError:
        raise ValidationError(
            {column: f"Line {number}: {text[:40]!r} is not a date and time."}
        ) from None


@functools.lru_cache(maxsize=100_000)
def _tags_of_text(text: str) -> tuple[dict[str, str], str]:
    """Tags written as a JSON object, and that object as stored; many lines of a bill carry
    the same tags: each text is read once. Raises ValueError for anything else."""
    tags = json.loads(text)
    if not isinstance(tags, dict):
        raise ValueError("not an object")
    tags = {str(key): "" if tag is None else str(tag) for key, tag in tags.items()}
    return tags, json.dumps(tags)


def _tags(value, number: int) -> tuple[dict[str, str], str]:
    if isinstance(value, dict | list):  # a Parquet map arrives as a list of (key, value) pairs
        value = json.dumps(dict(value))
    text = _text(value)
    if not text:
        return {}, "{}"
    try:
        return _tags_of_text(text)
    except ValueError:
        raise ValidationError({"Tags": f"Line {number}: the tags are not a JSON object."}) from None


TEXT_COLUMNS = tuple(
    column
    for column in FOCUS_COLUMNS
    if column not in COST_COLUMNS and column not in MOMENT_COLUMNS and column != "Tags"
)


def parse(values: dict[str, Any], number: int) -> tuple[dict[str, Any], str]:
    """The line's values by FOCUS column, and its tags as JSON."""
    parsed: dict[str, Any] = {column: _text(values.get(column)) for column in TEXT_COLUMNS}
    for column in COST_COLUMNS:
        parsed[column] = _decimal(values.get(column), column, number)
    for column in MOMENT_COLUMNS:
        parsed[column] = _moment(values.get(column), column, number)
    parsed["Tags"], tags_json = _tags(values.get("Tags"), number)
    for column in REQUIRED_COLUMNS:
        if parsed[column] is None or parsed[column] == "":
            raise ValidationError({column: f"Line {number}: {column} is empty."})
    if len(parsed["BillingCurrency"]) != 3:
        raise ValidationError(
            {"BillingCurrency": f"Line {number}: give a three-letter ISO 4217 code."}
        )
    return parsed, tags_json
