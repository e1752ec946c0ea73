"""The months a finance report covers: one month, a fiscal quarter or a fiscal year, and
whether every one of them is closed with results."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from finance import selectors
from finance.choices import ReportPeriodSelector
from finance.models import Period
from finance.models import fiscal_start_month
from finance.models import fiscal_year_of
from finance.models import month_serial
from finance.models import parse_label
from finance.models import serial_label

QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR_KEY = re.compile(r"^FY(\d{4})$")
PERIOD_KEY_FORMS = "YYYY-MM (a month), YYYY-Qn (a fiscal quarter) or FYyyyy (a fiscal year)"


@dataclass(frozen=True)
class ReportSpan:
    """The months a report covers: one month, a fiscal quarter or a fiscal year."""

    kind: str  # "month", "quarter" or "year"
    first: int  # month serial (finance.models.month_serial)
    last: int

    @property
    def serials(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def first_label(self) -> str:
        return serial_label(self.first)

    @property
    def last_label(self) -> str:
        return serial_label(self.last)

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.first // 12, self.first % 12 + 1)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return self.first_label
        if self.kind == "quarter":
            quarter = (self.first % 12 + 1 - fiscal_start_month()) % 12 // 3 + 1
            return f"{self.fiscal_year}-Q{quarter}"
        return f"FY{self.fiscal_year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.first_label
        if self.kind == "quarter":
            year, quarter = self.key.split("-")
            name = f"{quarter} of fiscal year {year}"
        else:
            name = f"Fiscal year {self.fiscal_year}"
        return f"{name} ({self.first_label} to {self.last_label})"


SELECTOR_SPAN = {
    ReportPeriodSelector.LAST_MONTH.value: "month",
    ReportPeriodSelector.LAST_QUARTER.value: "quarter",
    ReportPeriodSelector.LAST_YEAR.value: "year",
}
SPAN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def span_containing(kind: str, serial: int) -> ReportSpan:
    """The month, fiscal quarter or fiscal year that month ``serial`` belongs to."""
    fiscal_index = (serial % 12 + 1 - fiscal_start_month()) % 12
    if kind == "month":
        first = serial
    elif kind == "quarter":
        first = serial - fiscal_index % 3
    else:
        first = serial - fiscal_index
    return ReportSpan(kind, first, first + SPAN_MONTHS[kind] - 1)


def parse_report_period(text: str) -> ReportSpan:
    """``2025-03``, ``2025-Q1`` (quarter 1 of fiscal year 2025) or ``FY2025``."""
    value = (text or "").strip().upper()
    if quarter := QUARTER_KEY.match(value):
        year, number = int(quarter[1]), int(quarter[2])
        start = fiscal_start_month()
        first = month_serial(year - (1 if start != 1 else 0), start) + 3 * (number - 1)
        return ReportSpan("quarter", first, first + 2)
    if fiscal := YEAR_KEY.match(value):
        start = fiscal_start_month()
        first = month_serial(int(fiscal[1]) - (1 if start != 1 else 0), start)
        return ReportSpan("year", first, first + 11)
    try:
        year, month = parse_label(value)
    except ValidationError:
        raise ValidationError(
            {"period": f"A report period is written {PERIOD_KEY_FORMS}, not {text!r}."}
        ) from None
    serial = month_serial(year, month)
    return ReportSpan("month", serial, serial)


def resolve_report_period(
    *, selector: str, today: datetime.date | None = None, closed: set[int] | None = None
) -> ReportSpan:
    """The latest month, fiscal quarter or fiscal year whose every month is closed with
    results. When there is none yet: the latest one that has ended, so the run that finds it
    incomplete is recorded against it."""
    kind = SELECTOR_SPAN[selector]
    closed = selectors.closed_months_with_results() if closed is None else closed
    if closed:
        span = span_containing(kind, max(closed))
        while span.last >= min(closed):
            if all(serial in closed for serial in span.serials):
                return span
            span = span_containing(kind, span.first - 1)
    today = today or timezone.localdate()
    current = span_containing(kind, month_serial(today.year, today.month))
    return span_containing(kind, current.first - 1)


def report_periods(span: ReportSpan) -> tuple[list[Period], str]:
    """The periods of ``span`` and, when any month is not closed with results, why the
    report cannot be made (empty when it can)."""
    periods = {
        p.serial: p for p in Period.objects.filter(serial__gte=span.first, serial__lte=span.last)
    }
    closed = selectors.closed_months_with_results()
    missing = [serial_label(s) for s in span.serials if s not in periods]
    still_open = [
        serial_label(s) for s in span.serials if s in periods and not periods[s].is_closed
    ]
    empty = [
        serial_label(s)
        for s in span.serials
        if s in periods and periods[s].is_closed and s not in closed
    ]
    problems = []
    if missing:
        problems.append(f"no period for {', '.join(missing)}")
    if still_open:
        problems.append(f"{', '.join(still_open)} not closed yet")
    if empty:
        problems.append(f"no results in {', '.join(empty)}")
    if problems:
        return [], (
            f"{span.label} has no closed results: {'; '.join(problems)}. The report is made "
            "once every month of it is closed."
        )
    return [periods[s] for s in span.serials], ""
