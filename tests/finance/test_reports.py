"""Scheduled finance reports: definitions and their beat schedule, the files of a run (opened
again: openpyxl, csv, pdftotext), delivery through a real SMTP server (aiosmtpd), once per
period unless asked, the pages, the command, the demo. The tests share one closed quarter, made
once for the module (a test that needs no closed month belongs in test_report_periods.py;
delivery by concurrent runs and by a real Celery worker is in test_report_delivery.py)."""

import csv
import io
import json
import shutil
import subprocess
import zoneinfo
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from core import roles
from finance import demo
from finance import reports
from finance import selectors
from finance import services
from finance import tasks
from finance.choices import ReportKind
from finance.choices import ReportOutcome
from finance.choices import ReportPeriodSelector
from finance.choices import ReportTrigger
from finance.models import ReportDefinition
from finance.models import ReportFile
from finance.models import ReportRun
from finance.models import TcoResult
from maturity.choices import MismatchDirection
from tests.factories import UserFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.finance.mailbox import free_port
from tests.finance.scenarios import make_quarter

XLSX_SHEETS = [
    "TCO by service",
    "Reconciliation",
    "Lineage",
    "Maturity mismatches",
    "Budget variance",
]
HEADER_ROW = reports.HEADER_ROW


# --- Data: a closed quarter with dependencies, revenue, unallocated cost and a mismatch -------


@pytest.fixture(scope="module")
def quarter_of_the_module(django_db_setup, django_db_blocker):
    """The closed quarter (scenarios.make_quarter), made once for this module's tests in a
    transaction rolled back after them. Claims is the Service owner ``owner``'s (the
    ``service_owner`` fixture)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield make_quarter(UserFactory(username="owner", role=roles.SERVICE_OWNER))
        transaction.set_rollback(True)


@pytest.fixture
def quarter(db, quarter_of_the_module):
    """The module's quarter; the test runs in a savepoint of its own (``db``), so what one
    test changes the next does not see."""
    return quarter_of_the_module


def run(definition, **kwargs):
    run = services.run_report(definition, **kwargs)
    assert run.outcome == ReportOutcome.SUCCEEDED, run.error
    return run


def number(value) -> Decimal:
    """A spreadsheet number back as an exact amount (to the cent)."""
    assert isinstance(value, int | float), f"{value!r} is not a number"
    return Decimal(str(value)).quantize(Decimal("0.01"))


def sheet_rows(sheet, first_row: int):
    return [row for row in sheet.iter_rows(min_row=first_row, values_only=True) if row[0]]


# --- The files and their delivery ------------------------------------------------------------


def test_run_emails_one_message_with_every_file_to_every_recipient(smtp, quarter):
    definition = ReportDefinitionFactory(name="Monthly TCO pack")

    report = run(definition)

    assert report.period_key == "2025-03"  # the last closed month
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert sorted(sent["to"]) == ["cfo@example.org", "controller@example.org"]
    assert sent["message"]["Subject"] == "Monthly TCO pack · 2025-03"
    attachments = smtp.attachments()
    assert attachments.keys() == {
        "monthly-tco-pack-2025-03.xlsx",
        "monthly-tco-pack-2025-03.csv",
        "monthly-tco-pack-2025-03.pdf",
    }
    assert attachments["monthly-tco-pack-2025-03.pdf"][0] == "application/pdf"
    stored = {f.format: bytes(f.content) for f in report.files.all()}
    assert stored["xlsx"] == attachments["monthly-tco-pack-2025-03.xlsx"][1]
    assert report.emailed_to == ["cfo@example.org", "controller@example.org"]
    assert report.email_count == 1 and report.emailed_at is not None


def test_xlsx_has_numeric_cells_and_reconciles_to_the_cent(smtp, quarter):
    march = quarter["months"][2]
    definition = ReportDefinitionFactory(name="Pack", formats=["xlsx"])
    run(definition)
    workbook = load_workbook(io.BytesIO(smtp.attachments()["pack-2025-03.xlsx"][1]))

    assert workbook.sheetnames == XLSX_SHEETS
    tco_sheet = workbook["TCO by service"]
    headers = [cell.value for cell in tco_sheet[HEADER_ROW]]
    assert headers[:4] == ["Service", "Slug", "Owner", "Kind"]
    assert {"Development", "Support", "Opex", "Capex", "TCO", "Kept", "Margin"} <= set(headers)
    rows = {row[0]: dict(zip(headers, row, strict=True)) for row in sheet_rows(tco_sheet, 5)}
    stored = {r.service.name: r for r in TcoResult.objects.filter(period=march)}
    assert set(rows) == {"Claims", "Quotes", "Platform", "Total"}
    for name, result in stored.items():
        assert number(rows[name]["TCO"]) == result.tco
        assert number(rows[name]["Kept"]) == result.kept
        assert number(rows[name]["Passed on"]) == result.passed_on
        assert number(rows[name]["Support"]) == result.tco_support
    # Only what adds up across services is totalled: TCO is fully loaded (Platform's cost is
    # in Claims' and Quotes' TCO too), kept is not.
    assert rows["Total"]["TCO"] is None and rows["Total"]["Passed on"] is None
    assert number(rows["Total"]["Kept"]) == sum(r.kept for r in stored.values())
    tco_column = headers.index("TCO") + 1
    assert tco_sheet.cell(row=HEADER_ROW + 1, column=tco_column).number_format == "#,##0.00"
    assert rows["Claims"]["Owner"] == quarter["claims"].owner.get_full_name()
    assert "Retail" in rows["Claims"]["Maturity mismatch"]
    assert rows["Quotes"]["Maturity mismatch"] is None

    totals = selectors.period_totals(period=march)
    reconciliation = workbook["Reconciliation"]
    lines = {row[0]: row for row in sheet_rows(reconciliation, 6)}
    total = lines["Total"]
    assert (number(total[1]), number(total[2]), number(total[3])) == (
        totals["input"],
        totals["kept"],
        totals["unallocated"],
    )
    # The ledger: March's cost items (302.01 + 99.99 + 25.00), every cent in the report.
    assert number(total[1]) == Decimal("427.00")
    assert number(total[1]) == number(total[2]) + number(total[3])
    assert number(total[4]) == 0
    categories = [lines[label] for label in ("Development", "Infrastructure", "Maintenance",
                                              "Vendor", "Support")]  # fmt: skip
    assert sum(number(line[1]) for line in categories) == totals["input"]
    assert sum(number(line[2]) for line in categories) == totals["kept"]
    assert sum(number(line[3]) for line in categories) == totals["unallocated"]
    for line in categories:
        assert number(line[1]) == number(line[2]) + number(line[3])
    assert number(lines["Support"][2]) == Decimal("99.99")
    reasons = [row for row in reconciliation.iter_rows(values_only=True) if row[0] == "Orphan app"]
    assert reasons and reasons[0][2] == "Allocated to nothing" and number(reasons[0][4]) == 25

    lineage = list(workbook["Lineage"].iter_rows(min_row=6, values_only=True))
    claims_lines = [row for row in lineage if row[0] == "Claims"]
    assert any(row[2] == "Edge" and row[3] == "Platform" for row in claims_lines)
    assert any(row[2] == "Cost item" and row[4] == "Platform" for row in claims_lines)

    mismatches = workbook["Maturity mismatches"]
    mismatch = next(row for row in mismatches.iter_rows(min_row=6, values_only=True))
    assert mismatch[0] == "Retail" and mismatch[1] == 4 and mismatch[3] == 2
    assert mismatch[4] == MismatchDirection.PROVIDER_BEHIND.label
    assert mismatch[6] == "Claims"
    assert "behind its customer" in mismatch[7]  # maturity.services' explanation


def test_reconciliation_shows_a_result_that_lost_a_cent(smtp, quarter):
    """Input is the ledger's, as the roll-up read it, not kept + unallocated by definition:
    a stored result that no longer adds up shows as a difference."""
    march = quarter["months"][2]
    TcoResult.objects.filter(period=march, service=quarter["claims"]).update(
        kept=F("kept") - Decimal("0.01")
    )
    definition = ReportDefinitionFactory(
        period_selector=ReportPeriodSelector.LAST_MONTH, formats=["xlsx"]
    )
    made = run(definition, period="2025-03")
    workbook = load_workbook(io.BytesIO(made.files.get(format="xlsx").content))
    total = {row[0]: row for row in sheet_rows(workbook["Reconciliation"], 6)}["Total"]
    assert number(total[1]) == Decimal("427.00")
    assert number(total[4]) == Decimal("0.01")


def test_csv_is_the_per_service_table(smtp, quarter):
    march = quarter["months"][2]
    definition = ReportDefinitionFactory(name="Table", formats=["csv"])
    run(definition)
    content_type, content = smtp.attachments()["table-2025-03.csv"]

    assert content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    by_tco = TcoResult.objects.filter(period=march).order_by("-tco", "service__name")
    assert [row["Service"] for row in rows] == [r.service.name for r in by_tco]
    assert rows[0]["Service"] == "Platform"  # fully loaded: it carries all its own cost
    for row in rows:
        result = TcoResult.objects.get(period=march, service__name=row["Service"])
        assert Decimal(row["TCO"]) == result.tco
        assert Decimal(row["Revenue"]) == result.revenue


def test_pdf_is_a_readable_summary_with_a_chart(smtp, quarter):
    march = quarter["months"][2]
    definition = ReportDefinitionFactory(name="Summary", formats=["pdf"])
    run(definition)
    content = smtp.attachments()["summary-2025-03.pdf"][1]
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install poppler-utils"

    assert content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    totals = selectors.period_totals(period=march)
    assert "Summary" in text and "2025-03" in text
    assert f"{totals['input']:,.2f}" in text and f"{totals['kept']:,.2f}" in text
    assert "Allocated to nothing" in text
    assert "Provider behind its customer" in text and "Retail" in text
    html = reports.render_to_string(
        "finance/report_pdf.html",
        {
            "data": reports.gather(
                definition=definition,
                span=services.parse_report_period("2025-03"),
                periods=[march],
            ),
            "chart": reports.chart(selectors.report_services(periods=[march], scope={})),
            "top_rows": [],
        },
    )
    assert "<svg" in html and html.count("<rect") >= 3  # the bar chart the PDF draws


def test_rerun_sends_no_second_mail_unless_asked(smtp, quarter):
    definition = ReportDefinitionFactory()
    first = run(definition)
    file_ids = sorted(first.files.values_list("pk", flat=True))

    again = run(definition)

    assert len(smtp.messages) == 1
    assert again.pk == first.pk and ReportRun.objects.count() == 1
    assert sorted(again.files.values_list("pk", flat=True)) == file_ids  # regenerated in place
    assert "not e-mailed again" in again.note
    assert again.email_count == 1

    resent = run(definition, resend=True)

    assert len(smtp.messages) == 2
    assert resent.pk == first.pk and resent.email_count == 2
    assert ReportFile.objects.count() == 3


def test_quarter_sums_its_closed_months(smtp, quarter):
    definition = ReportDefinitionFactory(
        name="Quarter", period_selector=ReportPeriodSelector.LAST_QUARTER, formats=["xlsx"]
    )

    report = run(definition)

    assert (report.period_key, report.first_month, report.last_month) == (
        "2025-Q1",
        "2025-01",
        "2025-03",
    )
    workbook = load_workbook(io.BytesIO(smtp.attachments()["quarter-2025-q1.xlsx"][1]))
    headers = [cell.value for cell in workbook["TCO by service"][HEADER_ROW]]
    rows = {
        row[0]: dict(zip(headers, row, strict=True))
        for row in sheet_rows(workbook["TCO by service"], 5)
    }
    for name in ("Claims", "Quotes", "Platform"):
        results = TcoResult.objects.filter(service__name=name, period__in=quarter["months"])
        assert results.count() == 3
        assert number(rows[name]["TCO"]) == sum(r.tco for r in results)
    input_total = sum(selectors.period_totals(period=p)["input"] for p in quarter["months"])
    total = next(r for r in sheet_rows(workbook["Reconciliation"], 6) if r[0] == "Total")
    assert number(total[1]) == input_total == number(total[2]) + number(total[3])


def test_scope_uses_the_fund_services_filters(smtp, quarter):
    definition = ReportDefinitionFactory(
        name="Supporting", formats=["csv"], scope={"kind": "supporting"}
    )
    run(definition)
    content = smtp.attachments()["supporting-2025-03.csv"][1].decode()
    assert [row["Service"] for row in csv.DictReader(io.StringIO(content))] == ["Platform"]
    body = smtp.messages[0]["message"].get_body(preferencelist=("plain",)).get_content()
    assert "Scope: Service kind Supporting (1 service)" in body
    assert reports.describe_scope({"kind": "supporting", "owner": "owner"}) == [
        ("Service kind", "Supporting"),
        ("Service owner", "owner"),
    ]

    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(name="Nobody's", scope={"owner": "no-such-user"})
    assert "owner" in " ".join(refused.value.message_dict["scope"]).lower()
    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(name="Odd", scope={"colour": "blue"})
    assert "Unknown filter: colour" in refused.value.message_dict["scope"][0]


def test_period_without_closed_results_is_a_skipped_run_with_the_reason(smtp, quarter):
    PeriodFactory(year=2025, month=4)  # open
    definition = ReportDefinitionFactory()

    report = services.run_report(definition, period="2025-04")

    assert report.outcome == ReportOutcome.SKIPPED
    assert "2025-04 not closed yet" in report.error
    assert not report.files.exists() and smtp.messages == []

    report = services.run_report(definition, period="2025-Q2")
    assert report.outcome == ReportOutcome.SKIPPED
    assert "no period for 2025-05, 2025-06" in report.error


def test_failed_delivery_is_recorded_and_sent_on_the_next_run(smtp, settings, quarter):
    settings.EMAIL_PORT = free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 5
    definition = ReportDefinitionFactory()

    report = services.run_report(definition)

    assert report.outcome == ReportOutcome.FAILED
    assert report.error.startswith("The e-mail could not be sent:")
    assert report.files.count() == 3 and report.emailed_at is None

    settings.EMAIL_PORT = smtp.port
    again = run(definition)

    assert again.pk == report.pk and len(smtp.messages) == 1
    assert again.email_count == 1 and again.emailed_at is not None
    assert run(definition).email_count == 1 and len(smtp.messages) == 1


def test_the_task_retries_a_refused_delivery_for_the_same_period(smtp, quarter, celery_eager):
    """The SMTP server turns the message away; the task asks Celery to retry it, naming the
    period, so a month closed meanwhile does not take its place."""
    smtp.refuse = 1
    definition = ReportDefinitionFactory()

    with pytest.raises(Retry) as retry:
        tasks.run_report.apply(args=[definition.pk]).get()
    assert smtp.refused == 1 and not smtp.messages
    assert ReportRun.objects.get().outcome == ReportOutcome.FAILED
    assert retry.value.sig.kwargs["period"] == "2025-03"

    april = PeriodFactory(year=2025, month=4)
    services.close_period(period=april)  # the report's own period would now be April
    made = ReportRun.objects.get(pk=retry.value.sig.apply().get())  # what the worker does

    assert made.period_key == "2025-03" and made.email_count == 1 and len(smtp.messages) == 1
    assert made.outcome == ReportOutcome.SUCCEEDED and made.error == ""
    assert not ReportRun.objects.filter(period_key="2025-04").exists()


# --- Definitions: validation and the beat schedule --------------------------------------------


def test_bad_recipients_are_each_named(db):
    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(recipients=["ok@example.org", "bob@", "not an address"])
    message = refused.value.message_dict["recipients"][0]
    assert "'bob@'" in message and "'not an address'" in message
    assert "ok@example.org" not in message
    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(recipients=[])
    assert refused.value.message_dict["recipients"] == ["Name at least one recipient."]
    assert (
        not ReportDefinition.objects.exists()
        and not PeriodicTask.objects.filter(task=services.REPORT_TASK).exists()
    )


def test_bad_schedule_fields_are_named_by_celery_beat_parsing(db):
    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(minute="61", hour="abc", day_of_week="funday")
    errors = refused.value.message_dict
    assert set(errors) == {"minute", "hour", "day_of_week"}
    assert errors["minute"] == [
        "“61” is not a valid minute: use 0-59, a list (1,15), a range (1-5), a step (*/2) or * "
        "for every one."
    ]
    assert "“abc” is not a valid hour: use 0-23" in errors["hour"][0]
    assert "“funday” is not a valid day of the week: use 0-6" in errors["day_of_week"][0]
    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(minute="0", hour="6", day_of_month="31", month_of_year="2")
    assert refused.value.message_dict == {
        "day_of_month": [
            "This schedule would never run: day_of_month '31' never occurs in month_of_year '2'."
        ]
    }
    with pytest.raises(ValidationError) as refused:
        ReportDefinitionFactory(formats=[])
    assert "at least one format" in refused.value.message_dict["formats"][0]


def test_periodic_task_follows_the_definition(db):
    definition = ReportDefinitionFactory(name="Pack", minute="15", hour="6", day_of_week="mon-fri")
    task = PeriodicTask.objects.get(pk=definition.periodic_task_id)

    assert task.task == "finance.tasks.run_report" == tasks.run_report.name
    assert json.loads(task.args) == [definition.pk] and json.loads(task.kwargs) == {}
    assert task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year,
            crontab.day_of_week) == ("15", "6", "3", "*", "mon-fri")  # fmt: skip
    assert str(crontab.timezone) == settings.TIME_ZONE

    definition.hour, definition.enabled, definition.name = "18", False, "Evening pack"
    services.save_report_definition(definition=definition)
    task.refresh_from_db()
    assert task.crontab.hour == "18" and not task.enabled and "Evening pack" in task.name
    assert not CrontabSchedule.objects.filter(pk=crontab.pk).exists()  # unused: removed
    assert PeriodicTask.objects.filter(task=services.REPORT_TASK).count() == 1

    services.delete_report_definition(definition=definition)
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    assert not CrontabSchedule.objects.filter(pk=task.crontab_id).exists()


def test_scheduled_task_skips_a_switched_off_report_but_runs_on_request(
    smtp, quarter, celery_eager
):
    definition = ReportDefinitionFactory(enabled=False)

    assert tasks.run_report.delay(definition.pk).get() is None
    assert not ReportRun.objects.exists()
    run_id = tasks.run_report.delay(definition.pk, trigger=ReportTrigger.MANUAL).get()
    assert ReportRun.objects.get(pk=run_id).outcome == ReportOutcome.SUCCEEDED
    assert tasks.run_report.delay(definition.pk + 1000).get() is None


# --- The command -------------------------------------------------------------------------------


def test_command_runs_a_report_by_name_or_id(smtp, quarter):
    definition = ReportDefinitionFactory(name="Monthly TCO pack", formats=["csv"])
    out = io.StringIO()

    call_command("run_finance_report", "Monthly TCO pack", "--period", "2025-02", stdout=out)

    assert "Monthly TCO pack 2025-02: succeeded" in out.getvalue()
    assert "monthly-tco-pack-2025-02.csv" in out.getvalue()
    call_command("run_finance_report", str(definition.pk), "--period", "2025-02", stdout=out)
    assert len(smtp.messages) == 1 and "not e-mailed again" in out.getvalue()
    call_command("run_finance_report", str(definition.pk), "--period", "2025-02", "--resend",
                 stdout=out)  # fmt: skip
    assert len(smtp.messages) == 2
    assert ReportRun.objects.get().trigger == ReportTrigger.COMMAND
    with pytest.raises(CommandError, match="No report has the name or id 'Weekly'"):
        call_command("run_finance_report", "Weekly")
    named_like_an_id = ReportDefinitionFactory(name=str(definition.pk + 1000), formats=["csv"])
    call_command("run_finance_report", named_like_an_id.name, "--period", "2025-02", stdout=out)
    assert ReportRun.objects.filter(definition=named_like_an_id).exists()
    with pytest.raises(CommandError, match="YYYY-Qn"):
        call_command("run_finance_report", "Monthly TCO pack", "--period", "March")
    with pytest.raises(CommandError, match="2025-05 has no closed results"):
        call_command("run_finance_report", "Monthly TCO pack", "--period", "2025-05")


# --- The demo ----------------------------------------------------------------------------------


def test_demo_reports_are_scheduled_once(db):
    assert demo.load_reports() == 4
    assert demo.load_reports() == 0
    definitions = list(ReportDefinition.objects.order_by("name"))
    assert {(d.name, d.get_period_selector_display(), d.kind) for d in definitions} == {
        ("Monthly TCO pack", "Last closed month", ReportKind.SERVICES),
        ("Quarterly customer-facing summary", "Last closed quarter", ReportKind.SERVICES),
        ("Monthly customer statements", "Last closed month", ReportKind.STATEMENTS),
        ("Monthly service reviews", "Last closed month", ReportKind.REVIEW_PACKS),
    }
    assert all(d.recipients and all(a.endswith("@example.org") for a in d.recipients)
               for d in definitions)  # fmt: skip
    assert PeriodicTask.objects.filter(task=services.REPORT_TASK, enabled=True).count() == 4


# --- Pages -------------------------------------------------------------------------------------


def form_data(**overrides):
    data = {
        "name": "Browser pack",
        "period_selector": "last_month",
        "formats": ["xlsx", "pdf"],
        "recipients": "cfo@example.org\ncontroller@example.org",
        "scope_kind": "",
        "scope_owner": "",
        "scope_customer": "",
        "scope_value_stream": "",
        "scope_q": "",
        "minute": "0",
        "hour": "7",
        "day_of_month": "3",
        "month_of_year": "*",
        "day_of_week": "*",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_download_type_and_filename(client, smtp, quarter, finance_user):
    report = run(ReportDefinitionFactory(name="Pack"))
    xlsx = report.files.get(format="xlsx")
    url = reverse("finance:report_download", args=[xlsx.pk])
    client.force_login(finance_user)
    response = client.get(url)
    assert response["Content-Type"] == reports.XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="pack-2025-03.xlsx"'
    assert load_workbook(io.BytesIO(response.content)).sheetnames == XLSX_SHEETS
    pdf = client.get(reverse("finance:report_download", args=[report.files.get(format="pdf").pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get(reverse("finance:report_download", args=[999999])).status_code == 404


def test_create_refuses_bad_input_beside_the_field_then_saves(client, finance_user, quarter):
    client.force_login(finance_user)
    url = reverse("finance:report_add")

    response = client.post(
        url, form_data(recipients="cfo@example.org, bob@", minute="75"), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_recipients_error"' in page and "Not an e-mail address: &#x27;bob@&#x27;" in page
    assert 'id="id_minute_error"' in page and "“75” is not a valid minute" in page
    assert "<html" not in page  # the form partial only
    assert not ReportDefinition.objects.exists()

    response = client.post(url, form_data(scope_kind="customer_facing", scope_owner="owner"))

    definition = ReportDefinition.objects.get()
    assert response.status_code == 302 and response.url == definition.get_absolute_url()
    assert definition.scope == {"kind": "customer_facing", "owner": "owner"}
    assert definition.recipients == ["cfo@example.org", "controller@example.org"]
    assert definition.formats == ["xlsx", "pdf"] and definition.created_by == finance_user
    assert definition.periodic_task.crontab.hour == "7"
    edit = client.get(reverse("finance:report_edit", args=[definition.pk])).content.decode()
    assert 'value="customer_facing" selected' in edit
    assert "cfo@example.org\ncontroller@example.org</textarea>" in edit


def test_run_now_queues_the_task_and_offers_to_send_again(
    client, smtp, quarter, finance_user, celery_eager, django_capture_on_commit_callbacks
):
    definition = ReportDefinitionFactory(name="Pack")
    client.force_login(finance_user)
    url = reverse("finance:report_run", args=[definition.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"period": ""})
    assert response.status_code == 302
    report = ReportRun.objects.get()
    assert (report.trigger, report.requested_by, len(smtp.messages)) == (
        ReportTrigger.MANUAL,
        finance_user,
        1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"period": "2025-03"})
    assert len(smtp.messages) == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"period": "2025-03", "resend": "on"})
    assert len(smtp.messages) == 2

    response = client.post(url, {"period": "last March"})
    assert response.status_code == 422
    assert "YYYY-Qn" in response.content.decode()

    page = client.get(definition.get_absolute_url()).content.decode()
    assert "Send the e-mail again" in page and "2 times" in page
    for report_file in report.files.all():
        assert reverse("finance:report_download", args=[report_file.pk]) in page


def test_report_page_says_when_the_next_period_was_already_e_mailed(
    client, smtp, quarter, finance_user
):
    definition = ReportDefinitionFactory(name="Pack")
    client.force_login(finance_user)
    assert "(already e-mailed)" not in client.get(definition.get_absolute_url()).content.decode()
    run(definition)
    assert len(smtp.messages) == 1
    assert "(already e-mailed)" in client.get(definition.get_absolute_url()).content.decode()


def test_report_list_shows_definitions_and_runs_in_few_queries(
    client, smtp, quarter, finance_user, django_assert_max_num_queries
):
    for name in ("One", "Two", "Three"):
        run(ReportDefinitionFactory(name=name))
    client.force_login(finance_user)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("finance:report_list"))

    page = response.content.decode()
    for name in ("One", "Two", "Three"):
        assert f">{name}</a>" in page
    assert page.count("/reports/files/") == 9
    assert "Last closed month" in page and "0 7 3 * *" in page


def test_definition_history_is_recorded(client, finance_user):
    client.force_login(finance_user)
    client.post(reverse("finance:report_add"), form_data())
    definition = ReportDefinition.objects.get()
    from core.changelog import history_for

    assert [change.action for change in history_for(definition)] == ["create"]
    assert history_for(definition).get().user == finance_user


def test_crontab_time_zone_is_the_server_time_zone(db, settings):
    definition = ReportDefinitionFactory()
    assert definition.periodic_task.crontab.timezone == zoneinfo.ZoneInfo(settings.TIME_ZONE)
