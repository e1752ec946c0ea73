"""Delivery through a real Celery worker and a real SMTP server: each notification is mailed
once, a rerun mails nothing, an opted-out person gets nothing, and a worker killed in the
middle of a delivery loses and duplicates nothing. The one window in which a copy can go out
(after the server accepted, before the sent mark) is shown with its shared Message-ID."""

import datetime
import threading
import time

import pytest
from django.db.models import F
from django.utils import timezone

from core.roles import ensure_roles
from notifications import detection
from notifications import outbox
from notifications import services
from notifications import tasks
from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.choices import MessageStatus
from notifications.models import Notification
from notifications.models import OutboxMessage
from tests.factories import UserFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import SupplierFactory
from tests.notifications.conftest import LEASE_SECONDS
from tests.notifications.conftest import SITE_URL

DEADLINE = datetime.date(2027, 4, 1)  # renewal on 30 June 2027, 90 days' notice
NINETY_DAYS_BEFORE = DEADLINE - datetime.timedelta(days=90)
THIRTY_DAYS_BEFORE = DEADLINE - datetime.timedelta(days=30)
WAIT_SECONDS = 90

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def make_contract():
    ensure_roles()  # a transactional test before this one may have emptied the roles
    supplier = SupplierFactory(owner=UserFactory(username="supplier-owner", role="Viewer"))
    return ContractFactory(
        supplier=supplier,
        renewal_date=datetime.date(2027, 6, 30),
        owner=UserFactory(username="contract-owner", role="Service owner"),
    )


def run(worker, task, **kwargs) -> None:
    """Send ``task`` to the worker and wait until it has finished it."""
    sent = task.apply_async(kwargs=kwargs, queue=worker.queue)
    deadline = time.monotonic() + WAIT_SECONDS
    while f"[{sent.id}] succeeded" not in worker.log.read_text():
        assert time.monotonic() < deadline, worker.log.read_text()
        time.sleep(0.2)


def recipients(inbox) -> list[str]:
    return sorted(address for entry in inbox.messages for address in entry["to"])


@transactional
def test_a_worker_mails_each_notice_once_none_on_a_rerun_none_after_opting_out(start_worker, inbox):
    contract = make_contract()
    worker = start_worker()
    run(worker, tasks.detect_events, today=NINETY_DAYS_BEFORE.isoformat())
    run(worker, tasks.deliver_outbox)
    assert recipients(inbox) == ["contract-owner@example.org", "supplier-owner@example.org"]
    message = inbox.messages[0]["message"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = SITE_URL + contract.get_absolute_url()
    assert link in text and f'href="{link}"' in html
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}

    # The same day again, and the beat's next deliveries: nothing new.
    run(worker, tasks.detect_events, today=NINETY_DAYS_BEFORE.isoformat())
    run(worker, tasks.deliver_outbox)
    assert len(inbox.messages) == 2

    # The supplier's owner opts out; at 30 days only the contract's owner hears of it.
    supplier_owner = contract.supplier.owner
    services.save_preferences(
        user=supplier_owner, choices={EventKind.CONTRACT_NOTICE: Delivery.OFF}
    )
    run(worker, tasks.detect_events, today=THIRTY_DAYS_BEFORE.isoformat())
    run(worker, tasks.deliver_outbox)
    assert recipients(inbox) == [
        "contract-owner@example.org",
        "contract-owner@example.org",
        "supplier-owner@example.org",
    ]
    assert Notification.objects.get(
        recipient=supplier_owner, event_key__endswith=":30"
    ).delivery == (Delivery.OFF)


@transactional
def test_a_daily_digest_is_mailed_once_when_the_day_comes(start_worker, inbox):
    contract = make_contract()
    for person in (contract.owner, contract.supplier.owner):
        services.save_preferences(user=person, choices={EventKind.CONTRACT_NOTICE: Delivery.DAILY})
    worker = start_worker()
    run(worker, tasks.detect_events, today=NINETY_DAYS_BEFORE.isoformat())
    run(worker, tasks.deliver_outbox)
    assert inbox.messages == []  # waiting for the digest
    for _ in range(2):
        run(worker, tasks.send_digests, frequency="daily", today=NINETY_DAYS_BEFORE.isoformat())
        run(worker, tasks.deliver_outbox)
    assert recipients(inbox) == ["contract-owner@example.org", "supplier-owner@example.org"]
    assert inbox.messages[0]["message"]["Subject"] == "Portico daily digest: 1 notification"


@transactional
def test_a_worker_killed_mid_delivery_loses_and_duplicates_nothing(start_worker, inbox):
    make_contract()
    services.record_events(detection.detect(NINETY_DAYS_BEFORE))
    assert OutboxMessage.objects.count() == 2
    # The server keeps the first message waiting, before it has accepted it ...
    inbox.hold = threading.Event()
    first = start_worker()
    first_task = tasks.deliver_outbox.apply_async(queue=first.queue)
    assert inbox.holding.wait(WAIT_SECONDS), first.log.read_text()
    # ... and the worker is killed there: its connection goes, the message is not accepted.
    first.kill()
    assert f"[{first_task.id}] succeeded" not in first.log.read_text()
    held, inbox.hold = inbox.hold, None
    held.set()
    time.sleep(0.5)
    assert inbox.messages == []  # the server dropped the message with the connection
    # The worker had claimed both messages (one batch) and sent neither.
    assert list(OutboxMessage.objects.values_list("status", "attempts", "sent_at")) == [
        (MessageStatus.CLAIMED, 1, None),
        (MessageStatus.CLAIMED, 1, None),
    ]

    # Another worker sends them once their lease has ended.
    second = start_worker()
    deadline = time.monotonic() + WAIT_SECONDS
    while OutboxMessage.objects.exclude(status=MessageStatus.SENT).exists():
        assert time.monotonic() < deadline, second.log.read_text()
        run(second, tasks.deliver_outbox)
        time.sleep(0.5)
    assert recipients(inbox) == ["contract-owner@example.org", "supplier-owner@example.org"]
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {2}
    # And no later run sends anything more.
    time.sleep(LEASE_SECONDS + 0.5)
    run(second, tasks.deliver_outbox)
    assert len(inbox.messages) == 2


@pytest.mark.django_db
def test_a_sender_dying_after_the_server_accepted_sends_one_copy_with_the_same_message_id(
    smtp, settings
):
    """The at-least-once window, proven: the server accepted, the sent mark never came."""
    settings.PORTICO_SITE_URL = SITE_URL
    make_contract()
    services.record_events(detection.detect(NINETY_DAYS_BEFORE))
    message, *_ = outbox.claim()
    from django.core.mail import get_connection

    outbox.email_of(message, get_connection()).send()  # accepted; the sender dies here
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=F("claimed_at") - datetime.timedelta(seconds=LEASE_SECONDS + 1)
    )
    settings.PORTICO_OUTBOX_LEASE_SECONDS = LEASE_SECONDS
    assert outbox.deliver_due() == 2  # the other message, and this one again
    copies = [m["message"] for m in smtp.messages if m["to"] == [message.to]]
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"] == outbox.message_id(message)


@pytest.mark.django_db
def test_a_refused_message_is_retried_after_a_backoff(smtp):
    make_contract()
    services.record_events(detection.detect(NINETY_DAYS_BEFORE))
    smtp.refuse = 1
    assert outbox.deliver_due() == 1
    refused = OutboxMessage.objects.get(status=MessageStatus.PENDING)
    assert refused.attempts == 1 and "451" in refused.last_error
    assert refused.available_at > timezone.now() + datetime.timedelta(seconds=50)
    assert outbox.deliver_due() == 0  # not yet
    OutboxMessage.objects.filter(pk=refused.pk).update(available_at=timezone.now())
    assert outbox.deliver_due() == 1
    assert OutboxMessage.objects.get(pk=refused.pk).status == MessageStatus.SENT
    assert len(smtp.messages) == 2


@pytest.mark.django_db
def test_an_unreachable_mail_server_keeps_every_message_for_a_later_attempt(settings):
    from tests.finance.mailbox import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    make_contract()
    services.record_events(detection.detect(NINETY_DAYS_BEFORE))
    assert outbox.deliver_due() == 0
    assert list(OutboxMessage.objects.values_list("status", "attempts", "sent_at")) == [
        (MessageStatus.PENDING, 1, None),
        (MessageStatus.PENDING, 1, None),
    ]
    assert all("Connection refused" in m.last_error for m in OutboxMessage.objects.all())
