"""The deployment files agree with the code: Dockerfile, docker-compose.yml, .env.example and
the README's Configuration table. No Docker engine is needed: the image's build step
(collectstatic with the manifest storage) and its server (gunicorn with production settings)
run here for real, and so do the healthchecks that are plain Python.
"""

import ast
import contextlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from django.conf import settings
from django.core.management import get_commands
from django.db import connection

from portico import env

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Services running the Portico image (the others are PostgreSQL and Redis).
PORTICO_SERVICES = sorted(name for name, service in SERVICES.items() if "build" in service)
QUICKSTART_VARIABLES = {"PORTICO_DATA_DIR", "PORTICO_ADDRESS"}
PRODUCTION = {
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_COOKIES": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECRET_KEY": "production-like-check-" + "abcdefghijklmnopqrstuvwxyz0123456789",
    "ALLOWED_HOSTS": "portico.example.org",
}


def settings_variables() -> set[str]:
    """Every variable settings.py reads: those read at import (``env.VARIABLES``) plus those
    read only on some paths (CELERY_BROKER_FOLDER, with the file broker), found in the source.
    """
    tree = ast.parse((ROOT / "portico" / "settings.py").read_text())
    in_source = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "env"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    return env.VARIABLES | in_source


ALL_VARIABLES = settings_variables() | QUICKSTART_VARIABLES


def env_example_variables() -> list[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def readme_configuration_variables() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.MULTILINE)


def service_environment(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def as_argv(command) -> list[str]:
    if isinstance(command, str):
        return shlex.split(command)
    if command and command[0] == "CMD-SHELL":
        return shlex.split(command[1])
    if command and command[0] == "CMD":
        return list(command[1:])
    return list(command)


def compose_commands() -> list[tuple[str, list[str]]]:
    """(service, argv) for every command, entrypoint and healthcheck in docker-compose.yml."""
    commands = []
    for name, service in SERVICES.items():
        for key in ("entrypoint", "command"):
            if service.get(key):
                commands.append((name, as_argv(service[key])))
        if service.get("healthcheck", {}).get("test"):
            commands.append((name, as_argv(service["healthcheck"]["test"])))
    return commands


def dockerfile_commands() -> list[list[str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        shlex.split(part)
        for line in re.findall(r"^RUN (.*)$", text, flags=re.MULTILINE)
        for part in re.split(r"&&|;", line)
    ]


def celery_invocation(argv: list[str]) -> tuple[str | None, str | None, list[str]] | None:
    """(app, subcommand, rest) of a `celery ...` or `python -m celery ...` command line."""
    if argv[:1] == ["celery"]:
        args = argv[1:]
    elif argv[:3] in (["python", "-m", "celery"], ["python3", "-m", "celery"]):
        args = argv[3:]
    else:
        return None
    app = None
    while args and args[0].startswith("-"):
        option, *rest = args
        if option in ("-A", "--app"):
            app, args = rest[0], rest[1:]
        elif option.startswith("--app="):
            app, args = option.split("=", 1)[1], rest
        else:
            args = rest
    return app, (args[0] if args else None), args[1:]


def manage_subcommand(argv: list[str]) -> str | None:
    if "manage.py" not in argv:
        return None
    rest = argv[argv.index("manage.py") + 1 :]
    return rest[0] if rest else None


# --- docker-compose.yml ------------------------------------------------------------------


def test_compose_has_the_services():
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(SERVICES)
    assert PORTICO_SERVICES == ["beat", "migrate", "web", "worker"]


@pytest.mark.parametrize("name", ["db", "redis", "web", "worker", "beat"])
def test_long_running_services_have_a_healthcheck(name):
    healthcheck = SERVICES[name].get("healthcheck") or {}
    assert not healthcheck.get("disable")
    assert as_argv(healthcheck.get("test") or ["NONE"]) not in ([], ["NONE"])


def test_exactly_one_beat():
    beats = []
    for name, argv in compose_commands():
        invocation = celery_invocation(argv)
        if invocation and (invocation[1] == "beat" or {"-B", "--beat"} & set(invocation[2])):
            beats.append(name)
    assert beats == ["beat"]
    beat = SERVICES["beat"]
    assert beat.get("scale", 1) == 1
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_migrations_run_once_before_the_long_running_services():
    assert manage_subcommand(as_argv(SERVICES["migrate"]["command"])) == "migrate"
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["db"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_manage_py_commands_exist():
    commands = [argv for _, argv in compose_commands()] + dockerfile_commands()
    named = {manage_subcommand(argv) for argv in commands} - {None}
    assert named >= {"migrate", "collectstatic"}
    assert named <= set(get_commands())


def test_celery_commands_name_the_real_app():
    invocations = [celery_invocation(argv) for _, argv in compose_commands()]
    invocations = [invocation for invocation in invocations if invocation]
    assert {subcommand for _, subcommand, _ in invocations} == {"worker", "beat", "inspect"}
    for app, subcommand, _ in invocations:
        assert app == "portico"
        assert subcommand in celery_cli.commands
    app = find_app("portico")
    assert isinstance(app, Celery)
    assert app.main == "portico"


def test_compose_environment_names_only_real_variables():
    for name in PORTICO_SERVICES:
        assert SERVICES[name]["env_file"] == ".env"
        environment = service_environment(SERVICES[name])
        assert set(environment) <= ALL_VARIABLES, name
        assert {"DATABASE_URL", "REDIS_URL"} <= set(environment), name


def test_compose_urls_point_at_the_compose_services():
    postgres = service_environment(SERVICES["db"])
    for name in PORTICO_SERVICES:
        environment = service_environment(SERVICES[name])
        database = urlsplit(environment["DATABASE_URL"])
        assert database.scheme in ("postgres", "postgresql")
        assert (database.hostname, database.port) == ("db", 5432)
        assert database.username == postgres["POSTGRES_USER"]
        assert database.password == postgres["POSTGRES_PASSWORD"]
        assert database.path == "/" + postgres["POSTGRES_DB"]
        redis = urlsplit(environment["REDIS_URL"])
        assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_web_runs_the_dockerfile_command_on_the_published_port():
    web = SERVICES["web"]
    assert as_argv(web["command"]) == dockerfile_cmd()
    assert "8000:8000" in web["ports"]


# --- .env.example and README ---------------------------------------------------------------


def test_settings_read_only_through_env():
    assert "os.environ" not in (ROOT / "portico" / "settings.py").read_text()


def test_env_example_lists_every_variable_once():
    names = env_example_variables()
    assert len(names) == len(set(names))
    assert set(names) == ALL_VARIABLES


def test_env_example_gives_default_and_meaning_of_each_variable():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in env_example_variables():
        assert any(line.startswith(f"# {name} (") for line in lines), name


def test_env_example_is_production_like():
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["DEBUG"] == "false"
    assert values["SECURE_SSL_REDIRECT"] == "true"
    assert values["SECURE_COOKIES"] == "true"
    assert int(values["SECURE_HSTS_SECONDS"]) > 0
    assert values["SECRET_KEY"] == ""  # no shared key: settings refuse to start until it is set


def test_readme_configuration_table_lists_the_same_variables():
    names = readme_configuration_variables()
    assert len(names) == len(set(names))
    assert set(names) == ALL_VARIABLES


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_text() -> str:
    return (ROOT / "Dockerfile").read_text()


def dockerfile_cmd() -> list[str]:
    (cmd,) = re.findall(r"^CMD (.*)$", dockerfile_text(), flags=re.MULTILINE)
    return yaml.safe_load(cmd)


def test_dockerfile_is_multi_stage():
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", dockerfile_text(), flags=re.MULTILINE)
    assert len(stages) >= 2
    assert {image for image, _ in stages} == {"python:3.11-slim-bookworm"}
    builder = stages[0][1]
    assert f"COPY --from={builder} /opt/venv /opt/venv" in dockerfile_text()
    assert "uv pip sync" in dockerfile_text() and "requirements.lock" in dockerfile_text()


def test_dockerfile_runs_as_non_root():
    users = re.findall(r"^USER (\S+)$", dockerfile_text(), flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "--uid 10001" in dockerfile_text()


def test_dockerfile_serves_the_wsgi_application():
    assert re.search(r"^EXPOSE 8000$", dockerfile_text(), flags=re.MULTILINE)
    cmd = dockerfile_cmd()
    assert cmd[:2] == ["gunicorn", "portico.wsgi:application"]
    assert "0.0.0.0:8000" in cmd
    assert settings.WSGI_APPLICATION == "portico.wsgi.application"


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", ".env"} <= ignored


# --- Production settings -------------------------------------------------------------------


def clean_environment() -> dict[str, str]:
    """This environment minus anything Portico reads (and the test-only async switch from
    conftest.py)."""
    test_only = ALL_VARIABLES | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {k: v for k, v in os.environ.items() if k not in test_only}


def production_environment(**overrides) -> dict[str, str]:
    """A clean environment with production values."""
    environment = clean_environment()
    environment.update(
        PRODUCTION,
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_SETTINGS_MODULE="portico.settings",
    )
    environment.update(overrides)
    return environment


def test_deploy_check_reports_nothing_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


# --- The image's build step and its server, run for real ----------------------------------


def dockerfile_collectstatic() -> tuple[dict[str, str], list[str]]:
    """(variables, argv) of the Dockerfile's collectstatic step."""
    (command,) = [argv for argv in dockerfile_commands() if manage_subcommand(argv)]
    assert manage_subcommand(command) == "collectstatic"
    variables = {}
    while re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", command[0]):
        name, value = command.pop(0).split("=", 1)
        variables[name] = value
    return variables, command


@pytest.fixture(scope="module")
def production_static_root(tmp_path_factory) -> Path:
    """The Dockerfile's collectstatic step, as the build runs it (no .env, so DEBUG is false and
    the storage hashes and compresses), into a folder of this run."""
    static_root = tmp_path_factory.mktemp("production-static")
    variables, argv = dockerfile_collectstatic()
    assert argv[0] == "python"
    result = subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=ROOT,
        env={
            **clean_environment(),
            **variables,
            "DJANGO_SETTINGS_MODULE": "portico.settings",
            "STATIC_ROOT": str(static_root),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return static_root


def python_healthcheck(service: str) -> str:
    argv = as_argv(SERVICES[service]["healthcheck"]["test"])
    assert argv[:2] == ["python", "-c"]
    return argv[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_database_url(db) -> str:
    """DATABASE_URL of the test database, for the other processes (which only read)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path="/" + connection.settings_dict["NAME"]).geturl()


@contextlib.contextmanager
def image_server(environment: dict[str, str]):
    """The image's own command (gunicorn), on a free loopback port; yields the port."""
    port = free_port()
    command = [f"127.0.0.1:{port}" if arg == "0.0.0.0:8000" else arg for arg in dockerfile_cmd()]
    server = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Ready once a worker answers (any status): the port opens before the workers boot.
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(port, "/healthz")
                break
            except OSError:
                assert server.poll() is None, "gunicorn stopped"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET as the reverse proxy in front of the image sends it: the site's host, over HTTPS."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": PRODUCTION["ALLOWED_HOSTS"], "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


HASHED_STATIC = re.compile(r"/static/([^\"'?#\s]+)\.([0-9a-f]{12})\.(css|js)")


def test_image_serves_pages_with_hashed_static_files(served_database_url, production_static_root):
    environment = production_environment(
        DATABASE_URL=served_database_url,
        STATIC_ROOT=str(production_static_root),
        BEHIND_TLS_PROXY="true",
    )
    with image_server(environment) as port:
        status, _, body = fetch(port, "/healthz")
        assert status == 200, body
        assert json.loads(body)["static_files"]["ok"] is True
        for page in ("/login/", "/api/v1/docs/"):
            status, _, body = fetch(port, page)
            assert status == 200, page
            assets = HASHED_STATIC.findall(body.decode())
            assert assets, f"{page} names no hashed static file"
            for name, digest, extension in assets:
                hashed = f"{name}.{digest}.{extension}"
                status, headers, content = fetch(port, f"/static/{hashed}")
                assert status == 200, hashed
                assert content == (production_static_root / hashed).read_bytes()
                # Hashed names never change content: browsers may keep them for good.
                assert "immutable" in headers["Cache-Control"]


def test_healthz_reports_a_missing_static_files_manifest(served_database_url, tmp_path):
    environment = production_environment(
        DATABASE_URL=served_database_url, STATIC_ROOT=str(tmp_path), BEHIND_TLS_PROXY="true"
    )
    with image_server(environment) as port:
        status, _, body = fetch(port, "/healthz")
        assert status == 503
        report = json.loads(body)
        assert report["status"] == "unavailable"
        assert report["database"]["ok"] and report["broker"]["ok"]
        assert report["static_files"]["ok"] is False
        assert "collectstatic" in report["static_files"]["detail"]
        # What the health check warns about: without the manifest no page can name its files.
        assert fetch(port, "/login/")[0] == 500


@pytest.mark.parametrize("behind_tls_proxy", ["true", "false"])
def test_web_healthcheck_passes_host_validation_and_ssl_redirect(
    served_database_url, production_static_root, behind_tls_proxy
):
    environment = production_environment(
        DATABASE_URL=served_database_url,
        BEHIND_TLS_PROXY=behind_tls_proxy,
        STATIC_ROOT=str(production_static_root),
    )
    script = python_healthcheck("web")
    assert "127.0.0.1:8000" in script
    with image_server(environment) as port:
        check = [sys.executable, "-c", script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")]
        # Tried as often as Docker tries it: gunicorn takes connections while its workers may
        # still be loading the application, slowly on a busy machine.
        for _attempt in range(SERVICES["web"]["healthcheck"]["retries"]):
            result = subprocess.run(
                check, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=30
            )
            if result.returncode == 0:
                break
        assert result.returncode == 0, result.stderr
        # The same request without the Host from ALLOWED_HOSTS is refused: the check must send it.
        without_hosts = {**environment, "ALLOWED_HOSTS": ""}
        result = subprocess.run(
            check, cwd=ROOT, env=without_hosts, capture_output=True, text=True, timeout=30
        )
        assert result.returncode != 0


def test_beat_healthcheck_checks_database_and_broker(served_database_url):
    check = [sys.executable, "-c", python_healthcheck("beat")]
    result = subprocess.run(
        check,
        cwd=ROOT,
        env=production_environment(DATABASE_URL=served_database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        check,
        cwd=ROOT,
        env=production_environment(
            DATABASE_URL=served_database_url, REDIS_URL="redis://127.0.0.1:1/0"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
