"""Real processes for the finance tests: Celery workers and beats pointed at the test database
(the test needs ``transaction=True`` so they see committed rows), and a Redis server of a
test's own."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CeleryProcess:
    """``celery -A portico <arguments>`` with the test database, until ``ready`` is logged."""

    def __init__(self, arguments: list[str], log: Path, ready: str, **environment: str):
        database = settings.DATABASES["default"]
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portico", *arguments],
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
        while ready not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"celery {arguments[0]} did not start:\n{log.read_text()}")
            time.sleep(0.25)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish, acknowledge or clean up."""
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


class Worker(CeleryProcess):
    """A Celery worker (solo pool) on one queue."""

    def __init__(self, queue: str, log: Path, **environment: str):
        self.queue = queue
        arguments = ["worker", "--pool=solo", "-Q", queue, "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]  # fmt: skip
        super().__init__(arguments, log, "ready.", **environment)


class Beat(CeleryProcess):
    """Celery beat with the project's scheduler, looking at its schedule every second."""

    def __init__(self, log: Path, **environment: str):
        schedule = log.with_suffix(".schedule")
        arguments = ["beat", "--loglevel=INFO", "--max-interval", "1", "-s", str(schedule)]
        super().__init__(arguments, log, "beat: Starting", **environment)

    def sent(self, entry: str) -> int:
        """How many times this beat sent the entry named ``entry``."""
        return self.log.read_text().count(f"Sending due task {entry} ")


class PrivateRedis:
    """A Redis server only one test uses, on a port that stays closed until ``start``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
