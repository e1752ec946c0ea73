"""Notifications recorded from the portfolio as of a given day: once per event and person,
as each person chose, gathered into digests once per period. Delivery through a real worker
is in test_delivery.py."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from core.choices import Channel
from core.context import change_context
from finance.choices import RunOutcome
from finance.models import TcoRun
from notifications import detection
from notifications import services
from notifications.choices import Delivery
from notifications.choices import EventKind
from notifications.choices import MessageStatus
from notifications.models import Notification
from notifications.models import OutboxMessage
from notifications.selectors import unread_count
from people import services as people_services
from tests.factories import UserFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import TcoResultFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SupplierFactory
from tests.factories.valuestreams import ImprovementFactory
from valuestreams import services as valuestream_services
from valuestreams.choices import ImprovementStatus

# Renews on 30 June 2027 with 90 days' notice: the deadline is 1 April 2027.
RENEWAL = datetime.date(2027, 6, 30)
DEADLINE = datetime.date(2027, 4, 1)


def detect_on(day: datetime.date) -> list[Notification]:
    return services.record_events(detection.detect(day))


@pytest.fixture
def contract(db):
    supplier = SupplierFactory(owner=UserFactory(username="supplier-owner", role="Viewer"))
    return ContractFactory(
        supplier=supplier,
        renewal_date=RENEWAL,
        owner=UserFactory(username="contract-owner", role="Service owner"),
    )


def test_contract_notice_is_due_90_then_30_days_before_the_deadline_each_once(contract):
    assert detect_on(DEADLINE - datetime.timedelta(days=91)) == []
    first = detect_on(DEADLINE - datetime.timedelta(days=90))
    assert {(n.recipient.username, n.kind) for n in first} == {
        ("contract-owner", EventKind.CONTRACT_NOTICE),
        ("supplier-owner", EventKind.CONTRACT_NOTICE),
    }
    assert all(n.path == contract.get_absolute_url() for n in first)
    # The days in between, and the same day again: nothing new.
    assert detect_on(DEADLINE - datetime.timedelta(days=90)) == []
    assert detect_on(DEADLINE - datetime.timedelta(days=45)) == []
    second = detect_on(DEADLINE - datetime.timedelta(days=30))
    assert len(second) == 2 and all(n.event_key.endswith(":30") for n in second)
    assert detect_on(DEADLINE) == []
    assert detect_on(DEADLINE + datetime.timedelta(days=1)) == []
    assert Notification.objects.count() == 4


def test_a_contract_first_seen_late_is_told_of_once_at_the_nearest_threshold(contract):
    made = detect_on(DEADLINE - datetime.timedelta(days=20))
    assert len(made) == 2 and all(n.event_key.endswith(":30") for n in made)
    assert detect_on(DEADLINE - datetime.timedelta(days=10)) == []


def test_a_changed_renewal_date_is_news_again(contract):
    detect_on(DEADLINE - datetime.timedelta(days=30))
    contract.renewal_date = RENEWAL + datetime.timedelta(days=365)
    contract.save()
    later = DEADLINE + datetime.timedelta(days=365 - 30)
    assert len(detect_on(later)) == 2


def test_immediate_delivery_queues_one_message_each_by_role_default(contract, settings):
    settings.PORTICO_SITE_URL = "https://portico.example.org/"
    made = detect_on(DEADLINE - datetime.timedelta(days=90))
    # Contract notices are immediate by default for every role.
    assert {n.delivery for n in made} == {Delivery.IMMEDIATELY}
    messages = OutboxMessage.objects.order_by("to")
    assert [m.to for m in messages] == ["contract-owner@example.org", "supplier-owner@example.org"]
    assert all(m.status == MessageStatus.PENDING for m in messages)
    message = messages[0]
    url = "https://portico.example.org" + contract.get_absolute_url()
    assert url in message.text and f'href="{url}"' in message.html
    assert str(contract) in message.subject


def test_opting_out_records_the_event_but_sends_and_lists_nothing(contract, client):
    services.save_preferences(
        user=contract.owner, choices={EventKind.CONTRACT_NOTICE: Delivery.OFF}
    )
    detect_on(DEADLINE - datetime.timedelta(days=90))
    assert list(OutboxMessage.objects.values_list("to", flat=True)) == [
        "supplier-owner@example.org"
    ]
    assert unread_count(contract.owner) == 0
    client.force_login(contract.owner)
    assert "Notice for" not in client.get(reverse("notifications:list")).content.decode()


def test_daily_digest_gathers_each_persons_notifications_once_a_day(contract):
    for person in (contract.owner, contract.supplier.owner):
        services.save_preferences(user=person, choices={EventKind.CONTRACT_NOTICE: Delivery.DAILY})
    day = DEADLINE - datetime.timedelta(days=90)
    detect_on(day)
    assert OutboxMessage.objects.count() == 0
    assert services.build_digests(frequency=Delivery.WEEKLY, today=day) == 0
    assert services.build_digests(frequency=Delivery.DAILY, today=day) == 2
    assert services.build_digests(frequency=Delivery.DAILY, today=day) == 0
    # A new event the same day waits for the next day's digest.
    detect_on(DEADLINE - datetime.timedelta(days=30))
    assert services.build_digests(frequency=Delivery.DAILY, today=day) == 0
    next_day = day + datetime.timedelta(days=1)
    assert services.build_digests(frequency=Delivery.DAILY, today=next_day) == 2
    digest = OutboxMessage.objects.get(key=f"digest:daily:{contract.owner.pk}:{day}")
    assert digest.subject == "Portico daily digest: 1 notification"
    assert Notification.objects.filter(message__isnull=True).count() == 0


def test_weekly_digest_is_one_per_iso_week(contract):
    services.save_preferences(
        user=contract.owner, choices={EventKind.CONTRACT_NOTICE: Delivery.WEEKLY}
    )
    monday = datetime.date(2027, 1, 4)
    detect_on(DEADLINE - datetime.timedelta(days=90))
    assert services.build_digests(frequency=Delivery.WEEKLY, today=monday) == 1
    detect_on(DEADLINE - datetime.timedelta(days=30))
    assert (
        services.build_digests(frequency=Delivery.WEEKLY, today=monday + datetime.timedelta(days=3))
        == 0
    )
    assert (
        services.build_digests(frequency=Delivery.WEEKLY, today=monday + datetime.timedelta(days=7))
        == 1
    )
    assert OutboxMessage.objects.filter(key__startswith="digest:weekly:").count() == 2


def test_an_attestation_broken_by_a_manager_then_due_months_later_each_told_once(db, settings):
    from attestation import selectors as attestation_selectors
    from attestation import services as attestation_services
    from portfolio import services as portfolio_services
    from portfolio.models import Service

    settings.PORTICO_ATTESTATION_MONTHS = {**settings.PORTICO_ATTESTATION_MONTHS, "service": 6}
    alice = UserFactory(username="alice", role="Service owner")
    manager = UserFactory(username="pat", role="Portfolio manager")
    service = ServiceFactory(name="Claims", slug="claims", owner=alice)
    attestation_services.attest(record=service, user=alice)
    today = datetime.date.today()
    assert detect_on(today) == []

    edited = Service.objects.get(pk=service.pk)
    edited.summary = "Edited by the portfolio manager"
    with change_context(user=manager, channel=Channel.WEB):
        portfolio_services.save_service(service=edited, user=manager)
    (broken,) = detect_on(today)
    assert (broken.recipient, broken.kind) == (alice, EventKind.ATTESTATION)
    assert broken.subject == "Claims: check needed after a change by pat"
    assert broken.path == service.get_absolute_url()
    assert detect_on(today) == []

    # Confirmed again, then the clock moves past the six months: due, once.
    attestation_services.attest(record=service, user=alice)
    assert detect_on(today) == []
    later = attestation_selectors.months_before(today, -6) + datetime.timedelta(days=1)
    (due,) = detect_on(later)
    assert due.subject == "Claims: your confirmation is due"
    assert detect_on(later + datetime.timedelta(days=1)) == []


def test_a_decided_improvement_is_told_to_its_suggester_once_per_status(db):
    suggester = UserFactory(username="suggester", role="Viewer")
    improvement = ImprovementFactory(suggested_by=suggester)
    today = datetime.date.today()
    with change_context(channel=Channel.WEB, user=suggester):
        valuestream_services.set_improvement_status(
            improvement=improvement, status=ImprovementStatus.ACCEPTED
        )
    made = detect_on(today)
    assert [(n.recipient, n.kind, n.event_key) for n in made] == [
        (suggester, EventKind.IMPROVEMENT, f"improvement:{improvement.pk}:accepted")
    ]
    assert detect_on(today) == []
    with change_context(channel=Channel.WEB, user=suggester):
        valuestream_services.set_improvement_status(
            improvement=improvement,
            status=ImprovementStatus.DONE,
            measured_before=Decimal(5),
            measured_after=Decimal(2),
        )
    assert [n.event_key for n in detect_on(today)] == [f"improvement:{improvement.pk}:done"]


def test_a_tco_change_beyond_the_threshold_goes_to_owner_and_finance(db, settings, finance_user):
    settings.PORTICO_TCO_CHANGE_PERCENT = 20
    owner = UserFactory(username="svc-owner", role="Service owner")
    steady, jumping = ServiceFactory(owner=owner), ServiceFactory(owner=owner)
    january, february = PeriodFactory(year=2027, month=1), PeriodFactory(year=2027, month=2)
    for service, before, after in ((steady, "100.00", "119.00"), (jumping, "100.00", "121.00")):
        TcoResultFactory(period=january, service=service, tco=Decimal(before))
        TcoResultFactory(period=february, service=service, tco=Decimal(after))
    made = detect_on(datetime.date(2027, 3, 5))
    assert {(n.recipient.username, n.event_key) for n in made} == {
        ("svc-owner", f"tco-change:{jumping.pk}:2027-02"),
        ("finance", f"tco-change:{jumping.pk}:2027-02"),
    }
    assert "+21%" in made[0].subject


def test_a_failed_tco_run_goes_to_finance_at_once(db, finance_user):
    from django.utils import timezone

    period = PeriodFactory(year=2027, month=1)
    run = TcoRun.objects.create(
        period=period,
        version=1,
        trigger="manual",
        outcome=RunOutcome.FAILED,
        started_at=timezone.now(),
        error="division by zero",
    )
    made = detect_on(timezone.localdate())
    assert [(n.recipient, n.event_key, n.delivery) for n in made] == [
        (finance_user, f"tco-run-failed:{run.pk}", Delivery.IMMEDIATELY)
    ]
    assert OutboxMessage.objects.get().to == finance_user.email


def test_the_list_shows_ones_own_notifications_and_marks_them_read(contract, client):
    detect_on(DEADLINE - datetime.timedelta(days=90))
    client.force_login(contract.owner)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "Notice for" in page and 'aria-label="1 unread"' in page
    mine = Notification.objects.get(recipient=contract.owner)
    theirs = Notification.objects.get(recipient=contract.supplier.owner)
    # Another person's notification is not marked by naming it.
    client.post(reverse("notifications:mark_read"), {"notification": theirs.pk})
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    response = client.post(reverse("notifications:mark_read"), {"notification": mine.pk})
    assert response.status_code == 302
    assert unread_count(contract.owner) == 0
    response = client.post(reverse("notifications:mark_read"), {"notification": "x"})
    assert response.status_code == 422


def test_preferences_page_shows_role_defaults_and_saves_choices(client, finance_user):
    client.force_login(finance_user)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "TCO run or report failed" in page
    data = dict.fromkeys(EventKind.values, Delivery.WEEKLY)
    response = client.post(reverse("notifications:preferences"), {**data, "tco_change": "bogus"})
    assert response.status_code == 422
    response = client.post(reverse("notifications:preferences"), data)
    assert response.status_code == 302
    assert finance_user.notification_choices.filter(delivery=Delivery.WEEKLY).count() == len(data)


def test_pages_need_a_sign_in(client):
    for name in ("notifications:list", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_list_reads_the_same_number_of_queries_at_one_and_at_many(
    db, client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    owner = UserFactory(username="reader", role="Viewer")
    client.force_login(owner)

    def add(count: int) -> None:
        Notification.objects.bulk_create(
            Notification(
                recipient=owner,
                kind=EventKind.TARGET,
                event_key=f"test:{Notification.objects.count()}:{n}",
                subject=f"Event {n}",
                path="/",
                delivery=Delivery.DAILY,
                created_at=timezone.now(),
            )
            for n in range(count)
        )

    add(1)
    with CaptureQueriesContext(connection) as at_one:
        assert client.get(reverse("notifications:list")).status_code == 200
    add(40)
    with django_assert_max_num_queries(len(at_one)):
        page = client.get(reverse("notifications:list")).content.decode()
    assert page.count("Mark read</button>") == 41


def test_a_missed_target_and_the_outcome_relying_on_it_then_a_stale_one(db):
    from tests.factories.portfolio import CustomerFactory
    from tests.performance.helpers import figure
    from tests.performance.helpers import functioning_item
    from tests.performance.helpers import outcome_of

    owner = UserFactory(username="svc-owner", role="Service owner")
    manager = UserFactory(username="rm", role="Viewer")
    service = ServiceFactory(owner=owner, lifecycle="live")
    item = functioning_item(service, "Available around the clock")
    outcome = outcome_of(service, item=item)
    outcome.subscription.customer = CustomerFactory(relationship_manager=manager)
    outcome.subscription.save()
    day = datetime.date(2026, 11, 5)
    figure(item=item, end=datetime.date(2026, 10, 31), value="98.0")  # below 99.5: missed
    made = detect_on(day)
    assert sorted((n.recipient.username, n.kind) for n in made) == [
        ("rm", EventKind.OUTCOME_AT_RISK),
        ("svc-owner", EventKind.OUTCOME_AT_RISK),
        ("svc-owner", EventKind.TARGET),
    ]
    assert "is missed" in next(n for n in made if n.kind == EventKind.TARGET).subject
    assert detect_on(day) == []
    # Months on without a figure: the item is stale, which is news; the outcome stays at risk
    # on the same figures, which is not.
    later = detect_on(datetime.date(2027, 3, 1))
    assert [(n.recipient.username, n.subject) for n in later] == [
        ("svc-owner", f"{service}: Available around the clock is stale")
    ]


def test_a_new_maturity_mismatch_goes_to_the_relationship_manager(db):
    from tests.factories.maturity import AssessmentFactory
    from tests.factories.maturity import CustomerPartyFactory
    from tests.factories.maturity import OrganisationFactory

    manager = UserFactory(username="rm", role="Portfolio manager")
    AssessmentFactory(party=OrganisationFactory(), level=2)
    party = CustomerPartyFactory(customer__relationship_manager=manager)
    AssessmentFactory(party=party, level=4)
    today = datetime.date.today()
    (made,) = detect_on(today)
    assert (made.recipient, made.kind, made.delivery) == (
        manager,
        EventKind.MATURITY_MISMATCH,
        Delivery.IMMEDIATELY,  # a Portfolio manager's default
    )
    assert detect_on(today) == []
    AssessmentFactory(party=party, level=5, assessed_on=today)
    assert len(detect_on(today)) == 1


def test_beat_runs_detection_digests_and_delivery_by_registered_task_names(db):
    from django_celery_beat.models import PeriodicTask

    from notifications import tasks

    entries = {
        task.name: (task.task, task.args, str(task.crontab or task.interval))
        for task in PeriodicTask.objects.filter(name__startswith="notifications: ")
    }
    assert set(entries) == {
        "notifications: detect events",
        "notifications: daily digest",
        "notifications: weekly digest",
        "notifications: send e-mail",
    }
    assert entries["notifications: weekly digest"][1] == '["weekly"]'
    assert entries["notifications: daily digest"][1] == '["daily"]'
    registered = {tasks.detect_events.name, tasks.send_digests.name, tasks.deliver_outbox.name}
    assert {task for task, _, _ in entries.values()} == registered
    assert tasks.deliver_outbox.name == services.DELIVER_TASK


def test_each_persons_notifications_and_digest_are_in_their_language(db, settings, finance_user):
    settings.PORTICO_LANGUAGES = ["en", "fr"]
    settings.LANGUAGES = [("en", "English"), ("fr", "français")]
    settings.PORTICO_TCO_CHANGE_PERCENT = 20
    owner = UserFactory(username="svc-owner", role="Service owner")
    people_services.set_language(user=owner, language="fr")
    service = ServiceFactory(
        name="Claims handling", owner=owner, translations={"fr": {"name": "Sinistres"}}
    )
    january, february = PeriodFactory(year=2027, month=1), PeriodFactory(year=2027, month=2)
    TcoResultFactory(period=january, service=service, tco=Decimal("100.00"))
    TcoResultFactory(period=february, service=service, tco=Decimal("150.00"))
    for person in (owner, finance_user):
        services.save_preferences(user=person, choices={EventKind.TCO_CHANGE: Delivery.DAILY})

    made = {n.recipient.username: n for n in detect_on(datetime.date(2027, 3, 5))}

    assert made["svc-owner"].subject == "TCO of Sinistres changed by +50% in 2027-02"
    assert "The TCO of Sinistres went from" in made["svc-owner"].body
    assert made["finance"].subject == "TCO of Claims handling changed by +50% in 2027-02"
    day = datetime.date(2027, 3, 5)
    assert services.build_digests(frequency=Delivery.DAILY, today=day) == 2
    french = OutboxMessage.objects.get(key=f"digest:daily:{owner.pk}:{day}")
    english = OutboxMessage.objects.get(key=f"digest:daily:{finance_user.pk}:{day}")
    assert "Sinistres" in french.text and "Claims handling" not in french.text
    assert "Sinistres" in french.html
    assert "Claims handling" in english.text and "Sinistres" not in english.text
