"""A bulk sync writes rows with SQL, so the bookkeeping the services do after a single write
runs here, once per batch, when core.api.sync.rows_synced reports the rows written: the
standing of the items and outcomes whose figures changed, and the target history of items and
outcomes whose target or comparator changed."""

from core.api.sync import rows_synced
from performance import services
from performance.models import Measurement
from portfolio.models import Outcome
from portfolio.models import SpecificationItem


def after_sync(sender, changes=(), **kwargs) -> None:
    if sender is Measurement:
        services.refresh_standing_of_rows(row for pair in changes for row in pair)
    elif sender in (SpecificationItem, Outcome):
        services.record_target_changes(sender, list(changes))


def connect() -> None:
    rows_synced.connect(after_sync, dispatch_uid="performance-after-sync")
