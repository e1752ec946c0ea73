from django.db.models import QuerySet

from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.models import Notification
from notifications.preferences import Deliveries


def notifications_of(user) -> QuerySet:
    """The person's list: every notification they did not opt out of, newest first."""
    return Notification.objects.filter(recipient=user).exclude(delivery=Delivery.OFF)


def unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def deliveries_of(user) -> dict[str, str]:
    """Kind -> the delivery that applies to the person now (chosen, or by role)."""
    deliveries = Deliveries([user.pk])
    return {kind: deliveries.of(user.pk, kind) for kind in EventKind.values}
