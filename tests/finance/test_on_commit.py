"""The recompute scheduling reads Django's private list of on-commit callbacks through one
helper (finance.services.recompute.waiting_for_commit). These tests pin the shape of that
list, so a Django upgrade that changes it fails here rather than misleads the scheduler."""

import pytest
from django.db import transaction

from finance import services
from finance.services.recompute import PendingRecompute
from finance.services.recompute import waiting_for_commit

pytestmark = pytest.mark.django_db


class Marker:
    def __call__(self):
        pass


def test_run_on_commit_holds_savepoint_ids_callback_and_robust_flag():
    connection = transaction.get_connection()
    kept, dropped, other = Marker(), Marker(), Marker()
    with transaction.atomic():
        before = len(connection.run_on_commit)
        transaction.on_commit(kept, robust=True)
        with pytest.raises(RuntimeError), transaction.atomic():
            transaction.on_commit(dropped)
            raise RuntimeError("rolled back: its callbacks go with it")
        with transaction.atomic():
            transaction.on_commit(other)
            current_savepoint = connection.savepoint_ids[-1]
            entries = connection.run_on_commit[before:]
            assert [type(entry) for entry in entries] == [tuple, tuple]
            assert [len(entry) for entry in entries] == [3, 3]
            (kept_ids, kept_callback, kept_robust), (other_ids, other_callback, other_robust) = (
                entries
            )
            assert isinstance(kept_ids, set) and isinstance(other_ids, set)
            assert current_savepoint in other_ids and current_savepoint not in kept_ids
            assert (kept_callback, kept_robust) == (kept, True)
            assert (other_callback, other_robust) == (other, False)
            assert waiting_for_commit(Marker)[-2:] == [kept, other]
            assert dropped not in waiting_for_commit(Marker)


def test_waiting_for_commit_finds_the_transaction_s_pending_recompute(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        services.request_recompute(period_id=None)
        services.request_recompute(period_id=None)
        pending = waiting_for_commit(PendingRecompute)
        assert len(pending) == 1 and pending[0].all_periods
        services.discard_scheduled_recompute()
        assert pending[0].done
    assert callbacks == pending
