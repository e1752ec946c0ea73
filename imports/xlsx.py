"""A fast reader of XLSX worksheets' values: the workbook's XML read with the standard
library's parser, cell by cell, without building openpyxl's cell objects (ten times faster
on large sheets). It reads values only: shared and inline strings, numbers, booleans, dates
(by their number format), formulas' cached values. Anything it does not expect raises, and
the caller falls back to openpyxl."""

import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELATION = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that are dates or times (ECMA-376, 18.8.30).
DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_COLUMN = re.compile(r"[A-Z]+")


def _is_date_format(code: str) -> bool:
    return any(letter in _QUOTED.sub("", code).lower() for letter in "dmyhs")


def _column_index(reference: str) -> int:
    letters = _COLUMN.match(reference)
    if letters is None:
        raise ValueError(f"cell reference {reference!r}")
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _text(element) -> str:
    """The text of a string item: its runs, without phonetic hints."""
    if element is None:
        return ""
    direct = element.find(f"{MAIN}t")
    if direct is not None:
        return direct.text or ""
    return "".join(run.findtext(f"{MAIN}t") or "" for run in element.findall(f"{MAIN}r"))


class Workbook:
    def __init__(self, content: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(content))
        names = set(self.zip.namelist())
        book = ElementTree.fromstring(self.zip.read("xl/workbook.xml"))
        properties = book.find(f"{MAIN}workbookPr")
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        self.epoch = datetime.datetime(1904, 1, 1) if date1904 else datetime.datetime(1899, 12, 30)
        relations = ElementTree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        targets = {
            r.get("Id"): r.get("Target", "")
            for r in relations.iter(f"{PACKAGE_RELATION}Relationship")
        }
        self.sheets = []  # (name, visible, path)
        for sheet in book.iter(f"{MAIN}sheet"):
            target = targets[sheet.get(f"{RELATION}id")]
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            self.sheets.append((sheet.get("name", ""), sheet.get("state", "visible"), path))
        self.shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            strings = ElementTree.fromstring(self.zip.read("xl/sharedStrings.xml"))
            self.shared = [_text(item) for item in strings.iter(f"{MAIN}si")]
        self.date_styles: set[int] = set()
        if "xl/styles.xml" in names:
            styles = ElementTree.fromstring(self.zip.read("xl/styles.xml"))
            custom = {
                int(f.get("numFmtId", "0")): f.get("formatCode", "")
                for f in styles.iter(f"{MAIN}numFmt")
            }
            cell_formats = styles.find(f"{MAIN}cellXfs")
            for index, xf in enumerate(cell_formats if cell_formats is not None else []):
                number_format = int(xf.get("numFmtId", "0"))
                if number_format in DATE_FORMATS or (
                    number_format in custom and _is_date_format(custom[number_format])
                ):
                    self.date_styles.add(index)

    def rows(self, path: str) -> Iterator[list[Any]]:
        """The sheet's rows as lists of values (None for an empty cell); a row the file
        leaves out is an empty list, so row numbers stay those of the file."""
        expected = 1
        with self.zip.open(path) as stream:
            for _event, element in ElementTree.iterparse(stream):
                if element.tag != f"{MAIN}row":
                    continue
                number = int(element.get("r", expected))
                while expected < number:
                    yield []
                    expected += 1
                values: list[Any] = []
                for position, cell in enumerate(element.iter(f"{MAIN}c")):
                    reference = cell.get("r")
                    column = _column_index(reference) if reference else position
                    if column >= len(values):
                        values.extend([None] * (column + 1 - len(values)))
                    values[column] = self._value(cell)
                element.clear()
                expected = number + 1
                yield values

    def _value(self, cell) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            return _text(cell.find(f"{MAIN}is"))
        raw = cell.findtext(f"{MAIN}v")
        if raw is None:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw == "1"
        if kind == "d":
            return datetime.datetime.fromisoformat(raw)
        number: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if int(cell.get("s", "0")) in self.date_styles:
            return self.epoch + datetime.timedelta(days=float(number))
        return number
