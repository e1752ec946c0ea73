"""Fixtures of the finance tests."""

import pytest

from tests.factories.finance import enqueued, settle  # noqa: F401 (fixtures)
from tests.finance.processes import Worker


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
