"""Demo people of the fictional organisation, one per role, all with the demo password, and
what the apps' demos share: the source of their records, the people they refer to, and a
loader that creates each record only when it is missing."""

from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles

DEMO_PASSWORD = "portico-demo"
# The source of every demo record; each has a stable external id under it.
SOURCE = "demo"

# username, first name, last name, role
DEMO_USERS = (
    ("demo", "Dana", "Demo", roles.PORTFOLIO_MANAGER),
    ("alice", "Alice", "Andersen", roles.SERVICE_OWNER),
    ("bob", "Bob", "Bakker", roles.SERVICE_OWNER),
    ("carla", "Carla", "Costa", roles.SERVICE_OWNER),
    ("vera", "Vera", "Visser", roles.VALUE_STREAM_OWNER),
    ("walter", "Walter", "Weber", roles.VALUE_STREAM_OWNER),
    ("fiona", "Fiona", "Fischer", roles.FINANCE),
    ("victor", "Victor", "Vogel", roles.VIEWER),
)


def load(*, stdout) -> None:
    User = get_user_model()
    created = 0
    for username, first, last, role in DEMO_USERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.org",
                "is_staff": role == roles.PORTFOLIO_MANAGER,
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            created += 1
    stdout.write(f"Demo people: {created} created, {len(DEMO_USERS) - created} already there.")
    stdout.write(
        f"Demo login: username 'demo', password '{DEMO_PASSWORD}' (Portfolio manager); "
        f"every other demo person ({', '.join(u[0] for u in DEMO_USERS[1:])}) "
        "has the same password."
    )


def demo_people(usernames: Iterable[str]) -> dict[str, Any]:
    """The demo people an app's demo refers to, by username; they must be loaded already."""
    names = set(usernames)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    missing = sorted(names - set(users))
    if missing:
        raise RuntimeError(f"Demo people missing: {', '.join(missing)}. Load core.demo first.")
    return users


class RecordLoader:
    """Creates each demo record unless one with its (source, external id) exists already.

    The existing demo records of a model are read once, so a second load costs one query per
    model and writes nothing.
    """

    def __init__(self) -> None:
        self.created: Counter = Counter()
        self.kept = 0
        self._existing: dict[type, dict[str, Any]] = {}

    def ensure(self, model, external_id: str, create: Callable[..., Any], *args):
        """The demo record keyed ``external_id``, made by ``create(external_id, *args)`` if
        there is none yet."""
        existing = self._existing.get(model)
        if existing is None:
            existing = self._existing[model] = {
                obj.external_id: obj for obj in model.objects.filter(source=SOURCE)
            }
        obj = existing.get(external_id)
        if obj is not None:
            self.kept += 1
            return obj
        obj = existing[external_id] = create(external_id, *args)
        self.created[model._meta.verbose_name_plural] += 1
        return obj

    def summary(self, title: str) -> str:
        """What a load made, by kind of record, and how many were there already."""
        total = sum(self.created.values())
        detail = ", ".join(f"{count} {name}" for name, count in self.created.items())
        return (
            f"{title}: {total} created{f' ({detail})' if detail else ''}, "
            f"{self.kept} already there."
        )
