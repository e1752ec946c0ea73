"""Delivery of the outbox, at least once and in practice once.

A message is claimed in a transaction of its own (SELECT … FOR UPDATE SKIP LOCKED: two
workers never claim the same one), sent, and marked sent once the SMTP server has accepted
it. A worker that dies after its claim leaves the message claimed; once the claim is older
than PORTICO_OUTBOX_LEASE_SECONDS another worker claims it again. So nothing is lost. One
window remains: a worker killed after the server accepted the message and before it recorded
that (milliseconds) makes the message go out a second time after the lease; the message keeps
its Message-ID across attempts, so a mail client can recognise the copy. Refusals and network
errors are retried with a doubling delay, up to PORTICO_OUTBOX_MAX_ATTEMPTS attempts.
"""

import datetime
import logging
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F
from django.db.models import Q
from django.utils import timezone

from notifications.choices import MessageStatus
from notifications.models import OutboxMessage

logger = logging.getLogger(__name__)


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PORTICO_OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> datetime.timedelta:
    """A minute after the first failure, doubling, at most an hour."""
    return datetime.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def claim(*, batch: int = 1) -> list[OutboxMessage]:
    """Up to ``batch`` messages due (or claimed by a worker whose lease ran out), claimed in
    one transaction."""
    now = timezone.now()
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=MessageStatus.PENDING, available_at__lte=now)
                | Q(status=MessageStatus.CLAIMED, claimed_at__lt=now - lease())
            )
            .order_by("available_at", "pk")[:batch]
        )
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            status=MessageStatus.CLAIMED, claimed_at=now, attempts=F("attempts") + 1
        )
    for message in messages:
        message.status, message.claimed_at = MessageStatus.CLAIMED, now
        message.attempts += 1
    return messages


def message_id(message: OutboxMessage) -> str:
    host = urlsplit(settings.PORTICO_SITE_URL).hostname or "localhost"
    return f"<portico-outbox-{message.pk}@{host}>"


def email_of(message: OutboxMessage, connection) -> EmailMultiAlternatives:
    """The e-mail, a plain-text part and an HTML one, under the same Message-ID each time."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[message.to],
        connection=connection,
        headers={"Message-ID": message_id(message)},
    )
    email.attach_alternative(message.html, "text/html")
    return email


def send(message: OutboxMessage, connection) -> bool:
    """Send one claimed message; record the result under this claim. Whether it went."""
    email = email_of(message, connection)
    mine = OutboxMessage.objects.filter(
        pk=message.pk, status=MessageStatus.CLAIMED, claimed_at=message.claimed_at
    )
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as exc:
        connection.close()
        given_up = message.attempts >= settings.PORTICO_OUTBOX_MAX_ATTEMPTS
        mine.update(
            status=MessageStatus.FAILED if given_up else MessageStatus.PENDING,
            available_at=timezone.now() + backoff(message.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.warning("Could not send %s (attempt %s): %s", message, message.attempts, exc)
        return False
    mine.update(status=MessageStatus.SENT, sent_at=timezone.now(), last_error="")
    return True


def deliver_due(*, limit: int = 1000, batch: int = 20) -> int:
    """Send the messages due, up to ``limit``, claimed ``batch`` at a time, over one SMTP
    connection; the number sent. The connection's timeout keeps a batch well within the
    lease, so a slow server cannot keep a claim past it while another worker takes the
    message over."""
    sent = tried = 0
    timeout = max(settings.PORTICO_OUTBOX_LEASE_SECONDS // (3 * batch), 1)
    connection = get_connection(timeout=timeout)
    try:
        connection.open()  # one session for the run; a send opens its own if this fails
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Could not connect to the mail server: %s", exc)
    try:
        while tried < limit:
            messages = claim(batch=min(batch, limit - tried))
            if not messages:
                break
            tried += len(messages)
            sent += sum(send(message, connection) for message in messages)
    finally:
        connection.close()
    return sent
