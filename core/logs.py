"""Logging filters of the settings' LOGGING."""

import logging

from django.core.exceptions import PermissionDenied


class ExpectedRefusals(logging.Filter):
    """A refused request (PermissionDenied, answered 403) is logged by Django with the
    exception's traceback: an expected answer, not a fault. Its record keeps one line, with
    the reason given."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = record.exc_info[1] if record.exc_info else None
        if getattr(record, "status_code", None) == 403 and isinstance(refused, PermissionDenied):
            reason = " ".join(str(refused).split())
            record.msg = record.getMessage() + (f" ({reason})" if reason else "")
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
