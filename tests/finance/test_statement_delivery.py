"""The "Customer statements" report run by a real Celery worker, as beat would send it, mailing
through a real SMTP server: one message per relationship manager (and one per recipient of the
report for the customers without one), and none again when the same period runs a second time.
Transactional, like test_report_delivery.py: the worker reads committed rows."""

import io
import json
import time
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from finance.choices import ReportKind
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.models import CustomerStatement
from finance.models import ReportRun
from tests.factories.finance import ReportDefinitionFactory
from tests.finance.statement_scenarios import make_statement_month

WORKER_SECONDS = 120


@pytest.fixture
def smtp_for_worker(worker_inbox):
    """The SMTP server the worker (conftest.py) mails through, empty for this test."""
    worker_inbox.messages.clear()
    return worker_inbox


def send_and_wait(entry, queue, log, *, runs_done: int) -> ReportRun:
    from portico.celery import app

    # What beat sends when the crontab is due: the entry's task, args and kwargs.
    app.send_task(entry.task, args=json.loads(entry.args), kwargs=json.loads(entry.kwargs),
                  queue=queue)  # fmt: skip
    deadline = time.monotonic() + WORKER_SECONDS
    while time.monotonic() < deadline:
        run = ReportRun.objects.exclude(outcome=ReportOutcome.RUNNING).first()
        if run is not None and run.finished_at is not None:
            finished = log.read_text().count("succeeded in")
            if finished >= runs_done:
                return run
        time.sleep(0.25)
    pytest.fail(f"the worker did not finish the run:\n{log.read_text()}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_mails_each_relationship_manager_once_per_period(smtp_for_worker, worker):
    queue, log = worker
    month = make_statement_month()
    definition = ReportDefinitionFactory(
        name="Monthly statements", kind=ReportKind.STATEMENTS, formats=["xlsx", "pdf"]
    )
    entry = PeriodicTask.objects.get(pk=definition.periodic_task_id)
    already = log.read_text().count("succeeded in")

    first = send_and_wait(entry, queue, log, runs_done=already + 1)
    assert (first.outcome, first.trigger, first.period_key) == (
        ReportOutcome.SUCCEEDED,
        ReportTrigger.SCHEDULE,
        "2025-03",
    ), first.error
    recipients = sorted(m["to"][0] for m in smtp_for_worker.messages)
    assert recipients == [
        "alice@example.org",
        "bob@example.org",
        "cfo@example.org",
        "controller@example.org",
    ]
    alice = next(
        i for i, m in enumerate(smtp_for_worker.messages) if m["to"] == ["alice@example.org"]
    )
    files = smtp_for_worker.attachments(alice)
    workbook = load_workbook(io.BytesIO(files["monthly-statements-2025-03.xlsx"][1]))
    rows = {
        row[0]: row
        for row in workbook["Statements"].iter_rows(min_row=5, values_only=True)
        if row[0] and row[0] != "Total"
    }
    assert set(rows) == {"Retail", "Fleet"}
    for name in rows:
        statement = CustomerStatement.objects.get(
            period=month["march"], version=1, customer__name=name
        )
        assert Decimal(str(rows[name][5])).quantize(Decimal("0.01")) == statement.cost_to_serve
    assert files["monthly-statements-2025-03.pdf"][1].startswith(b"%PDF")

    second = send_and_wait(entry, queue, log, runs_done=already + 2)
    assert second.pk == first.pk and second.outcome == ReportOutcome.SUCCEEDED
    assert "not e-mailed again" in second.note
    assert len(smtp_for_worker.messages) == 4
    assert ReportRun.objects.get().email_count == 1
