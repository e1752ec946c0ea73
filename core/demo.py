"""Demo people of the fictional organisation, one per role, all with the demo password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles

DEMO_PASSWORD = "portico-demo"

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
