"""The files of customer statements: one statement or a set of them as an XLSX workbook, a
CSV table of their lines or a PDF, with the finance reports' look (finance.reports: the same
cell rules, number formats and PDF stylesheet), and the e-mail that carries them.

Every amount is the stored one (finance.CustomerStatement and its lines), shown rounded once
to the cent: the files reconcile with each other, with the pages and with the API.
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
from openpyxl.styles import Font

from core.exports import csv_text
from core.exports import workbook_bytes
from core.money import format_amount
from core.translations import person_name
from core.translations import translated
from finance.choices import ReportFormat
from finance.reports import BOLD
from finance.reports import CONTENT_TYPES
from finance.reports import RenderedFile
from finance.reports import header_row
from finance.reports import put_cell
from finance.reports import set_widths
from finance.selectors import statements as statement_selectors

HEADER_ROW = 4  # below the title, the subtitle and a note


@dataclass
class StatementPack:
    """Statements to render together: their title (what and which period), the line below it
    (the report or the filters), a key for file names and the PDF footer."""

    title: str
    subtitle: str
    key: str
    statements: list
    currency: str = field(default_factory=lambda: settings.PORTICO_CURRENCY)
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    def __post_init__(self):
        for statement in self.statements:
            statement.prepared_lines = statement_selectors.prepare_lines(statement)
        self.totals = statement_selectors.totals_of(self.statements)

    @property
    def line_count(self) -> int:
        return sum(len(statement.prepared_lines) for statement in self.statements)


def pack_for(statements, *, title: str, subtitle: str, key: str) -> StatementPack:
    return StatementPack(title=title, subtitle=subtitle, key=key, statements=list(statements))


def filename(pack: StatementPack, fmt: str) -> str:
    return f"{slugify(pack.key) or 'statements'}.{fmt}"


def render(pack: StatementPack, fmt: str) -> RenderedFile:
    renderer = {
        ReportFormat.XLSX.value: render_xlsx,
        ReportFormat.CSV.value: render_csv,
        ReportFormat.PDF.value: render_pdf,
    }[fmt]
    return RenderedFile(fmt, filename(pack, fmt), CONTENT_TYPES[fmt], renderer(pack))


# (header, value of a statement, kind), the summary sheet's columns.
STATEMENT_COLUMNS = (
    ("Customer", lambda s: translated(s.customer, "name"), "text"),
    ("Relationship manager", lambda s: person_name(s.customer.relationship_manager), "text"),
    ("Period", lambda s: s.period.label, "text"),
    ("Version", lambda s: s.version, "number"),
    ("Revenue", lambda s: s.revenue, "money"),
    ("Cost to serve", lambda s: s.cost_to_serve, "money"),
    ("Margin", lambda s: s.margin, "money"),
    ("Recovery ratio", lambda s: s.recovery_ratio, "ratio"),
)
# (header, value of (statement, line), kind), the lines sheet's and the CSV's columns.
LINE_COLUMNS = (
    ("Customer", lambda s, line: translated(s.customer, "name"), "text"),
    ("Period", lambda s, line: s.period.label, "text"),
    ("Version", lambda s, line: s.version, "number"),
    ("Service", lambda s, line: translated(line.service, "name"), "text"),
    ("Subscription", lambda s, line: line.subscription_id, "number"),
    ("Units", lambda s, line: line.units, "number"),
    ("Unit", lambda s, line: line.unit_name, "text"),
    ("Charge (revenue)", lambda s, line: line.revenue, "money"),
    ("Cost to serve", lambda s, line: line.cost_to_serve, "money"),
    ("Margin", lambda s, line: line.margin, "money"),
    ("Lineage", lambda s, line: line.lineage_url, "text"),
)
TOTALLED = ("Revenue", "Charge (revenue)", "Cost to serve", "Margin")
NOTE = (
    "Cost to serve is each subscription's share of its service's kept cost (by units when its "
    "subscriptions share one unit, else by charge). Kept cost charged to no customer is not in "
    "any statement. Lineage: the page of Portico that traces the service's cost in the period."
)


def _title(sheet, pack: StatementPack, what: str) -> None:
    sheet.cell(row=1, column=1, value=f"{what} · {pack.title}").font = Font(bold=True, size=13)
    sheet.cell(row=2, column=1, value=f"{pack.subtitle} · amounts in {pack.currency}")
    sheet.cell(row=3, column=1, value=NOTE)


def _total_row(sheet, row: int, columns, values: dict) -> None:
    sheet.cell(row=row, column=1, value="Total").font = BOLD
    for column, (header, _, _) in enumerate(columns, start=1):
        if header in values:
            put_cell(sheet, row, column, values[header], "money").font = BOLD


def render_xlsx(pack: StatementPack) -> bytes:
    workbook = Workbook()
    workbook.properties.title = f"Customer statements · {pack.title}"
    workbook.properties.creator = "Portico"
    summary = workbook.active
    summary.title = "Statements"
    _title(summary, pack, "Customer statements")
    header_row(summary, HEADER_ROW, [header for header, _, _ in STATEMENT_COLUMNS])
    row = HEADER_ROW
    for row, statement in enumerate(pack.statements, start=HEADER_ROW + 1):
        for column, (_, value_of, kind) in enumerate(STATEMENT_COLUMNS, start=1):
            put_cell(summary, row, column, value_of(statement), kind)
    totals = pack.totals
    if pack.statements:
        _total_row(
            summary,
            row + 1,
            STATEMENT_COLUMNS,
            {
                "Revenue": totals.revenue,
                "Cost to serve": totals.cost_to_serve,
                "Margin": totals.margin,
            },
        )
        put_cell(
            summary, row + 1, len(STATEMENT_COLUMNS), totals.recovery_ratio, "ratio"
        ).font = BOLD
    else:
        summary.cell(row=HEADER_ROW + 1, column=1, value="No statement.")
    summary.freeze_panes = summary.cell(row=HEADER_ROW + 1, column=2)
    set_widths(summary, [30, 22, 10, 8, 14, 14, 14, 12])

    lines = workbook.create_sheet("Lines")
    _title(lines, pack, "Statement lines")
    header_row(lines, HEADER_ROW, [header for header, _, _ in LINE_COLUMNS])
    row = HEADER_ROW
    for statement in pack.statements:
        for line in statement.prepared_lines:
            row += 1
            for column, (_, value_of, kind) in enumerate(LINE_COLUMNS, start=1):
                put_cell(lines, row, column, value_of(statement, line), kind)
    if row > HEADER_ROW:
        _total_row(
            lines,
            row + 1,
            LINE_COLUMNS,
            {
                "Charge (revenue)": totals.revenue,
                "Cost to serve": totals.cost_to_serve,
                "Margin": totals.margin,
            },
        )
    else:
        lines.cell(row=HEADER_ROW + 1, column=1, value="No line.")
    lines.freeze_panes = lines.cell(row=HEADER_ROW + 1, column=2)
    set_widths(lines, [30, 10, 8, 30, 12, 12, 14, 16, 14, 14, 50])
    return workbook_bytes(workbook)


def render_csv(pack: StatementPack) -> bytes:
    """The lines, UTF-8, a header row, plain decimals (a dot, no grouping)."""
    rows: list[list] = [[header for header, _, _ in LINE_COLUMNS]]
    for statement in pack.statements:
        for line in statement.prepared_lines:
            cells = []
            for _, value_of, kind in LINE_COLUMNS:
                value = value_of(statement, line)
                if kind == "money":
                    value = format_amount(value, grouping=False)
                elif isinstance(value, Decimal):
                    value = format(value.normalize(), "f")
                cells.append(value)
            rows.append(cells)
    return csv_text(rows).encode("utf-8")


def render_pdf(pack: StatementPack) -> bytes:
    # WeasyPrint loads Pango and its fonts: only a PDF pays for that.
    from weasyprint import HTML

    html = render_to_string(
        "finance/statement_pdf.html", {"pack": pack, "reporting_currency": pack.currency}
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def email(pack: StatementPack, files: list[RenderedFile], *, to: list[str], subject: str) -> None:
    """One message to ``to`` with ``files`` attached, over the configured SMTP server."""
    body = render_to_string("finance/statement_email.txt", {"pack": pack, "files": files})
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=list(to)
    )
    for item in files:
        message.attach(item.filename, item.content, item.content_type.split(";")[0])
    message.send(fail_silently=False)
