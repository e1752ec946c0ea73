"""Reading files: every file that cannot be read is refused with a sentence, never a 500."""

import datetime

import pytest

from imports.reading import MAX_CELL
from imports.reading import FileRefused
from imports.reading import read_file
from tests.imports.files import workbook


def test_a_workbook_is_read_sheet_by_sheet_with_row_numbers():
    content = workbook(
        {
            "Services": [("External id", "Name"), ("a", "A"), (None, None), ("b", 12.0)],
            "Specification items": [("External id", "Due"), ("i", datetime.date(2026, 1, 31))],
        }
    )
    services, items = read_file("portfolio.xlsx", content)
    assert services.headers == ["External id", "Name"]
    # The empty row 3 is skipped, row 4 keeps its number.
    assert [number for number, _ in services.rows] == [2, 4]
    assert services.rows[1][1] == ["b", 12]
    assert items.rows[0][1][1] == datetime.datetime(2026, 1, 31)


def test_a_csv_file_is_one_sheet_named_after_the_file():
    (sheet,) = read_file("services.csv", b"External id;Name\nA;Claims\n\nB;Pay\n")
    assert sheet.name == "services"
    assert sheet.rows == [(2, ["A", "Claims"]), (4, ["B", "Pay"])]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("picture.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an Excel workbook"),
        ("broken.xlsx", b"PK\x03\x04" + b"garbage" * 100, "not a readable Excel workbook"),
        ("latin.csv", "Name\nCaf\xe9\n".encode("latin-1"), "neither an Excel workbook nor UTF-8"),
        ("nul.csv", b"Name\x00\nA\n", "null characters"),
        ("blank.csv", b"\n\n", "no header row"),
        ("twice.csv", b"Name,name\nA,B\n", "used twice"),
        ("gap.csv", b"Name,,Kind\nA,B,C\n", "column 2 has no header"),
        ("wide.csv", b"Name\nA,B\n", "row 2 has more values than there are headers"),
        ("huge.csv", b"Name\n" + b"x" * (MAX_CELL + 1) + b"\n", "longer than"),
        ("field.csv", b'Name\n"' + b"x" * 200_000 + b'"\n', "not a readable CSV file"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_reason(name, content, problem):
    with pytest.raises(FileRefused, match=problem):
        read_file(name, content)


def test_a_huge_cell_in_a_workbook_is_refused_naming_its_row():
    content = workbook({"Services": [("Name",), ("ok",), ("x" * (MAX_CELL + 1),)]})
    with pytest.raises(FileRefused, match="Sheet “Services”: row 3 has a cell longer"):
        read_file("big.xlsx", content)


def test_the_fast_reader_reads_what_openpyxl_reads():
    from imports.reading import _read_xlsx_fast
    from imports.reading import _read_xlsx_openpyxl

    content = workbook(
        {
            "Services": [
                ("External id", "Name", "Due", "Flag", "Amount"),
                ("a", "A", datetime.date(2026, 1, 31), True, 12.5),
                (None, None),
                ("b", 12.0, datetime.datetime(2026, 3, 1, 10, 30), False, 3),
            ],
            "Other": [("X",), ("y",)],
        }
    )
    fast = _read_xlsx_fast(content, header_only=False)
    slow = _read_xlsx_openpyxl(content, header_only=False)
    assert [(s.name, s.headers, s.rows) for s in fast] == [
        (s.name, s.headers, s.rows) for s in slow
    ]
    assert fast[0].rows[1] == (4, ["b", 12, datetime.datetime(2026, 3, 1, 10, 30), False, 3])
