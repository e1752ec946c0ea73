"""Fixtures of the notification tests: a real SMTP server (aiosmtpd) and Celery workers a
test starts (and may kill), pointed at the test database and mailing through that server."""

import uuid

import pytest
from aiosmtpd.controller import Controller

from tests.finance.mailbox import Inbox
from tests.finance.mailbox import free_port
from tests.finance.mailbox import smtp  # noqa: F401 (fixture)
from tests.finance.processes import Worker

# Short enough for a test to outlive, long enough for a worker to send within it.
LEASE_SECONDS = 3
SITE_URL = "https://portico.example.org"


@pytest.fixture
def inbox():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    if inbox.hold is not None:
        inbox.hold.set()
    controller.stop()


@pytest.fixture
def start_worker(tmp_path, inbox):
    """``start_worker()``: a worker on a queue of its own mailing through ``inbox``; all of
    them are stopped at the end."""
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(
            f"notify-test-{uuid.uuid4().hex[:12]}",
            tmp_path / f"worker-{len(started)}.log",
            EMAIL_BACKEND="smtp",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(inbox.port),
            EMAIL_USE_TLS="false",
            EMAIL_USE_SSL="false",
            PORTICO_SITE_URL=SITE_URL,
            PORTICO_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
