"""Real Celery worker processes for the finance tests: each on a queue of its own, pointed at
the test database (the test needs ``transaction=True`` so the worker sees committed rows)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90


class Worker:
    """A Celery worker process (solo pool) on one queue, pointed at the test database."""

    def __init__(self, queue: str, log: Path, **environment: str):
        database = settings.DATABASES["default"]
        self.queue, self.log = queue, log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portico",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    queue,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "DATABASE_URL": (
                        f"postgresql://{database['USER']}@{database['HOST']}:"
                        f"{database['PORT']}/{database['NAME']}"
                    ),
                    "REDIS_URL": settings.CELERY_BROKER_URL,
                    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                    "DJANGO_SETTINGS_MODULE": "portico.settings",
                    **environment,
                },
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while "ready." not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"The Celery worker did not start:\n{log.read_text()}")
            time.sleep(0.25)

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to finish, acknowledge or clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
