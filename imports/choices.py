from django.db import models


class RunState(models.TextChoices):
    """Where an import run is: nothing is written before ``committing``."""

    UPLOADED = "uploaded", "Uploaded: map the columns"
    PREVIEWING = "previewing", "Preview running"
    PREVIEWED = "previewed", "Previewed: ready to commit"
    COMMITTING = "committing", "Commit running"
    COMMITTED = "committed", "Committed"
    FAILED = "failed", "Failed"


class RunMode(models.TextChoices):
    UPSERT = "upsert", "Upsert: add and update, retire nothing"
    FULL = "full", "Full: also retire what the source no longer holds"


# The states in which a task is working on the run: its page polls for progress.
WORKING = (RunState.PREVIEWING, RunState.COMMITTING)
