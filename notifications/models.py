"""Notifications: one row per event and person (the in-app list), their e-mails in an outbox
that survives a worker's death, and each person's choice of delivery per kind of event."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.choices import MessageStatus


class NotificationPreference(models.Model):
    """A person's own choice for one kind of event (without one, their roles decide)."""

    # CASCADE: a choice means nothing without its person.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_choices"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    delivery = models.CharField(max_length=15, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_choice_unique")
        ]

    def __str__(self):
        return f"{self.user}: {self.get_kind_display()} {self.get_delivery_display()}"


class OutboxMessage(models.Model):
    """An e-mail to send: claimed in one transaction, marked sent once the SMTP server
    accepted it (notifications.outbox has the delivery rules)."""

    # One message per notification ("notification:<id>") or digest
    # ("digest:daily:<user>:<day>", "digest:weekly:<user>:<iso week>"): never two.
    key = models.CharField(max_length=100, unique=True)
    # CASCADE: a departed person's unsent mail goes with them.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    to = models.EmailField()
    subject = models.CharField(max_length=250)
    text = models.TextField()
    html = models.TextField()
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["available_at", "pk"]
        indexes = [
            models.Index(
                fields=["status", "available_at"],
                condition=Q(status__in=[MessageStatus.PENDING, MessageStatus.CLAIMED]),
                name="outbox_due",
            )
        ]

    def __str__(self):
        return f"{self.subject} to {self.to}"


class Notification(models.Model):
    """One event told to one person: shown in their list, e-mailed as they chose."""

    # CASCADE: the list is the person's own.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    # What happened, as one key per event (e.g. "contract-notice:12:2027-03-31:30").
    event_key = models.CharField(max_length=200)
    subject = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    path = models.CharField(max_length=500)  # the record's page, under PORTICO_SITE_URL
    delivery = models.CharField(max_length=15, choices=Delivery.choices)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # SET_NULL: a message cleaned away leaves the notification in the list.
    message = models.ForeignKey(
        OutboxMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient"], name="notification_once_per_event_and_person"
            )
        ]
        indexes = [
            models.Index(
                fields=["delivery", "recipient"],
                condition=Q(message__isnull=True),
                name="notification_awaiting_digest",
            ),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self):
        return self.subject
