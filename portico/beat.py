"""One beat schedules, however many run (settings.CELERY_BEAT_SCHEDULER).

SingleBeatScheduler is django-celery-beat's DatabaseScheduler that sends due tasks only while
it holds the beat lock, a PostgreSQL session advisory lock on a connection of its own. Every
other beat stands by and tries again each loop; when the holder stops, or dies and the
server ends its session, one of them takes the lock, reads the schedule afresh from the
database and carries on. Beats can then run on several nodes without any task being sent
twice by two of them.
"""

import datetime
import logging

from django.db import connection
from django_celery_beat.schedulers import SCHEDULE_SYNC_MAX_INTERVAL
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# The keys of the beat lock (pg_advisory_lock(BEAT_LOCK, 0)); the roll-up locks use others.
BEAT_LOCK = 7_314_002


class SingleBeatScheduler(DatabaseScheduler):
    _lock_connection = None
    _standing_by = False

    def tick(self, *args, **kwargs):
        if not self.holds_lock():
            return self.max_interval
        return super().tick(*args, **kwargs)

    def holds_lock(self) -> bool:
        """Whether this beat schedules: it holds the lock, or has just taken it."""
        if self._lock_connection is not None:
            try:
                self._lock_connection.execute("SELECT 1")
                return True
            except Exception as exc:  # the session, and the lock with it, is gone
                logger.warning("Beat lost the beat lock with its database session: %s", exc)
                self._release()
        lock_connection = connection.get_new_connection(connection.get_connection_params())
        lock_connection.autocommit = True
        taken = lock_connection.execute(
            "SELECT pg_try_advisory_lock(%s, 0)", [BEAT_LOCK]
        ).fetchone()[0]
        if not taken:
            lock_connection.close()
            if not self._standing_by:
                logger.info("Another beat holds the beat lock: standing by.")
                self._standing_by = True
            return False
        self._lock_connection, self._standing_by = lock_connection, False
        logger.info("Beat took the beat lock: this beat schedules.")
        # What the previous holder sent is in the database, not in this beat's memory.
        self._last_full_sync = datetime.datetime.now() - datetime.timedelta(
            seconds=SCHEDULE_SYNC_MAX_INTERVAL
        )
        return True

    def close(self):
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock_connection is not None:
            try:
                self._lock_connection.close()  # ends the session, and with it the lock
            finally:
                self._lock_connection = None
