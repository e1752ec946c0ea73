"""Scheduled reports delivered while other processes and threads work on the same committed
data: two runs of one period at once send one e-mail, and a real Celery worker runs what beat
would send. Transactional tests, kept apart from test_reports.py, whose other tests share one
quarter in a transaction that must not be open while these run."""

import json
import threading
import time

import pytest
from django.db import connection
from django_celery_beat.models import PeriodicTask

from finance import services
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.models import ReportRun
from tests.factories.finance import ReportDefinitionFactory
from tests.finance.scenarios import make_quarter

WORKER_SECONDS = 120


@pytest.fixture
def committed_quarter(service_owner):
    """The closed quarter of test_reports.py, committed: other processes and threads read it."""
    return make_quarter(service_owner)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_of_one_period_at_once_send_one_e_mail(smtp, committed_quarter):
    """The second run waits for the first, which is still sending, then finds the period
    e-mailed."""
    smtp.hold = threading.Event()
    definition = ReportDefinitionFactory()
    made = []

    def run_in_a_thread():
        try:
            made.append(services.run_report(definition))
        finally:
            connection.close()

    first = threading.Thread(target=run_in_a_thread)
    first.start()
    assert smtp.holding.wait(60), "the first run never reached the SMTP server"
    second = threading.Thread(target=run_in_a_thread)
    second.start()
    with connection.cursor() as cursor:
        for _ in range(600):  # until the second run waits for the first one's lock
            # Of this database only: parallel test processes share the server.
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
                "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second run never waited for the first")
    smtp.hold.set()
    first.join(120)
    second.join(120)

    assert len(made) == 2 and all(r.outcome == ReportOutcome.SUCCEEDED for r in made)
    assert len(smtp.messages) == 1
    assert ReportRun.objects.get().email_count == 1


# --- A real Celery worker runs what beat would send -------------------------------------------


@pytest.fixture
def smtp_for_worker(worker_inbox):
    """The SMTP server the worker (conftest.py) mails through, empty for this test."""
    worker_inbox.messages.clear()
    return worker_inbox


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_beat_entry_and_mails_the_report(
    smtp_for_worker, committed_quarter, worker
):
    from portico.celery import app

    queue, log = worker
    definition = ReportDefinitionFactory(name="Worker pack")
    entry = PeriodicTask.objects.get(pk=definition.periodic_task_id)

    # What beat sends when the crontab is due: the entry's task, args and kwargs.
    app.send_task(entry.task, args=json.loads(entry.args), kwargs=json.loads(entry.kwargs),
                  queue=queue)  # fmt: skip

    deadline = time.monotonic() + WORKER_SECONDS
    report = None
    while time.monotonic() < deadline:
        report = ReportRun.objects.exclude(outcome=ReportOutcome.RUNNING).first()
        if report is not None and smtp_for_worker.messages:
            break
        time.sleep(0.25)
    assert report is not None, f"the worker recorded no run:\n{log.read_text()}"
    assert (report.outcome, report.trigger, report.period_key) == (
        ReportOutcome.SUCCEEDED,
        ReportTrigger.SCHEDULE,
        "2025-03",
    ), report.error
    assert len(smtp_for_worker.messages) == 1
    assert "worker-pack-2025-03.xlsx" in smtp_for_worker.attachments()
