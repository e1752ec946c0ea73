"""Liveness of the two services Portico cannot work without, and of the static files manifest
every page needs in production."""

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.contrib.staticfiles.storage import staticfiles_storage
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


def static_files_state() -> tuple[bool, str]:
    """With the manifest storage every {% static %} looks its file up in the manifest this
    process loaded at start: without one, every page answers 500."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return True, "no manifest in use"
    if not staticfiles_storage.hashed_files:
        return False, (
            f"no static files manifest ({staticfiles_storage.manifest_name} in STATIC_ROOT):"
            " run collectstatic, then restart"
        )
    return True, "ok"
