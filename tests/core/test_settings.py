import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/portico",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SECRET_KEY": "x" * 20 + "abcdefghijklmnopqrstuvwxyz0123456789",
    "DEBUG": "false",
}


def load_settings(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in GOOD and not k.startswith("EMAIL_")}
    env.update(GOOD)
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "portico.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_settings_load_with_good_environment():
    result = load_settings()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", None, "DATABASE_URL is required"),
        ("DATABASE_URL", "mysql://localhost/portico", "DATABASE_URL must be a URL"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT must be a whole number"),
        ("PORTICO_CURRENCY", "euro", "PORTICO_CURRENCY must be a three-letter"),
        (
            "PORTICO_CURRENCY",
            "XYZ",
            "PORTICO_CURRENCY must be an ISO 4217 currency code: XYZ is not an ISO 4217 "
            "currency code.",
        ),
        ("PORTICO_PERIOD_YEARS_BACK", "-1", "PORTICO_PERIOD_YEARS_BACK must be at least 0"),
        ("PORTICO_PERIOD_YEARS_AHEAD", "five", "PORTICO_PERIOD_YEARS_AHEAD must be a whole"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA time zone"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 50 characters"),
        ("CELERY_BROKER_URL", "kafka://x", "CELERY_BROKER_URL must be a URL"),
        ("PORTICO_SITE_URL", "portico.example.org", "PORTICO_SITE_URL must be a URL"),
        ("PORTICO_NOTICE_DAYS", "90;30", "PORTICO_NOTICE_DAYS must be whole numbers separated"),
        ("PORTICO_NOTICE_DAYS", "90,0", "PORTICO_NOTICE_DAYS: each number must be at least 1"),
        ("PORTICO_OUTBOX_LEASE_SECONDS", "1", "PORTICO_OUTBOX_LEASE_SECONDS must be at least 3"),
    ],
)
def test_settings_bad_value_names_the_variable(variable, value, message):
    result = load_settings(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_settings_missing_broker_is_refused():
    result = load_settings(REDIS_URL=None, CELERY_BROKER_URL=None)
    assert "CELERY_BROKER_URL (or REDIS_URL) is required" in result.stderr
