"""The period a report is for: months, fiscal quarters and years, the last closed one, and a
run when no month is closed at all (without the closed quarter test_reports.py's tests share)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from finance import services
from finance.choices import ReportOutcome
from tests.factories.finance import ReportDefinitionFactory


def test_period_keys_follow_the_fiscal_year(settings):
    settings.PORTICO_FISCAL_YEAR_START_MONTH = 4
    first = services.parse_report_period("2025-Q1")
    assert (first.first_label, first.last_label, first.key) == ("2024-04", "2024-06", "2025-Q1")
    year = services.parse_report_period("fy2025")
    assert (year.first_label, year.last_label, year.key) == ("2024-04", "2025-03", "FY2025")
    assert services.parse_report_period("2025-02").key == "2025-02"
    assert services.span_containing("quarter", year.last).key == "2025-Q4"
    with pytest.raises(ValidationError) as refused:
        services.parse_report_period("2025-Q5")
    assert "YYYY-Qn" in refused.value.message_dict["period"][0]


def test_last_closed_span_is_the_latest_complete_one(settings):
    settings.PORTICO_FISCAL_YEAR_START_MONTH = 4
    closed = {services.parse_report_period(label).first for label in
              ("2024-04", "2024-05", "2024-06", "2024-07", "2024-08")}  # fmt: skip
    resolve = services.resolve_report_period
    assert resolve(selector="last_month", closed=closed).key == "2024-08"
    assert resolve(selector="last_quarter", closed=closed).key == "2025-Q1"
    # No complete fiscal year yet: the one that ended last, to be skipped with the reason.
    assert (
        resolve(selector="last_year", closed=closed, today=datetime.date(2024, 9, 1)).key
        == "FY2024"
    )


def test_no_closed_month_at_all_is_skipped_against_the_last_ended_month(smtp, db):
    definition = ReportDefinitionFactory()

    report = services.run_report(definition, today=datetime.date(2025, 7, 9))

    assert (report.period_key, report.outcome) == ("2025-06", ReportOutcome.SKIPPED)
    assert "has no closed results" in report.error
