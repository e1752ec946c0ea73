"""The files of a scheduled finance report and the e-mail that carries them.

``gather`` reads one report's figures (finance.selectors) for the closed months of its
period; ``render`` turns them into an XLSX workbook (openpyxl), a CSV table or a PDF summary
(WeasyPrint, from a Django template); ``email`` sends them in one message. Business rules
(which period, when to send) live in finance.services.run_report.
"""

import datetime
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from budgets import selectors as budget_selectors
from core.exports import XLSX_TYPE
from core.exports import csv_text
from core.exports import workbook_bytes
from core.money import format_amount
from core.money import to_cents
from core.translations import name_of
from core.translations import person_name
from core.translations import translated
from finance import selectors
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import ReportFormat
from finance.filtersets import FundServicesFilterSet
from finance.models import TcoResult

# Lineage is traced on demand from today's data, service by service: bounded.
LINEAGE_SERVICES = 20
LINEAGE_ROWS = 15
# How many services the PDF's chart and table show.
TOP_SERVICES = 12

MONEY_FORMAT = "#,##0.00"
RATIO_FORMAT = "0.00%"

CONTENT_TYPES = {
    ReportFormat.XLSX.value: XLSX_TYPE,
    ReportFormat.CSV.value: "text/csv; charset=utf-8",
    ReportFormat.PDF.value: "application/pdf",
}

# The chart's colours: the Fund services page's (static/portico/portico.css).
CATEGORY_COLOURS = {
    "development": "#1e88e5",
    "infrastructure": "#00897b",
    "maintenance": "#fb8c00",
    "vendor": "#8e24aa",
    "support": "#6d4c41",
}


@dataclass
class ReportData:
    definition: object
    span: object
    periods: list
    currency: str
    scope: list[tuple[str, str]]
    rows: list[dict]
    totals: dict
    reconciliation: list[dict]
    unallocated: list[dict]
    mismatches: list[dict]
    lineage: list[dict] = field(default_factory=list)
    lineage_note: str = ""
    # Budget against actual of the fiscal year of the report's last month (budgets.selectors)
    budget_year: int | None = None
    budget_version: object = None
    budget_rows: list = field(default_factory=list)
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def title(self) -> str:
        return f"{self.definition.name} · {self.span.label}"


@dataclass
class RenderedFile:
    format: str
    filename: str
    content_type: str
    content: bytes


def describe_scope(scope: dict) -> list[tuple[str, str]]:
    """The scope's filters as (label, value), with the Fund services page's labels."""
    fields = FundServicesFilterSet(queryset=TcoResult.objects.none()).form.fields
    described = []
    for name, value in sorted(scope.items()):
        field = fields.get(name)
        if field is None:
            described.append((name, value))
            continue
        if not hasattr(field, "queryset") and hasattr(field, "choices"):
            value = str(dict(field.choices).get(value, value))  # a choice by its label
        described.append((str(field.label), value))
    return described


def gather(*, definition, span, periods) -> ReportData:
    """Everything the files show, read once."""
    rows = selectors.report_services(periods=periods, scope=definition.scope)
    by_service, mismatches = selectors.report_mismatches(
        service_ids=[row["service"].pk for row in rows]
    )
    for row in rows:
        row["mismatches"] = by_service.get(row["service"].pk, [])
        row["mismatch_text"] = "; ".join(
            f"{name_of(r.customer)} ({r.mismatch.label.lower()}, {r.mismatch.gap} levels apart)"
            for r in row["mismatches"]
        )
    data = ReportData(
        definition=definition,
        span=span,
        periods=periods,
        currency=settings.PORTICO_CURRENCY,
        scope=describe_scope(definition.scope),
        rows=rows,
        totals=selectors.report_totals(periods=periods),
        reconciliation=selectors.reconciliation_by_category(periods=periods),
        unallocated=selectors.report_unallocated(periods=periods),
        mismatches=mismatches,
    )
    if ReportFormat.XLSX in definition.formats:
        data.lineage, data.lineage_note = _lineage_rows(rows, periods)
        _budget_rows(data)
    return data


def _budget_rows(data: ReportData) -> None:
    """The variance sheet's figures: per service in the report's scope, the fiscal year's
    budget, actual, forecast and variance (the year of the report's last month, against its
    default version), as budgets.selectors gives them to the Fund services page."""
    if not data.periods:
        return
    fiscal_year = max(data.periods, key=lambda period: period.serial).fiscal_year
    data.budget_year = fiscal_year
    data.budget_version = budget_selectors.default_version(fiscal_year)
    if data.budget_version is None:
        return
    in_scope = {row["service"].pk for row in data.rows}
    data.budget_rows = [
        figures
        for figures in budget_selectors.year_figures(
            budget_selectors.budget_vs_actual(fiscal_year, version=data.budget_version)
        )
        if figures.category == budget_selectors.TOTAL and figures.service_id in in_scope
    ]


def _lineage_rows(rows: list[dict], periods: list) -> tuple[list[dict], str]:
    traced = [row for row in rows if row["tco"]][:LINEAGE_SERVICES]
    lines = []
    for period in periods:
        loaded = selectors.load_inputs(period=period)
        for row in traced:
            found = selectors.lineage(
                service=row["service"], period=period, limit=LINEAGE_ROWS, loaded=loaded
            )
            stored = found["stored"].tco if found["stored"] else None
            base = {"service": translated(row["service"], "name"), "month": period.label}
            lines.append(
                {
                    **base,
                    "row": "Traced total",
                    "source": "Traced now from today's data",
                    "via": (
                        f"frozen figure {format_amount(stored)}: differs"
                        if found["differs"]
                        else "as frozen"
                    ),
                    "amount": stored,
                    "contribution": found["traced"],
                }
            )
            for line in found["lines"]:
                lines.append(
                    {
                        **base,
                        "row": "Cost item" if line.kind == "item" else "Contract value",
                        "source": line.label,
                        "via": line.node_label,
                        "category": CostCategory(line.category).label,
                        "expenditure": Expenditure(line.expenditure).label,
                        "amount": line.original,
                        "currency": line.currency,
                        "contribution": to_cents(line.contribution),
                    }
                )
            for edge in found["edges"]:
                lines.append(
                    {
                        **base,
                        "row": "Edge",
                        "source": edge.source_label,
                        "via": edge.target_label,
                        "weight": edge.weight,
                        "amount": to_cents(edge.flow),
                        "contribution": to_cents(edge.contribution),
                    }
                )
    note = (
        f"The {len(traced)} services with the highest TCO in scope (at most "
        f"{LINEAGE_SERVICES}), month by month, with at most {LINEAGE_ROWS} source lines and "
        f"{LINEAGE_ROWS} edges each, largest first. Traced now from today's data: a closed "
        "month's frozen figure can differ, and the row says so."
    )
    return lines, note


def filename(data: ReportData, fmt: str) -> str:
    return f"{slugify(data.definition.name) or 'report'}-{data.span.key.lower()}.{fmt}"


def render(data: ReportData, fmt: str) -> RenderedFile:
    renderer = {
        ReportFormat.XLSX.value: render_xlsx,
        ReportFormat.CSV.value: render_csv,
        ReportFormat.PDF.value: render_pdf,
    }[fmt]
    return RenderedFile(fmt, filename(data, fmt), CONTENT_TYPES[fmt], renderer(data))


# --- The per-service table: the XLSX's first sheet and the CSV -------------------------------

# (header, key, kind): kind "text", "money" (2 places), "ratio" or "number".
TCO_COLUMNS = (
    ("Service", lambda r: translated(r["service"], "name"), "text"),
    ("Slug", lambda r: r["service"].slug, "text"),
    ("Owner", lambda r: person_name(r["service"].owner), "text"),
    ("Kind", lambda r: r["service"].get_kind_display(), "text"),
    *(
        (label, lambda r, c=category: r[f"tco_{c}"], "money")
        for category, label in selectors.tco_categories()
    ),
    ("Opex", lambda r: r["tco_opex"], "money"),
    ("Capex", lambda r: r["tco_capex"], "money"),
    ("Direct", lambda r: r["direct"], "money"),
    ("Received", lambda r: r["received"], "money"),
    ("Passed on", lambda r: r["passed_on"], "money"),
    ("TCO", lambda r: r["tco"], "money"),
    ("Kept", lambda r: r["kept"], "money"),
    ("Revenue", lambda r: r["revenue"], "money"),
    ("Margin", lambda r: r["margin"], "money"),
    ("Recovery ratio", lambda r: r["recovery_ratio"], "ratio"),
    ("Unit cost", lambda r: r["unit_cost"], "money"),
    ("Unit", lambda r: r["unit_name"], "text"),
    ("Maturity mismatch", lambda r: r["mismatch_text"], "text"),
)


def render_csv(data: ReportData) -> bytes:
    """The per-service TCO table, UTF-8, a header row, plain decimals (a dot, no grouping)."""
    rows = [[header for header, _, _ in TCO_COLUMNS]]
    for row in data.rows:
        cells = []
        for _, value_of, kind in TCO_COLUMNS:
            value = value_of(row)
            if kind == "money" and value is not None:
                value = format_amount(value, grouping=False)
            cells.append(value)
        rows.append(cells)
    return csv_text(rows).encode("utf-8")


# --- XLSX ------------------------------------------------------------------------------------

BOLD = Font(bold=True)


def header_row(sheet, row: int, headers: list[str]) -> None:
    """A sheet's bold, wrapped header ``row`` (finance.statement_reports uses it too); the
    first a sheet has is where its autofilter starts (core.exports)."""
    if not sheet.auto_filter.ref:
        sheet.auto_filter.ref = f"A{row}:A{row}"
    for column, text in enumerate(headers, start=1):
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def put_cell(sheet, row: int, column: int, value, kind: str = "text"):
    """A cell by its ``kind`` (text, number, money, ratio), money rounded as the pages show it."""
    if kind == "money" and value is not None:
        # The cents the pages show (half to even): a spreadsheet would round the raw figure
        # half away from zero, and 0.125 would read 0.13 here but 0.12 on the page.
        value = to_cents(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if kind == "money" and value is not None:
        cell.number_format = MONEY_FORMAT
    elif kind == "ratio" and value is not None:
        cell.number_format = RATIO_FORMAT
    return cell


def set_widths(sheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def render_xlsx(data: ReportData) -> bytes:
    workbook = Workbook()
    workbook.properties.title = data.title
    workbook.properties.creator = "Portico"
    _tco_sheet(workbook.active, data)
    _reconciliation_sheet(workbook.create_sheet("Reconciliation"), data)
    _lineage_sheet(workbook.create_sheet("Lineage"), data)
    _mismatch_sheet(workbook.create_sheet("Maturity mismatches"), data)
    _variance_sheet(workbook.create_sheet("Budget variance"), data)
    return workbook_bytes(workbook)


VARIANCE_HEADERS = ["Service", "Budget", "Actual to date", "Forecast", "Variance", "Flagged"]


def _variance_sheet(sheet, data: ReportData) -> None:
    """Budget against actual of the fiscal year, per service in scope: the Fund services
    page's budget view as a sheet."""
    _title(sheet, data, f"Budget variance, fiscal {data.budget_year or ''}".rstrip(", "))
    version = data.budget_version
    if version is None:
        sheet.cell(row=3, column=1, value="The fiscal year has no budget version.")
        return
    sheet.cell(
        row=3,
        column=1,
        value=(
            f"Against {version.name} ({version.get_status_display().lower()}): forecast = "
            "actuals of the closed months + budget of the others; variance = forecast − budget."
        ),
    )
    header_row(sheet, HEADER_ROW, VARIANCE_HEADERS)
    for number, figures in enumerate(data.budget_rows, start=HEADER_ROW + 1):
        put_cell(sheet, number, 1, figures.service)
        for column, value in enumerate(
            (figures.budget, figures.actual, figures.forecast, figures.variance), start=2
        ):
            put_cell(sheet, number, column, value, "money")
        put_cell(sheet, number, 6, "beyond the thresholds" if figures.flagged else "")
    if not data.budget_rows:
        sheet.cell(row=HEADER_ROW + 1, column=1, value="No service in scope has a budget.")
    set_widths(sheet, [30, 16, 16, 16, 16, 22])


def _title(sheet, data: ReportData, what: str) -> None:
    sheet.cell(row=1, column=1, value=f"{what} · {data.span.label}").font = Font(bold=True, size=13)
    scope = "; ".join(f"{label}: {value}" for label, value in data.scope) or "every service"
    sheet.cell(
        row=2,
        column=1,
        value=f"{data.definition.name} · amounts in {data.currency} · scope: {scope}",
    )


HEADER_ROW = 4  # below the title, the subtitle and a note
# The columns that add up across services. TCO (and its categories, opex, capex, received and
# passed on) is fully loaded: a supporting service's cost is in its own TCO and again in its
# consumers', so a sum of it counts cost twice and matches nothing in the ledger.
TOTALLED = ("Direct", "Kept", "Revenue", "Margin")
TOTAL_NOTE = (
    "TCO is fully loaded: a service that others depend on passes its TCO on to them, so only "
    f"{', '.join(TOTALLED[:-1]).lower()} and {TOTALLED[-1].lower()} add up and have a total."
)


def _tco_sheet(sheet, data: ReportData) -> None:
    sheet.title = "TCO by service"
    _title(sheet, data, "TCO by service")
    header_row(sheet, HEADER_ROW, [header for header, _, _ in TCO_COLUMNS])
    row_number = HEADER_ROW
    for row_number, row in enumerate(data.rows, start=HEADER_ROW + 1):
        for column, (_, value_of, kind) in enumerate(TCO_COLUMNS, start=1):
            put_cell(sheet, row_number, column, value_of(row), kind)
    if data.rows:
        sheet.cell(row=3, column=1, value=TOTAL_NOTE)
        total_row = row_number + 1
        sheet.cell(row=total_row, column=1, value="Total").font = BOLD
        for column, (header, value_of, _kind) in enumerate(TCO_COLUMNS, start=1):
            if header in TOTALLED:
                total = sum((value_of(row) for row in data.rows), Decimal(0))
                put_cell(sheet, total_row, column, total, "money").font = BOLD
    else:
        sheet.cell(row=HEADER_ROW + 1, column=1, value="No service is in the report's scope.")
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    set_widths(sheet, [30, 22, 14, 16, *([14] * 16), 10, 60])


def _reconciliation_sheet(sheet, data: ReportData) -> None:
    _title(sheet, data, "Reconciliation")
    sheet.cell(
        row=3,
        column=1,
        value=(
            "Input (the cost the roll-up read from the ledger) = kept + unallocated, to the "
            "cent, for the whole organisation whatever the report's scope. By category, input "
            "is what was kept and left unallocated of that category."
        ),
    )
    header_row(sheet, 5, ["Category", "Input", "Kept", "Unallocated", "Input − kept − unallocated"])
    row = 5
    for row, line in enumerate(data.reconciliation, start=6):
        put_cell(sheet, row, 1, line["label"])
        put_cell(sheet, row, 2, line["input"], "money")
        put_cell(sheet, row, 3, line["kept"], "money")
        put_cell(sheet, row, 4, line["unallocated"], "money")
        put_cell(sheet, row, 5, line["input"] - line["kept"] - line["unallocated"], "money")
    totals = data.totals
    row += 1
    sheet.cell(row=row, column=1, value="Total").font = BOLD
    for column, value in enumerate(
        (
            totals["input"],
            totals["kept"],
            totals["unallocated"],
            totals["input"] - totals["kept"] - totals["unallocated"],
        ),
        start=2,
    ):
        put_cell(sheet, row, column, value, "money").font = BOLD

    row += 2
    sheet.cell(row=row, column=1, value="By month").font = Font(bold=True, size=12)
    row += 1
    header_row(
        sheet, row, ["Month", "Version", "Input", "Kept", "Unallocated", "Revenue", "Margin"]
    )
    for month in totals["months"]:
        row += 1
        put_cell(sheet, row, 1, month["period"].label)
        put_cell(sheet, row, 2, month["version"], "number")
        for column, name in enumerate(
            ("input", "kept", "unallocated", "revenue", "margin"), start=3
        ):
            put_cell(sheet, row, column, month[name], "money")

    row += 2
    sheet.cell(row=row, column=1, value="Unallocated, by reason").font = Font(bold=True, size=12)
    row += 1
    header_row(
        sheet,
        row,
        ["Source", "Recorded against", "Reason", "Detail", f"Amount ({data.currency})",
         "Amount without a rate", "Currency", "Months"],
    )  # fmt: skip
    if not data.unallocated:
        row += 1
        sheet.cell(row=row, column=1, value="Every cent reached a service.")
    for entry in data.unallocated:
        row += 1
        put_cell(sheet, row, 1, entry["source_label"])
        put_cell(sheet, row, 2, entry["source_kind"])
        put_cell(sheet, row, 3, entry["reason"])
        put_cell(sheet, row, 4, entry["detail"])
        put_cell(sheet, row, 5, entry["amount"], "money")
        put_cell(sheet, row, 6, entry["original_amount"], "money")
        put_cell(sheet, row, 7, entry["original_currency"])
        put_cell(sheet, row, 8, ", ".join(entry["months"]))
    set_widths(sheet, [30, 16, 22, 50, 16, 16, 10, 30])


def _lineage_sheet(sheet, data: ReportData) -> None:
    _title(sheet, data, "Lineage")
    sheet.cell(row=3, column=1, value=data.lineage_note)
    headers = ["Service", "Month", "Row", "Source", "Recorded against / to", "Category",
               "Opex or capex", "Amount", "Currency", "Weight", "Reaching the service"]  # fmt: skip
    header_row(sheet, 5, headers)
    kinds = ("text", "text", "text", "text", "text", "text", "text", "money", "text", "number",
             "money")  # fmt: skip
    keys = ("service", "month", "row", "source", "via", "category", "expenditure", "amount",
            "currency", "weight", "contribution")  # fmt: skip
    for row, line in enumerate(data.lineage, start=6):
        for column, (key, kind) in enumerate(zip(keys, kinds, strict=True), start=1):
            put_cell(sheet, row, column, line.get(key), kind)
    if not data.lineage:
        sheet.cell(row=6, column=1, value="No service in scope has any cost.")
    sheet.freeze_panes = "A6"
    set_widths(sheet, [26, 9, 14, 40, 30, 14, 10, 14, 9, 9, 16])


def _mismatch_sheet(sheet, data: ReportData) -> None:
    _title(sheet, data, "Maturity mismatches")
    sheet.cell(
        row=3,
        column=1,
        value=(
            "Customers of services in scope whose provider is two or more maturity levels "
            "away, as of today, with what that means."
        ),
    )
    headers = ["Customer", "Customer level", "Provider", "Provider level", "Mismatch",
               "Levels apart", "Services in scope", "Explanation"]  # fmt: skip
    header_row(sheet, 5, headers)
    if not data.mismatches:
        sheet.cell(row=6, column=1, value="No customer of these services has a mismatch.")
    for row, entry in enumerate(data.mismatches, start=6):
        relationship = entry["relationship"]
        provider = str(relationship.provider or "")
        if relationship.provider_is_fallback:
            provider += " (the organisation's level: the unit is not assessed yet)"
        values = (
            (name_of(relationship.customer), "text"),
            (relationship.level, "number"),
            (provider, "text"),
            (relationship.provider_level, "number"),
            (relationship.mismatch.label, "text"),
            (relationship.mismatch.gap, "number"),
            (", ".join(entry["services"]), "text"),
            (relationship.mismatch.explanation, "text"),
        )
        for column, (value, kind) in enumerate(values, start=1):
            cell = put_cell(sheet, row, column, value, kind)
            if column == 8:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    set_widths(sheet, [26, 10, 26, 10, 30, 8, 30, 90])


# --- PDF -------------------------------------------------------------------------------------

CHART_WIDTH = 680
CHART_LABEL = 170
CHART_BAR = 16
CHART_GAP = 6


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def chart(rows: list[dict]) -> dict:
    """A horizontal bar per service (its TCO, in category segments), laid out for SVG."""
    shown = [row for row in rows if row["tco"] > 0][:TOP_SERVICES]
    widest = max((row["tco"] for row in shown), default=Decimal(0)) or Decimal(1)
    room = CHART_WIDTH - CHART_LABEL - 90
    bars = []
    for index, row in enumerate(shown):
        y = index * (CHART_BAR + CHART_GAP)
        x = Decimal(CHART_LABEL)
        segments = []
        for category, label in selectors.tco_categories():
            amount = row[f"tco_{category}"]
            if amount <= 0:
                continue
            width = amount / widest * room
            segments.append(
                {
                    "x": f"{x:.2f}",
                    "width": f"{width:.2f}",
                    "colour": CATEGORY_COLOURS[category],
                    "title": f"{label} {format_amount(amount)}",
                }
            )
            x += width
        bars.append(
            {
                "label": _shorten(translated(row["service"], "name"), 28),
                "y": y,
                "text_y": y + CHART_BAR - 4,
                "segments": segments,
                "total_x": f"{x + 4:.2f}",
                "total": format_amount(row["tco"]),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": max(len(bars) * (CHART_BAR + CHART_GAP), CHART_BAR),
        "label_x": CHART_LABEL - 6,
        "bar": CHART_BAR,
        "bars": bars,
        "legend": [
            (label, CATEGORY_COLOURS[category]) for category, label in selectors.tco_categories()
        ],
    }


def render_pdf(data: ReportData) -> bytes:
    # WeasyPrint loads Pango and its fonts: only a PDF report pays for that.
    from weasyprint import HTML

    html = render_to_string(
        "finance/report_pdf.html",
        {
            "data": data,
            "chart": chart(data.rows),
            "top_rows": data.rows[:TOP_SERVICES],
            "multi_month": len(data.periods) > 1,
            "reporting_currency": data.currency,
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


# --- E-mail ----------------------------------------------------------------------------------


def email(data: ReportData, files: list[RenderedFile], *, recipients: list[str]) -> None:
    """One message to every recipient with every file attached, over the configured SMTP
    server (EMAIL_* settings)."""
    body = render_to_string("finance/report_email.txt", {"data": data, "files": files})
    message = EmailMessage(
        subject=data.title,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(recipients),
    )
    for item in files:
        message.attach(item.filename, item.content, item.content_type.split(";")[0])
    message.send(fail_silently=False)
