import os
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

# Playwright's sync API keeps an event loop on the main thread; Django would then refuse ORM
# calls in browser tests and every test after them. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest

from tests.factories import UserFactory
from tests.factories.cloud import sample_rules  # noqa: F401 (the cloud tests' fixture)
from tests.factories.ledger import ledger_rules  # noqa: F401 (the ledger tests' fixture)
from tests.views import view_people  # noqa: F401 (the view tests' fixture)


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory):
    """Settings for the whole run, before anything uses them.

    Static files are collected into a folder of this run (WhiteNoise serves them) under their
    plain names, so live_server (browser tests) finds them too; the hashed manifest storage is
    proven by the deployment tests. WhiteNoise looks static files up when asked for them: by
    default it reads the whole static folder whenever its middleware is made, and the test
    client makes the middleware anew for every test. Passwords use a fast hasher: Argon2 is
    slow on purpose, and one test checks that it is what production uses.
    """
    from django.conf import settings
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A reused test database may have lost the roles to a transactional test's flush."""
    from core.roles import ensure_roles

    with django_db_blocker.unblock():
        ensure_roles()


@pytest.fixture(scope="session", autouse=True)
def _flush_by_deleting_rows():
    """Transactional tests (browser, real worker) empty every table after each test. Django does
    it with one TRUNCATE of all the tables, which makes PostgreSQL replace the files of each
    table and index: about two seconds a test here. Their few rows are deleted instead, in one
    transaction (foreign keys are checked at its end); the tables are as empty either way."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables]
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis(worker_id):
    """Celery leaves bindings and results behind in the test Redis database: start clean.

    Parallel test processes (pytest-xdist) each have a database of their own (pytest-django
    suffixes its name) and a Redis database of their own: the first process keeps the one
    configured, the next ones count down from it, so that no process's worker takes another's
    tasks or flushes its queue.
    """
    import redis
    from django.conf import settings

    from portico.celery import app

    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return
    if worker_id != "master":
        parts = urlsplit(url)
        number = int(parts.path.strip("/") or 0) - int(worker_id.removeprefix("gw"))
        if number < 0:
            raise RuntimeError(
                f"Not enough Redis databases below {url} for test process {worker_id}"
            )
        url = urlunsplit(parts._replace(path=f"/{number}"))
        settings.CELERY_BROKER_URL = settings.REDIS_URL = url
        app.conf.broker_url = url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def celery_eager():
    from portico.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


@pytest.fixture
def portfolio_manager(db):
    return UserFactory(username="pm", role="Portfolio manager")


@pytest.fixture
def service_owner(db):
    return UserFactory(username="owner", role="Service owner")


@pytest.fixture
def other_owner(db):
    return UserFactory(username="other-owner", role="Service owner")


@pytest.fixture
def value_stream_owner(db):
    return UserFactory(username="vso", role="Value-stream owner")


@pytest.fixture
def finance_user(db):
    return UserFactory(username="finance", role="Finance")


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", role="Viewer")
