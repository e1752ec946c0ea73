"""The job queue (Redis) goes away and comes back: "Run now" and edits still get their normal
answer, nothing they asked for is lost, and the minute's sweep sends and computes it all once
the broker answers. A real Redis server of the test's own, on a port that is first closed."""

import time

import pytest
from django.urls import reverse
from kombu import pools

from finance import services
from finance import tasks
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.choices import RunOutcome
from finance.models import Period
from finance.models import QueuedTask
from finance.models import ReportRun
from finance.models import TcoResult
from finance.models import TcoRun
from portico.celery import app
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.finance.processes import PrivateRedis
from tests.finance.scenarios import make_quarter

RECOVERY_SECONDS = 120


@pytest.fixture
def committed_quarter(service_owner):
    """The closed quarter of the report tests, committed: the worker reads it."""
    return make_quarter(service_owner)


@pytest.fixture
def smtp_for_worker(smtp, monkeypatch):
    """The worker this test starts reads its SMTP settings from the environment."""
    monkeypatch.setenv("EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(smtp.port))
    monkeypatch.setenv("EMAIL_USE_TLS", "false")
    monkeypatch.setenv("EMAIL_USE_SSL", "false")
    return smtp


def point_celery_at(url: str) -> None:
    """Send this process's tasks to ``url`` from now on: the app forgets its pools (Kombu's
    registry keeps one per broker address), and reconnects on the next send."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def job_queue(tmp_path):
    """A broker that is down: the app points at a closed port, where Redis starts later."""
    redis = PrivateRedis(tmp_path)
    before = app.conf.broker_url
    point_celery_at(redis.url)
    yield redis
    point_celery_at(before)
    pools.reset()  # closes the connections to the private server too
    redis.stop()


def wait_for(condition, what: str, worker, *, seconds: float = RECOVERY_SECONDS):
    """Wait for ``condition``, sending the sweep every few seconds as beat would each minute."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tasks.sweep.apply_async()
        for _ in range(12):
            if condition():
                return
            time.sleep(0.25)
    pytest.fail(f"Timed out waiting for {what}:\n{worker.log.read_text()}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redis_outage_loses_no_report_run_and_no_recomputation(
    client, finance_user, committed_quarter, smtp_for_worker, job_queue, start_worker, caplog
):
    definition = ReportDefinitionFactory(name="Outage pack")
    april = PeriodFactory(year=2025, month=4)
    client.force_login(finance_user)

    # The job queue is down: Run now answers as usual and says the run waits for it.
    response = client.post(
        reverse("finance:report_run", args=[definition.pk]), {"period": "2025-03"}
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "is queued; it will run when the job queue is back" in page
    queued = QueuedTask.objects.get()
    assert (queued.task, queued.args, queued.kwargs["period"]) == (
        services.REPORT_TASK,
        [definition.pk],
        "2025-03",
    )
    assert queued.attempts == 1 and "Connection refused" in queued.last_error

    # An edit while it is down is saved and leaves its period marked for recomputation.
    response = client.post(
        reverse("finance:costitem_add"),
        {
            "description": "Licences bought during the outage",
            "period_label": "2025-04",
            "amount": "40.00",
            "currency": "EUR",
            "category": "vendor",
            "expenditure": "opex",
            "spread_months": "1",
            "service": "claims",
        },
    )
    assert response.status_code == 302
    assert Period.objects.get(pk=april.pk).recompute_requested_at is not None
    assert "Could not schedule the TCO recomputation" in caplog.text
    # A sweep while the broker is still down sends nothing and loses nothing.
    assert services.send_queued_tasks() == 0
    assert QueuedTask.objects.get().attempts == 2

    # The job queue is back (same address); beat's minute sweep runs on a worker.
    job_queue.start()
    worker = start_worker("celery", CELERY_BROKER_URL=job_queue.url, REDIS_URL=job_queue.url)
    wait_for(
        lambda: (
            ReportRun.objects.filter(outcome=ReportOutcome.SUCCEEDED).exists()
            and TcoResult.objects.filter(period=april).exists()
            and Period.objects.get(pk=april.pk).recompute_requested_at is None
            and smtp_for_worker.messages
        ),
        "the queued report and the recomputation",
        worker,
    )
    report = ReportRun.objects.get(definition=definition)
    assert (report.period_key, report.trigger, report.requested_by) == (
        "2025-03",
        ReportTrigger.MANUAL,
        finance_user,
    )
    assert len(smtp_for_worker.messages) == 1
    assert not QueuedTask.objects.exists()
    claims = TcoResult.objects.get(period=april, service__slug="claims")
    assert claims.kept == claims.tco == 40
    assert not TcoRun.objects.filter(outcome=RunOutcome.RUNNING).exists()
