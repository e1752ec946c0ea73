"""Who hears of what, and how: a person's own choice per kind of event, else the most urgent
delivery their roles (core.roles) suggest, else the kind's default."""

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import Group

from core import roles
from notifications.choices import URGENCY
from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.models import NotificationPreference

# Without a role that says otherwise: a daily digest.
KIND_DEFAULTS: dict[str, str] = dict.fromkeys(EventKind.values, Delivery.DAILY) | {
    EventKind.CONTRACT_NOTICE: Delivery.IMMEDIATELY,
    EventKind.IMPROVEMENT: Delivery.WEEKLY,
    # The one who started an import waits for it.
    EventKind.IMPORT: Delivery.IMMEDIATELY,
}

# role -> kind -> delivery: what each role is likely to act on at once.
ROLE_DEFAULTS: dict[str, dict[str, str]] = {
    roles.PORTFOLIO_MANAGER: {EventKind.MATURITY_MISMATCH: Delivery.IMMEDIATELY},
    roles.SERVICE_OWNER: {
        EventKind.TARGET: Delivery.DAILY,
        EventKind.OUTCOME_AT_RISK: Delivery.IMMEDIATELY,
    },
    roles.VALUE_STREAM_OWNER: {EventKind.IMPROVEMENT: Delivery.DAILY},
    roles.FINANCE: {
        EventKind.TCO_CHANGE: Delivery.DAILY,
        EventKind.FINANCE_FAILURE: Delivery.IMMEDIATELY,
    },
    # A viewer reads along once a week, but a notice deadline does not wait a week.
    roles.VIEWER: dict.fromkeys(EventKind.values, Delivery.WEEKLY)
    | {EventKind.CONTRACT_NOTICE: Delivery.IMMEDIATELY},
}


def most_urgent(deliveries: Iterable[str]) -> str | None:
    ranked = sorted(deliveries, key=URGENCY.index)
    return ranked[0] if ranked else None


def default_delivery(kind: str, role_names: Iterable[str]) -> str:
    suggested = [ROLE_DEFAULTS.get(role, {}).get(kind) for role in role_names]
    return most_urgent(d for d in suggested if d) or KIND_DEFAULTS[kind]


class Deliveries:
    """Every delivery of the given people, read in two queries."""

    def __init__(self, user_ids: Iterable[int]):
        ids = set(user_ids)
        self.roles: dict[int, list[str]] = defaultdict(list)
        memberships = Group.user_set.through.objects.filter(user_id__in=ids)
        for user_id, name in memberships.values_list("user_id", "group__name"):
            self.roles[user_id].append(name)
        self.chosen = {
            (user_id, kind): delivery
            for user_id, kind, delivery in NotificationPreference.objects.filter(
                user_id__in=ids
            ).values_list("user_id", "kind", "delivery")
        }

    def of(self, user_id: int, kind: str) -> str:
        chosen = self.chosen.get((user_id, kind))
        return chosen or default_delivery(kind, self.roles[user_id])
