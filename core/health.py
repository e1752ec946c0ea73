"""Liveness of the two services Portico cannot work without."""

from django.db import connection

from portico.celery import app as celery_app


def database_state() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not answering"
        return False, f"{type(exc).__name__}: {exc}"
    return True, "ok"


def broker_state() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any failure means "not answering"
        return False, f"{type(exc).__name__}: {exc}"
    return True, "ok"
