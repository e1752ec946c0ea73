"""Fixtures of the multi-node tests: a Topology of real processes pointed at the test
database (the test needs ``transaction=True`` so they see its committed rows) and at a Redis
server of the test's own."""

import os
from urllib.parse import quote

import pytest
from django.conf import settings

from portico import env
from tests.multinode.processes import Topology

# Queues of their own for roll-ups and reports, as deploy/kubernetes runs them.
ROLLUP_QUEUE = "rollups"
REPORT_QUEUE = "reports"


def served_database_url() -> str:
    """DATABASE_URL of the test database (pytest-django's, not the one configured)."""
    database = settings.DATABASES["default"]
    password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
    return (
        f"postgresql://{quote(database['USER'], safe='')}{password}@{database['HOST']}:"
        f"{database['PORT']}/{database['NAME']}"
    )


@pytest.fixture
def topology(tmp_path):
    """``Topology`` whose processes share the test database, a private Redis and production
    settings (DEBUG off); every process still running at the end is stopped."""
    # Nothing Portico reads is inherited from the test run but what is set here.
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in env.VARIABLES and name != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    started = Topology(tmp_path, inherited)
    try:
        _redis, redis_url = started.redis()
        started.wait_ready(_redis)
        started.environment |= {
            "DJANGO_SETTINGS_MODULE": "portico.settings",
            "DATABASE_URL": served_database_url(),
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "INFO",
            "EMAIL_BACKEND": "console",
            "STATIC_ROOT": str(settings.STATIC_ROOT),
            "CELERY_ROLLUP_QUEUE": ROLLUP_QUEUE,
            "CELERY_REPORT_QUEUE": REPORT_QUEUE,
        }
        yield started
    finally:
        started.stop()
