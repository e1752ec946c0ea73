"""A process's layer follows its stages' Moments of Truth and its connections. The services
re-layer after each single write; a bulk sync writes rows with SQL, so it is re-layered here,
once per batch, when core.api.sync.rows_synced reports the rows written."""

from core.api.sync import rows_synced
from valuestreams import services
from valuestreams.models import Process, ProcessConnection, Stage

LAYER_INPUTS = (Stage, Process, ProcessConnection)


def relayer_after_sync(sender, **kwargs) -> None:
    if sender in LAYER_INPUTS:
        services.recompute_process_layers()


def connect() -> None:
    rows_synced.connect(relayer_after_sync, dispatch_uid="valuestreams-relayer-sync")
