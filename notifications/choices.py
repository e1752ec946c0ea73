from django.db import models


class EventKind(models.TextChoices):
    """What a person can be told about (docs/notifications.md names who hears of each)."""

    CONTRACT_NOTICE = "contract_notice", "Contract notice due"
    ATTESTATION = "attestation", "Attestation due or broken"
    TARGET = "target", "Target missed or stale"
    OUTCOME_AT_RISK = "outcome_at_risk", "Outcome at risk"
    IMPROVEMENT = "improvement", "Improvement accepted, rejected or done"
    MATURITY_MISMATCH = "maturity_mismatch", "New maturity mismatch"
    TCO_CHANGE = "tco_change", "Service TCO changed between months"
    FINANCE_FAILURE = "finance_failure", "TCO run or report failed"
    IMPORT = "import", "Import previewed, committed or failed"


class Delivery(models.TextChoices):
    IMMEDIATELY = "immediately", "Immediately"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"
    OFF = "off", "Not at all"


# The more urgent of two deliveries wins when a person's roles suggest different ones.
URGENCY = (Delivery.IMMEDIATELY, Delivery.DAILY, Delivery.WEEKLY, Delivery.OFF)
DIGESTS = (Delivery.DAILY, Delivery.WEEKLY)


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    CLAIMED = "claimed", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Given up"
