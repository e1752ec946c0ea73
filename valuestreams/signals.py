"""A process's layer follows its stages' Moments of Truth and its connections, and a process
keeps only stages of its own value stream. The services see to both after each single write;
a bulk sync writes rows with SQL, so the same services functions run here, once per batch,
when core.api.sync.rows_synced reports the rows written."""

from core.api.sync import rows_synced
from valuestreams import services
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import ValueStream

# A stream's customer decides whether its stages' contacts are Moments of Truth.
LAYER_INPUTS = (ValueStream, Stage, Process, ProcessConnection)


def relayer_after_sync(sender, changes=(), **kwargs) -> None:
    if sender is Process:
        moved = [
            after["id"]
            for before, after in changes
            if before and after and before["value_stream_id"] != after["value_stream_id"]
        ]
        if moved:
            services.keep_stages_of_own_stream(moved)
    if sender in LAYER_INPUTS:
        services.recompute_process_layers()


def connect() -> None:
    rows_synced.connect(relayer_after_sync, dispatch_uid="valuestreams-relayer-sync")
