"""The files of service review packs: one pack or a set of them as an XLSX workbook, a CSV
table of their items' figures or a PDF, with the finance reports' look (finance.reports: the
same cell rules, number formats and PDF stylesheet), and the e-mail that carries them.

The content is finance.selectors.review_packs' ReviewPack, as the page shows it: the files
reconcile with the page and with the API (subscriptions, items, measurements, statements).
"""

import datetime
from dataclasses import dataclass
from dataclasses import field

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
from core.translations import translated
from finance.choices import ReportFormat
from finance.reports import CONTENT_TYPES
from finance.reports import RenderedFile
from finance.reports import header_row
from finance.reports import person_name
from finance.reports import put_cell
from finance.reports import set_widths

HEADER_ROW = 4


@dataclass
class PackSet:
    """Review packs rendered together: a title, the line below it and a key for file names."""

    title: str
    subtitle: str
    key: str
    packs: list
    currency: str = field(default_factory=lambda: settings.PORTICO_CURRENCY)
    generated_at: datetime.datetime = field(default_factory=timezone.now)


def one(pack) -> PackSet:
    """The set of a single pack, as the customer's page downloads it."""
    return PackSet(
        title=pack.title, subtitle=translated(pack.customer, "name"), key=pack.key, packs=[pack]
    )


def render(packs: PackSet, fmt: str) -> RenderedFile:
    renderer = {
        ReportFormat.XLSX.value: render_xlsx,
        ReportFormat.CSV.value: render_csv,
        ReportFormat.PDF.value: render_pdf,
    }[fmt]
    name = f"{slugify(packs.key) or 'service-review'}.{fmt}"
    return RenderedFile(fmt, name, CONTENT_TYPES[fmt], renderer(packs))


def figures_text(figures) -> str:
    """A quadrant item's or outcome's figures of the period: ``2026-10: 99.7 (met)``."""
    parts = []
    for figure in figures:
        verdict = {True: "met", False: "missed"}.get(figure.met, "not judged")
        parts.append(f"{figure.end:%Y-%m}: {figure.value.normalize():f} ({verdict})")
    return "; ".join(parts)


# (header, value of (pack, service review), kind): the Services sheet.
SERVICE_COLUMNS = (
    ("Customer", lambda p, s: translated(p.customer, "name"), "text"),
    ("Period", lambda p, s: p.span.key, "text"),
    ("Service", lambda p, s: translated(s.service, "name"), "text"),
    ("Service owner", lambda p, s: person_name(s.service.owner), "text"),
    ("Subscriptions", lambda p, s: len(s.subscriptions), "number"),
    ("Charge", lambda p, s: s.charge, "money"),
    ("Cost to serve", lambda p, s: s.cost_to_serve, "money"),
    ("Open improvements", lambda p, s: len(s.improvements), "number"),
)
# (header, value of (pack, service review, quadrant, item review), kind): the Items sheet
# and the CSV.
ITEM_COLUMNS = (
    ("Customer", lambda p, s, q, i: translated(p.customer, "name"), "text"),
    ("Service", lambda p, s, q, i: translated(s.service, "name"), "text"),
    ("Quadrant", lambda p, s, q, i: q.label, "text"),
    ("Item", lambda p, s, q, i: i.item.title, "text"),
    ("Target", lambda p, s, q, i: i.item.target, "number"),
    ("Unit", lambda p, s, q, i: i.item.unit, "text"),
    ("Status", lambda p, s, q, i: i.status or "", "text"),
    ("Met", lambda p, s, q, i: i.met, "number"),
    ("Missed", lambda p, s, q, i: i.missed, "number"),
    ("Figures", lambda p, s, q, i: figures_text(i.figures), "text"),
)
OUTCOME_COLUMNS = (
    ("Customer", lambda p, s, o: translated(p.customer, "name"), "text"),
    ("Service", lambda p, s, o: translated(s.service, "name"), "text"),
    ("Outcome", lambda p, s, o: o.outcome.statement, "text"),
    ("Agreement", lambda p, s, o: o.outcome.get_agreement_display(), "text"),
    ("Status", lambda p, s, o: o.status, "text"),
    ("Figures", lambda p, s, o: figures_text(o.figures), "text"),
)
IMPROVEMENT_COLUMNS = (
    ("Customer", lambda p, s, m: translated(p.customer, "name"), "text"),
    ("Service", lambda p, s, m: translated(s.service, "name"), "text"),
    ("Improvement", lambda p, s, m: m.title, "text"),
    ("Status", lambda p, s, m: m.get_status_display(), "text"),
    ("Concerns", lambda p, s, m: str(m.item or m.outcome or m.value_stream or ""), "text"),
)


def _sheet(workbook, title: str, packs: PackSet, columns, rows, widths) -> None:
    sheet = workbook.create_sheet(title)
    sheet.cell(row=1, column=1, value=f"{title} · {packs.title}").font = Font(bold=True, size=13)
    sheet.cell(row=2, column=1, value=f"{packs.subtitle} · amounts in {packs.currency}")
    header_row(sheet, HEADER_ROW, [header for header, _, _ in columns])
    row = HEADER_ROW
    for row, values in enumerate(rows, start=HEADER_ROW + 1):
        for column, (_, value_of, kind) in enumerate(columns, start=1):
            put_cell(sheet, row, column, value_of(*values), kind)
    if row == HEADER_ROW:
        sheet.cell(row=HEADER_ROW + 1, column=1, value="None.")
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    set_widths(sheet, widths)


def item_rows(packs: PackSet):
    for pack in packs.packs:
        for service in pack.services:
            for quadrant in service.quadrants:
                for item in quadrant.items:
                    yield pack, service, quadrant, item


def render_xlsx(packs: PackSet) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = packs.title
    workbook.properties.creator = "Portico"
    services = [(pack, service) for pack in packs.packs for service in pack.services]
    _sheet(workbook, "Services", packs, SERVICE_COLUMNS, services, [28, 10, 30, 22, 12, 14, 14, 12])
    _sheet(workbook, "Items", packs, ITEM_COLUMNS, item_rows(packs),
           [28, 30, 24, 34, 10, 8, 12, 6, 6, 60])  # fmt: skip
    outcomes = [(p, s, o) for p in packs.packs for s in p.services for o in s.outcomes]
    _sheet(workbook, "Outcomes", packs, OUTCOME_COLUMNS, outcomes, [28, 30, 50, 10, 12, 60])
    improvements = [(p, s, m) for p in packs.packs for s in p.services for m in s.improvements]
    _sheet(workbook, "Improvements", packs, IMPROVEMENT_COLUMNS, improvements,
           [28, 30, 40, 14, 40])  # fmt: skip
    return workbook_bytes(workbook)


def render_csv(packs: PackSet) -> bytes:
    """The items with their figures, UTF-8, a header row, plain decimals."""
    rows: list[list] = [[header for header, _, _ in ITEM_COLUMNS]]
    for values in item_rows(packs):
        cells = []
        for _, value_of, kind in ITEM_COLUMNS:
            value = value_of(*values)
            if kind == "money" and value is not None:
                value = format_amount(value, grouping=False)
            elif kind == "number" and value is not None and not isinstance(value, int):
                value = format(value.normalize(), "f")
            cells.append("" if value is None else value)
        rows.append(cells)
    return csv_text(rows).encode("utf-8")


def render_pdf(packs: PackSet) -> bytes:
    # WeasyPrint loads Pango and its fonts: only a PDF pays for that.
    from weasyprint import HTML

    html = render_to_string(
        "finance/review_pack_pdf.html", {"packs": packs, "reporting_currency": packs.currency}
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def email(packs: PackSet, files: list[RenderedFile], *, to: list[str], subject: str) -> None:
    """One message to ``to`` with ``files`` attached, over the configured SMTP server."""
    body = render_to_string("finance/review_pack_email.txt", {"packs": packs, "files": files})
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=list(to)
    )
    for item in files:
        message.attach(item.filename, item.content, item.content_type.split(";")[0])
    message.send(fail_silently=False)
