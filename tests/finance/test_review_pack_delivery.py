"""The "Service review packs" report run by a real Celery worker, as beat would send it,
mailing through a real SMTP server: each relationship manager gets exactly one message per
period with the packs of their own customers (the report's recipients those of the customer
without one), and nobody a second one when the period runs again. Transactional, like
test_statement_delivery.py: the worker reads committed rows."""

import io

import pytest
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from finance.choices import ReportKind
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.models import ReportRun
from tests.factories.finance import ReportDefinitionFactory
from tests.finance.test_review_packs import make_review_month
from tests.finance.test_statement_delivery import send_and_wait


@pytest.fixture
def smtp_for_worker(worker_inbox):
    worker_inbox.messages.clear()
    return worker_inbox


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_mails_each_relationship_manager_the_packs_of_their_customers_once(
    smtp_for_worker, worker
):
    queue, log = worker
    make_review_month()
    definition = ReportDefinitionFactory(
        name="Monthly reviews", kind=ReportKind.REVIEW_PACKS, formats=["xlsx", "pdf"]
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
    # Alice (Retail, Fleet) and Bob (Brokers) once each; Walk-in has no manager: the
    # report's two recipients get its pack.
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
    workbook = load_workbook(io.BytesIO(files["monthly-reviews-2025-03.xlsx"][1]))
    rows = [
        (row[0], row[2])
        for row in workbook["Services"].iter_rows(min_row=5, values_only=True)
        if row[0]
    ]
    assert rows == [("Fleet", "Claims"), ("Fleet", "Quotes"), ("Retail", "Claims")]
    assert files["monthly-reviews-2025-03.pdf"][1].startswith(b"%PDF")

    second = send_and_wait(entry, queue, log, runs_done=already + 2)
    assert second.pk == first.pk and second.outcome == ReportOutcome.SUCCEEDED
    assert "not e-mailed again" in second.note
    assert len(smtp_for_worker.messages) == 4
    assert ReportRun.objects.get().email_count == 1
