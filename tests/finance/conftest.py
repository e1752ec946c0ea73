"""Fixtures of the finance tests: the recomputation watchers, a real SMTP server, one real
Celery worker for the run (mailing through that server), and workers a test starts (and
kills) itself."""

import uuid

import pytest
from aiosmtpd.controller import Controller

from tests.factories.finance import enqueued  # noqa: F401 (fixtures)
from tests.factories.finance import settle  # noqa: F401 (fixtures)
from tests.finance.mailbox import Inbox
from tests.finance.mailbox import free_port
from tests.finance.mailbox import smtp  # noqa: F401 (fixture)
from tests.finance.processes import Worker


@pytest.fixture(scope="session")
def worker_inbox():
    """The SMTP server the worker mails through, for the whole run."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def worker(django_db_setup, worker_inbox, tmp_path_factory):
    """A Celery worker on a queue no other test or engineer uses, pointed at the test database
    and mailing through ``worker_inbox``; yields the queue name and its log. Started once for
    the run: a start takes seconds, and the tests that use it only add work to its queue."""
    started = Worker(
        f"finance-test-{uuid.uuid4().hex[:12]}",
        tmp_path_factory.mktemp("worker") / "worker.log",
        EMAIL_BACKEND="smtp",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(worker_inbox.port),
        EMAIL_USE_TLS="false",
        EMAIL_USE_SSL="false",
    )
    try:
        yield started.queue, started.log
    finally:
        started.stop()


@pytest.fixture
def start_worker(tmp_path):
    """Starts workers (``start_worker(queue, **environment)``); all stopped at the end."""
    started: list[Worker] = []

    def start(queue: str, **environment: str) -> Worker:
        started.append(Worker(queue, tmp_path / f"worker-{len(started)}.log", **environment))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
