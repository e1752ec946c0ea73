"""Attestation: an owner's confirmation, broken by anyone else's change through any path,
expired after the kind's months, confirmed again only by an owner or a delegate."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from attestation import selectors
from attestation import services
from attestation.choices import AttestationStatus
from core.choices import Channel
from core.context import change_context
from core.models import ObjectChange
from portfolio import services as portfolio_services
from portfolio.models import Service
from tests.api.helpers import sync
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


def status_of(service, today=None):
    return selectors.standing_of(service, today or timezone.localdate())


@pytest.fixture
def alice():
    return UserFactory(username="alice", role="Service owner")


@pytest.fixture
def synced_service(alice):
    return ServiceFactory(
        name="Claims", slug="claims", owner=alice, source="cmdb", external_id="svc-claims"
    )


def test_a_record_is_never_attested_until_its_owner_confirms_it(synced_service, alice):
    assert status_of(synced_service).status == AttestationStatus.NEVER_ATTESTED
    services.attest(record=synced_service, user=alice)
    standing = status_of(synced_service)
    assert standing.status == AttestationStatus.ATTESTED
    assert standing.attested_by_id == alice.pk
    assert standing.broken_by is None


def test_a_sync_breaks_the_attestation_and_names_the_change(synced_service, alice, api_for):
    services.attest(record=synced_service, user=alice)
    sync_account = UserFactory(username="cmdb-sync", role="Portfolio manager")
    response = sync(
        api_for(sync_account),
        "services",
        [
            {
                "external_id": "svc-claims",
                "name": "Claims",
                "kind": synced_service.kind,
                "summary": "Claims handling, as the CMDB knows it",
                "owner": "alice",
            }
        ],
    )
    assert response.status_code == 200, response.content
    standing = status_of(synced_service)
    assert standing.status == AttestationStatus.CHECK_NEEDED
    change = ObjectChange.objects.get(pk=standing.broken_by.pk)
    assert (change.channel, change.user_id) == (Channel.SYNC, sync_account.pk)
    assert change.after["summary"] == "Claims handling, as the CMDB knows it"

    services.attest(record=synced_service, user=alice)
    assert status_of(synced_service).status == AttestationStatus.ATTESTED


def test_an_edit_by_the_owner_or_a_delegate_keeps_the_attestation(synced_service, alice):
    delegate = UserFactory(username="dora")
    synced_service.delegates.add(delegate)
    services.attest(record=synced_service, user=alice)
    for user, summary in ((alice, "By its owner"), (delegate, "By its delegate")):
        service = Service.objects.get(pk=synced_service.pk)
        service.summary = summary
        with change_context(user=user, channel=Channel.WEB):
            portfolio_services.save_service(service=service, user=user)
    assert status_of(synced_service).status == AttestationStatus.ATTESTED


def test_an_edit_by_a_portfolio_manager_breaks_it(synced_service, alice):
    manager = UserFactory(username="pat", role="Portfolio manager")
    services.attest(record=synced_service, user=alice)
    service = Service.objects.get(pk=synced_service.pk)
    service.summary = "Edited by the portfolio manager"
    with change_context(user=manager, channel=Channel.WEB):
        portfolio_services.save_service(service=service, user=manager)
    standing = status_of(synced_service)
    assert standing.status == AttestationStatus.CHECK_NEEDED
    assert standing.broken_by.user_id == manager.pk


def test_an_attestation_falls_due_after_the_kinds_months(synced_service, alice, settings):
    settings.PORTICO_ATTESTATION_MONTHS = {**settings.PORTICO_ATTESTATION_MONTHS, "service": 6}
    services.attest(record=synced_service, user=alice)
    today = timezone.localdate()
    assert status_of(synced_service, today + datetime.timedelta(days=150)).status == "attested"
    later = selectors.months_before(today, -6) + datetime.timedelta(days=1)
    assert status_of(synced_service, later).status == AttestationStatus.DUE
    due = selectors.due_or_broken(later)
    assert [(d.kind, d.record.pk, d.status) for d in due] == [
        ("service", synced_service.pk, AttestationStatus.DUE)
    ]
    assert due[0].record.owner == alice


def test_due_or_broken_lists_broken_records_with_their_change_and_not_the_never_attested(
    synced_service, alice
):
    ServiceFactory(name="Never confirmed", owner=alice)
    services.attest(record=synced_service, user=alice)
    assert selectors.due_or_broken(timezone.localdate()) == []
    with change_context(channel=Channel.COMMAND):
        Service.objects.filter(pk=synced_service.pk).first().save()  # nothing changed: no record
        service = Service.objects.get(pk=synced_service.pk)
        service.summary = "Imported"
        service.save()
    (broken,) = selectors.due_or_broken(timezone.localdate())
    assert broken.status == AttestationStatus.CHECK_NEEDED
    assert ObjectChange.objects.get(pk=broken.broken_by_id).after["summary"] == "Imported"


def test_only_an_owner_or_a_delegate_may_confirm(synced_service, alice):
    manager = UserFactory(username="pat", role="Portfolio manager")
    with pytest.raises(PermissionDenied):
        services.attest(record=synced_service, user=manager)
    delegate = UserFactory(username="dora")
    synced_service.delegates.add(delegate)
    services.attest(record=synced_service, user=delegate)
    assert status_of(synced_service).attested_by_id == delegate.pk


def test_months_before_keeps_the_day_or_the_months_last():
    assert selectors.months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert selectors.months_before(datetime.date(2026, 1, 15), 12) == datetime.date(2025, 1, 15)
    assert selectors.months_before(datetime.date(2026, 1, 31), -1) == datetime.date(2026, 2, 28)
