"""The digest run: 2,000 people's daily digests gathered and mailed to a local SMTP server."""

import socket
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications import outbox
from notifications import services
from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.choices import MessageStatus
from notifications.models import Notification
from notifications.models import OutboxMessage

TITLE = "Notification digests"
DESCRIPTION = (
    "2,000 people with 5 notifications each waiting for their daily digest (10,000 "
    "notifications). The digest run gathers them (`notifications.services.build_digests`: one "
    "message per person, plain text and HTML, in one transaction) and the outbox sends every "
    "message (`notifications.outbox.deliver_due`: claimed twenty at a time, each sent and "
    "marked sent on its own, over one SMTP session) to a local SMTP server (aiosmtpd) over "
    "loopback."
)

PEOPLE = 2_000
PER_PERSON = 5
TARGET_SECONDS = 60


def start_sink(port: int) -> subprocess.Popen:
    """aiosmtpd's own server in a process of its own, accepting and dropping every message."""
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
         "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            if sink.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The SMTP server did not start.") from None
            time.sleep(0.1)


def run(bench) -> None:
    people = max(10, round(PEOPLE * bench.scale))
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"digest-{n}", email=f"digest-{n}@example.org") for n in range(people)
    )
    now = timezone.now()
    kinds = list(EventKind.values)
    Notification.objects.bulk_create(
        (
            Notification(
                recipient=user,
                kind=kinds[n % len(kinds)],
                event_key=f"bench:{user.pk}:{n}",
                subject=f"Event {n} for {user.username}",
                body="Something worth a line in the digest happened to a record you look after.",
                path=f"/services/service-{n}/",
                delivery=Delivery.DAILY,
                created_at=now,
            )
            for user in users
            for n in range(PER_PERSON)
        ),
        batch_size=2_000,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = start_sink(port)
    saved = {
        name: getattr(settings, name)
        for name in ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL")
    }
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        started = time.perf_counter()
        made = services.build_digests(frequency=Delivery.DAILY, today=timezone.localdate())
        gathered = time.perf_counter() - started
        sent = outbox.deliver_due(limit=people + 1)
        total = time.perf_counter() - started
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        sink.terminate()
        sink.wait(timeout=30)
    if not made == sent == people:
        raise RuntimeError(f"{people} digests expected: {made} made, {sent} sent.")
    if OutboxMessage.objects.exclude(status=MessageStatus.SENT).exists():
        raise RuntimeError("A digest was left unsent.")
    bench.figure(
        f"Gathering {people:,} daily digests of {PER_PERSON} notifications each",
        f"{gathered:.1f} s",
    )
    bench.figure(
        f"Digest run for {people:,} people: gathered and mailed over SMTP",
        f"{total:.1f} s",
        target=f"< {TARGET_SECONDS} s",
        met=total < TARGET_SECONDS,
    )
