"""Budget against actual as finance sees it: the Fund services page's budget view and its
variance list, each service page's budget panel and the report pack's variance sheet show
the figures of budgets.selectors, on the hand-computed fiscal year (tests/budgets/scenario.py)."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from budgets import selectors
from core.money import format_amount
from finance import reports
from finance import services as finance_services
from finance.models import Period
from portfolio.models import Service
from tests.budgets.scenario import build_year
from tests.factories.budgets import BudgetVersionFactory
from tests.factories.finance import ReportDefinitionFactory

pytestmark = pytest.mark.django_db


FIGURE_CELL = r"data-(budget|actual|forecast|variance)>(.*?)</t[dh]>"


def shown(value: Decimal) -> str:
    return ("+" if value > 0 else "") + format_amount(value)


def cells(html: str, service_id: int) -> dict[str, str]:
    """The data-* cells of a service's row in the page's budget table."""
    row = re.search(rf'<tr data-service-id="{service_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row for service {service_id}"
    return {
        name: re.sub(r"<[^>]+>", " ", value).split()[0]
        for name, value in re.findall(
            r"data-(budget|actual|forecast|variance)>(.*?)</t[dh]>", row.group(1), re.S
        )
    }


def test_the_budget_view_shows_the_selectors_figures(client, finance_user):
    year = build_year()
    client.force_login(finance_user)
    url = reverse("finance:overview")
    html = client.get(url, {"period": "2026-04", "view": "budget", "fiscal_year": "2026"})
    html = html.content.decode()
    figures = {
        row.service_id: row
        for row in selectors.year_figures(selectors.budget_vs_actual(2026, version=year.version))
        if row.category == selectors.TOTAL
    }
    claims = figures[year.claims.pk]
    # The hand-computed year: 10,225.01 budgeted, 13,845.01 forecast, +3,620.00 flagged.
    assert claims.budget == Decimal("10225.01") and claims.forecast == Decimal("13845.01")
    assert claims.flagged
    for service_id, row in figures.items():
        assert cells(html, service_id) == {
            "budget": format_amount(row.budget),
            "actual": format_amount(row.actual),
            "forecast": format_amount(row.forecast),
            "variance": shown(row.variance),
        }
    assert "beyond the thresholds" in html
    # The chart: one group per month, budget bars for every month, actual for those with a
    # period (January to April).
    assert html.count('class="chart-budget"/>') == 12
    assert html.count('class="chart-actual"/>') == 4
    months = selectors.month_totals(selectors.budget_vs_actual(2026, version=year.version))
    january = months[min(months)]
    assert f"budget {format_amount(january['budget'])}, actual" in html
    # Linked to the variance list.
    assert "view=variances" in html


def test_the_variance_list_shows_the_flagged_months(client, finance_user):
    year = build_year()
    client.force_login(finance_user)
    html = client.get(
        reverse("finance:overview"),
        {"period": "2026-04", "view": "variances", "fiscal_year": "2026"},
    ).content.decode()
    flagged = selectors.flagged_variances(2026, version=year.version)
    assert flagged, "the hand-computed year has months beyond the thresholds"
    rows = re.findall(r'<tr data-service-id="(\d+)" data-month="([\d-]+)">(.*?)</tr>', html, re.S)
    assert [(int(pk), month) for pk, month, _ in rows] == [
        (row.service_id, row.month) for row in flagged
    ]
    for (_, _, body), row in zip(rows, flagged, strict=True):
        assert f"data-variance>{shown(row.variance)}<" in body
        assert f"data-budget>{format_amount(row.budget)}<" in body


def test_a_year_without_a_budget_says_so(client, finance_user):
    build_year()
    client.force_login(finance_user)
    html = client.get(
        reverse("finance:overview"), {"period": "2026-04", "view": "budget", "fiscal_year": "2027"}
    ).content.decode()
    assert "Fiscal 2027 has no budget version yet" in html


def test_the_service_panel_shows_the_services_year(client, viewer):
    year = build_year()
    client.force_login(viewer)
    html = client.get(year.claims.get_absolute_url(), {"budget_year": "2026"}).content.decode()
    rows = selectors.year_figures(
        selectors.budget_vs_actual(2026, version=year.version, service=year.claims)
    )
    total = next(row for row in rows if row.category == selectors.TOTAL)
    panel = html[html.index('<div id="budget">') :]
    assert f"data-budget>{format_amount(total.budget)}<" in panel
    assert f"data-actual>{format_amount(total.actual)}<" in panel
    assert f"data-forecast>{format_amount(total.forecast)}<" in panel
    assert f"data-variance>{shown(total.variance)} " in panel
    for row in rows:
        if row.category != selectors.TOTAL:
            assert f'data-category="{row.category}"' in panel


def test_the_report_pack_has_a_variance_sheet(db):
    year = build_year()
    definition = ReportDefinitionFactory(name="Pack", formats=["xlsx"])
    april = Period.objects.get(year=2026, month=4)
    data = reports.gather(
        definition=definition,
        span=finance_services.parse_report_period("2026-04"),
        periods=[april],
    )
    workbook = load_workbook(io.BytesIO(reports.render_xlsx(data)))
    sheet = workbook["Budget variance"]
    rows = {
        row[0]: row[1:6]
        for row in sheet.iter_rows(min_row=reports.HEADER_ROW + 1, values_only=True)
        if row[0]
    }
    figures = [
        row
        for row in selectors.year_figures(selectors.budget_vs_actual(2026, version=year.version))
        if row.category == selectors.TOTAL
    ]
    assert {row.service for row in figures} == set(rows) == {"Claims", "Hosting"}
    for row in figures:
        budget, actual, forecast, variance, flag = rows[row.service]
        assert [Decimal(str(v)) for v in (budget, actual, forecast, variance)] == [
            row.budget,
            row.actual,
            row.forecast,
            row.variance,
        ]
        assert (flag == "beyond the thresholds") == row.flagged


def test_the_variance_sheet_neutralises_formulas(db):
    year = build_year()
    Service.objects.filter(pk=year.claims.pk).update(name="=1+1")
    definition = ReportDefinitionFactory(name="Pack", formats=["xlsx"])
    data = reports.gather(
        definition=definition,
        span=finance_services.parse_report_period("2026-04"),
        periods=[Period.objects.get(year=2026, month=4)],
    )
    sheet = load_workbook(io.BytesIO(reports.render_xlsx(data)))["Budget variance"]
    names = [row[0] for row in sheet.iter_rows(min_row=reports.HEADER_ROW + 1, values_only=True)]
    assert "'=1+1" in names and "=1+1" not in names


def test_the_versions_export_neutralises_formulas(client, viewer):
    BudgetVersionFactory(name="=1+1")
    client.force_login(viewer)
    url = reverse("budgets:budgetversion_list")

    answer = client.get(url, {"export": "csv"})

    assert answer.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(answer.content.decode())) for cell in row]
    assert "'=1+1" in cells and "=1+1" not in cells
    xlsx = client.get(url, {"export": "xlsx"})
    assert xlsx.status_code == 200
    values = [cell for row in load_workbook(io.BytesIO(xlsx.content)).active.values for cell in row]
    assert "'=1+1" in values and "=1+1" not in values
