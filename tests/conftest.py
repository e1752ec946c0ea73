import os

# Playwright's sync API keeps an event loop on the main thread; Django would then refuse ORM
# calls in browser tests and every test after them. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest

from tests.factories import UserFactory


@pytest.fixture(scope="session", autouse=True)
def _collected_static_files():
    """Tests serve static files as production does: collected, hashed, through WhiteNoise."""
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis():
    """Celery leaves bindings and results behind in the test Redis database: start clean."""
    import redis
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("redis"):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


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
