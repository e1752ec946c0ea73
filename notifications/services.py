"""Writes of the notifications app: recording events as notifications (once per event and
person), gathering digests, reading and choosing. Delivery is in notifications.outbox."""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils import translation

from core.translations import original_language
from core.translations import preferred_language
from core.translations import with_preferred_language
from finance.services.outbox import queue_task
from notifications import messages
from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.detection import Event
from notifications.models import Notification
from notifications.models import NotificationPreference
from notifications.models import OutboxMessage
from notifications.preferences import Deliveries

DELIVER_TASK = "notifications.tasks.deliver_outbox"


def record_events(events: Iterable[Event]) -> list[Notification]:
    """One notification per event and person, with the delivery the person chose; a
    notification to send at once gets its message in the same transaction. An event already
    recorded for a person is skipped (the unique key decides, even between concurrent runs).
    Each person's texts are in the language they chose (people.Profile.language), so their
    digests are too. The new notifications."""
    events = list(events)
    recipients = {pk for event in events for pk in event.recipients}
    users = with_preferred_language(
        get_user_model().objects.filter(pk__in=recipients, is_active=True)
    ).in_bulk()
    deliveries = Deliveries(users)
    now = timezone.now()
    made: list[Notification] = []
    with transaction.atomic():
        for event in events:
            for user_id in sorted(event.recipients):
                user = users.get(user_id)
                if user is None:
                    continue
                with translation.override(preferred_language(user) or original_language()):
                    subject, body = event.texts()
                notification, created = Notification.objects.get_or_create(
                    event_key=event.key,
                    recipient=user,
                    defaults={
                        "kind": event.kind,
                        "subject": subject[:250],
                        "body": body,
                        "path": event.path,
                        "delivery": deliveries.of(user_id, event.kind),
                        "created_at": now,
                    },
                )
                if not created:
                    continue
                made.append(notification)
                if notification.delivery == Delivery.IMMEDIATELY and user.email:
                    notification.message = OutboxMessage.objects.create(
                        key=f"notification:{notification.pk}",
                        recipient=user,
                        to=user.email,
                        available_at=now,
                        created_at=now,
                        **messages.compose(subject=subject[:250], notifications=[notification]),
                    )
                    notification.save(update_fields=["message"])
        if any(n.message_id for n in made):
            queue_task(task=DELIVER_TASK)
    return made


def digest_key(frequency: str, user_id: int, today: datetime.date) -> str:
    if frequency == Delivery.WEEKLY:
        year, week, _ = today.isocalendar()
        return f"digest:weekly:{user_id}:{year}-W{week:02d}"
    return f"digest:daily:{user_id}:{today.isoformat()}"


def build_digests(*, frequency: str, today: datetime.date) -> int:
    """Gather every notification waiting for a ``frequency`` digest into one message per
    person: one daily digest per person and day, one weekly per person and ISO week (a rerun
    finds the notifications taken and the keys used). Notifications another run is gathering
    are skipped, not waited for. The number of digests made."""
    now = timezone.now()
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(delivery=frequency, message__isnull=True)
            .exclude(recipient__email="")
            .select_related("recipient")
            .order_by("recipient_id", "created_at", "pk")
        )
        by_person: dict[int, list[Notification]] = defaultdict(list)
        for notification in waiting:
            by_person[notification.recipient_id].append(notification)
        keys = {user_id: digest_key(frequency, user_id, today) for user_id in by_person}
        used = set(
            OutboxMessage.objects.filter(key__in=keys.values()).values_list("key", flat=True)
        )
        label = Delivery(frequency).label
        digests = []
        for user_id, notifications in by_person.items():
            if keys[user_id] in used:
                continue  # this period's digest is gone: the rest waits for the next one
            count = len(notifications)
            subject = f"Portico {label.lower()}: {count} notification{'s' * (count != 1)}"
            digests.append(
                OutboxMessage(
                    key=keys[user_id],
                    recipient_id=user_id,
                    to=notifications[0].recipient.email,
                    available_at=now,
                    created_at=now,
                    **messages.compose(subject=subject, notifications=notifications, digest=label),
                )
            )
        OutboxMessage.objects.bulk_create(digests, batch_size=500)
        taken = []
        for message in digests:
            for notification in by_person[message.recipient_id]:
                notification.message = message
                taken.append(notification)
        Notification.objects.bulk_update(taken, ["message"], batch_size=1000)
        if digests:
            queue_task(task=DELIVER_TASK)
    return len(digests)


def mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's own notifications read (all unread ones when no ids are given)."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True).exclude(
        delivery=Delivery.OFF
    )
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def save_preferences(*, user, choices: dict[str, str]) -> None:
    """Store the person's delivery for each kind named in ``choices``."""
    with transaction.atomic():
        for kind, delivery in choices.items():
            EventKind(kind), Delivery(delivery)  # named values only
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"delivery": delivery}
            )
