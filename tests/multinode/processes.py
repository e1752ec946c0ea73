"""A small process manager for tests that run Portico as a topology of real processes on
loopback: web processes (gunicorn, as the Dockerfile runs it), Celery workers on chosen
queues, beats, and a Redis server of the test's own.

Every process runs in a process group of its own, so ``kill()`` is the death of a node
(SIGKILL to the gunicorn or Celery master and its children at once: nothing finishes,
acknowledges or cleans up) and ``stop()`` an orderly shutdown. Each writes its output to a
log file, which is also how readiness and behaviour are read back.
"""

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode
from urllib.parse import urlsplit

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Cold starts on a busy two-core machine: generous, but a process that never comes up fails
# the test instead of hanging it.
STARTUP_SECONDS = 120
STOP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dockerfile_command() -> list[str]:
    """The image's CMD (the web server), as docker-compose.yml and the manifests run it."""
    text = (ROOT / "Dockerfile").read_text()
    [line] = [line for line in text.splitlines() if line.startswith("CMD ")]
    return yaml.safe_load(line.removeprefix("CMD "))


class Process:
    """One process of the topology, started at once; ``wait_ready`` waits for ``ready``."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        environment: dict[str, str],
        log: Path,
        ready: Callable[["Process"], bool],
    ):
        self.name, self.argv, self.log, self.ready = name, argv, log, ready
        self.killed = False
        with log.open("w") as output:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes its children too
            )

    def __repr__(self) -> str:
        return f"<{self.name} pid {self.process.pid}>"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, deadline: float) -> None:
        while not self.ready(self):
            if not self.alive:
                raise AssertionError(f"{self.name} exited while starting:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start in time:\n{self.tail()}")
            time.sleep(0.25)

    def _signal_group(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """SIGKILL to the whole process group, as when a node dies."""
        self.killed = True
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL whatever is left of the group."""
        if self.alive:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
        # Children that outlive their master (none should) go with the group.
        self._signal_group(signal.SIGKILL)
        if self.alive:
            self.process.wait(timeout=STOP_SECONDS)


def log_says(text: str) -> Callable[[Process], bool]:
    return lambda process: text in process.output()


def answers_health(url: str, headers: dict[str, str] | None = None) -> Callable[[Process], bool]:
    def ready(_process: Process) -> bool:
        try:
            return httpx.get(f"{url}/healthz", headers=headers, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    return ready


def port_open(port: int) -> Callable[[Process], bool]:
    def ready(_process: Process) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    return ready


class Topology:
    """Starts and stops the processes of one test. ``environment`` is what every Portico
    process gets (the database URL gains ``application_name=<process name>``, so each
    process's sessions can be told apart in pg_stat_activity and pg_locks)."""

    def __init__(self, folder: Path, environment: dict[str, str]):
        self.folder = folder
        self.environment = environment
        self.processes: list[Process] = []

    def _environment(self, name: str, **overrides: str) -> dict[str, str]:
        environment = {**self.environment, **overrides}
        database = urlsplit(environment["DATABASE_URL"])
        query = urlencode({"application_name": name})
        environment["DATABASE_URL"] = database._replace(query=query).geturl()
        return environment

    def _start(self, name: str, argv: list[str], ready, **environment: str) -> Process:
        process = Process(
            name,
            argv,
            environment=self._environment(name, **environment),
            log=self.folder / f"{name}.log",
            ready=ready,
        )
        self.processes.append(process)
        return process

    def redis(self, name: str = "redis") -> tuple[Process, str]:
        """A Redis server of this test's own; (process, URL)."""
        port = free_port()
        argv = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        process = Process(
            name,
            argv,
            environment=dict(os.environ),
            log=self.folder / f"{name}.log",
            ready=port_open(port),
        )
        self.processes.append(process)
        return process, f"redis://127.0.0.1:{port}/0"

    def web(
        self, name: str, *, probe_headers: dict[str, str] | None = None, **environment: str
    ) -> Process:
        """The image's own command (gunicorn) on a free loopback port, ready when /healthz
        answers 200 (to a request with ``probe_headers``); ``.url`` is its address."""
        port = free_port()
        argv = [
            f"127.0.0.1:{port}" if argument == "0.0.0.0:8000" else argument
            for argument in dockerfile_command()
        ]
        assert argv[0] == "gunicorn", argv
        url = f"http://127.0.0.1:{port}"
        process = self._start(
            name, [sys.executable, "-m", *argv], answers_health(url, probe_headers), **environment
        )
        process.url = url
        return process

    def worker(self, name: str, queues: list[str], *, concurrency: int = 1) -> Process:
        """``celery -A portico worker -Q <queues>`` (prefork, as deployed)."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portico",
            "worker",
            "--loglevel=INFO",
            "-Q",
            ",".join(queues),
            "-n",
            f"{name}@%h",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
        ]
        return self._start(name, argv, log_says("ready."))

    def beat(self, name: str) -> Process:
        """``celery -A portico beat`` with the project's scheduler, looking every second."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portico",
            "beat",
            "--loglevel=INFO",
            "--max-interval",
            "1",
            "-s",
            str(self.folder / f"{name}.schedule"),
        ]
        return self._start(name, argv, log_says("beat: Starting"))

    def wait_ready(self, *processes: Process) -> None:
        """Wait for processes started together (they boot in parallel)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        for process in processes:
            process.wait_ready(deadline)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def errors(self, lines: int = 40, most: int = 3) -> str:
        """The tracebacks in every process's log (the first few of each), for a failure
        message: a 500's cause is in its web process's log."""
        found = []
        for process in self.processes:
            output = process.output().splitlines()
            starts = [n for n, line in enumerate(output) if line.startswith("Traceback")]
            for start in starts[:most]:
                excerpt = "\n".join(output[max(0, start - 2) : start + lines])
                found.append(f"--- {process.name} ---\n{excerpt}")
        return "\n".join(found)

    def logs(self, lines: int = 30) -> str:
        """The end of every process's log, for a failure message."""
        return "\n".join(
            f"--- {process.name} ({shlex.join(process.argv[-4:])}) ---\n{process.tail(lines)}"
            for process in self.processes
        )
