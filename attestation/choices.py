from django.db import models


class AttestationStatus(models.TextChoices):
    """Where a record stands with its owner's confirmation (attestation.selectors)."""

    ATTESTED = "attested", "Attested"
    DUE = "due", "Due"
    CHECK_NEEDED = "check_needed", "Check needed"
    NEVER_ATTESTED = "never_attested", "Never attested"
