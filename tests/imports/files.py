"""Files to import, made in the test: workbooks and CSV text."""

import io
from collections.abc import Iterable

from openpyxl import Workbook


def workbook(sheets: dict[str, Iterable[Iterable]]) -> bytes:
    """An XLSX workbook with one sheet per entry, its first row the headers."""
    book = Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        sheet.title = name
        first = False
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SERVICE_HEADERS = ("External id", "Name", "Kind", "Lifecycle", "Owner")
ITEM_HEADERS = ("External id", "Service", "Aspect", "Dimension", "Title")


def services_and_items(count: int, *, owner: str, start: int = 0, title: str = "Opens") -> bytes:
    """``count`` services, each with one functionality item of its facility."""
    return workbook(
        {
            "Services": [
                SERVICE_HEADERS,
                *(
                    (f"svc-{n}", f"Service {n}", "Customer facing", "live", owner)
                    for n in range(start, start + count)
                ),
            ],
            "Specification items": [
                ITEM_HEADERS,
                *(
                    (f"item-{n}", f"svc-{n}", "facility", "functionality", f"{title} {n}")
                    for n in range(start, start + count)
                ),
            ],
        }
    )
