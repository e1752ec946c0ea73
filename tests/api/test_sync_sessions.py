"""Sync sessions (core.api.sessions): a sync sent in batches and written at once, on
PostgreSQL; a full session retires only what the whole export left out."""

import datetime

import pytest
from django.utils import timezone

from core.api import sync as engine
from core.api.resources import autodiscover
from core.choices import SyncSessionState
from core.models import ObjectChange
from core.models import SyncSession
from core.models import SyncSessionBatch
from core.tasks import expire_sync_sessions
from portfolio.models import Service
from tests.api.helpers import service_item
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sync-sessions/"


def open_session(api, *, mode: str = "full", source: str = "cmdb") -> int:
    response = api.post(SESSIONS, {"resource": "services", "source": source, "mode": mode})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "open" and body["items"] == 0
    return body["id"]


def send(api, session: int, items: list):
    return api.post(f"{SESSIONS}{session}/batches/", {"items": items})


def commit(api, session: int, **options):
    return api.post(f"{SESSIONS}{session}/commit/", options)


def test_a_12000_record_full_session_retires_exactly_what_it_left_out(pm_api, portfolio_manager):
    total = 12_000
    engine.sync_many(
        autodiscover()["services"],
        user=portfolio_manager,
        source="cmdb",
        mode="upsert",
        items=[service_item(n) for n in range(total)],
    )
    left_out = set(range(7, total, 120))  # 100 records, spread over every batch and chunk
    sent = [service_item(n) for n in range(total) if n not in left_out]
    sent[0]["name"] = "Renamed"
    sent.append(service_item(total))  # a new one
    logged = ObjectChange.objects.count()

    # The 20 % guard weighs the whole session: a third of the export retires too much.
    partial = open_session(pm_api)
    assert send(pm_api, partial, sent[:4000]).status_code == 200
    refused = commit(pm_api, partial)
    assert refused.status_code == 409 and refused.json()["code"] == "mass_retire"
    assert pm_api.get(f"{SESSIONS}{partial}/").json()["state"] == "open"
    assert pm_api.delete(f"{SESSIONS}{partial}/").status_code == 204
    assert not SyncSession.objects.filter(pk=partial).exists()

    session = open_session(pm_api)
    for start in range(0, len(sent), 4000):
        response = send(pm_api, session, sent[start : start + 4000])
        assert response.status_code == 200, response.json()
    assert pm_api.get(f"{SESSIONS}{session}/").json()["items"] == len(sent)
    response = commit(pm_api, session)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["session"], body["state"], body["dry_run"]) == (session, "committed", False)
    assert (body["created"], body["updated"], body["unchanged"], body["retired"]) == (
        1,
        1,
        total - len(left_out) - 1,
        len(left_out),
    )
    assert [item["index"] for item in body["items"]] == list(range(len(sent)))
    retired = set(Service.objects.filter(lifecycle="retired").values_list("external_id", flat=True))
    assert retired == {f"svc-{n}" for n in left_out}
    assert {r["key"]["external_id"] for r in body["retirements"]} == retired
    assert ObjectChange.objects.count() == logged + 2 + len(left_out)
    stored = SyncSession.objects.get(pk=session)
    assert stored.state == SyncSessionState.COMMITTED and stored.counts["retired"] == 100
    assert not SyncSessionBatch.objects.filter(session=stored).exists()
    # Committed: no more batches, no second commit.
    again = commit(pm_api, session)
    assert again.status_code == 409 and again.json()["code"] == "session_committed"


def test_a_batch_is_read_against_the_fields_and_errors_name_the_session_index(pm_api):
    session = open_session(pm_api, mode="upsert")
    assert send(pm_api, session, [service_item(n) for n in range(3)]).status_code == 200
    response = send(pm_api, session, [service_item(3), {"external_id": "x", "colour": "red"}])
    assert response.status_code == 400
    assert response.json()["errors"] == {"items.4.colour": ["Unknown field."]}
    assert SyncSessionBatch.objects.filter(session_id=session).count() == 1
    assert send(pm_api, session, {"external_id": "x"}).status_code == 400
    assert not Service.objects.exists()


def test_a_commit_with_bad_items_fails_the_session_and_writes_nothing(pm_api):
    session = open_session(pm_api, mode="upsert")
    send(pm_api, session, [service_item(n) for n in range(3)])
    send(pm_api, session, [service_item(3, owner="nobody-by-that-name")])
    response = commit(pm_api, session)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"items.3.owner"}
    assert not Service.objects.exists()
    stored = SyncSession.objects.get(pk=session)
    assert stored.state == SyncSessionState.FAILED and stored.failure["status"] == 400
    assert not SyncSessionBatch.objects.filter(session=stored).exists()


def test_a_dry_run_commit_writes_nothing_and_leaves_the_session_open(pm_api):
    session = open_session(pm_api, mode="upsert")
    send(pm_api, session, [service_item(n) for n in range(5)])
    response = commit(pm_api, session, dry_run=True)
    assert response.status_code == 200, response.json()
    assert response.json()["dry_run"] is True and response.json()["created"] == 5
    assert response.json()["state"] == "open"
    assert not Service.objects.exists() and not ObjectChange.objects.exists()
    assert commit(pm_api, session).json()["created"] == 5
    assert Service.objects.count() == 5


def test_an_expired_session_writes_nothing(pm_api):
    session = open_session(pm_api, mode="upsert")
    send(pm_api, session, [service_item(n) for n in range(3)])
    SyncSession.objects.filter(pk=session).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = commit(pm_api, session)
    assert response.status_code == 409 and response.json()["code"] == "session_expired"
    assert not Service.objects.exists() and not ObjectChange.objects.exists()
    assert SyncSession.objects.get(pk=session).state == SyncSessionState.EXPIRED
    assert not SyncSessionBatch.objects.filter(session_id=session).exists()
    assert send(pm_api, session, [service_item(4)]).status_code == 409


def test_the_beat_task_expires_sessions_past_their_time_and_deletes_their_items(pm_api, settings):
    settings.PORTICO_SYNC_SESSION_HOURS = 2
    old, fresh = open_session(pm_api), open_session(pm_api)
    for session in (old, fresh):
        send(pm_api, session, [service_item(1)])
    stored = SyncSession.objects.get(pk=fresh)
    lifetime = stored.expires_at - stored.created_at
    assert abs(lifetime - datetime.timedelta(hours=2)) < datetime.timedelta(seconds=5)
    SyncSession.objects.filter(pk=old).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert expire_sync_sessions() == 1
    assert SyncSession.objects.get(pk=old).state == SyncSessionState.EXPIRED
    assert not SyncSessionBatch.objects.filter(session_id=old).exists()
    assert SyncSession.objects.get(pk=fresh).state == SyncSessionState.OPEN
    assert SyncSessionBatch.objects.filter(session_id=fresh).count() == 1
    assert expire_sync_sessions() == 0


def test_only_the_opener_or_a_superuser_may_use_a_session(pm_api, api_for):
    session = open_session(pm_api, mode="upsert")
    other = api_for(UserFactory(role="Portfolio manager"))
    for response in (
        other.get(f"{SESSIONS}{session}/"),
        send(other, session, [service_item(1)]),
        commit(other, session),
        other.delete(f"{SESSIONS}{session}/"),
    ):
        assert response.status_code == 404
    admin = api_for(UserFactory(is_superuser=True))
    assert admin.get(f"{SESSIONS}{session}/").json()["id"] == session
    read_only = api_for(UserFactory(role="Portfolio manager"), write=False)
    assert read_only.post(SESSIONS, {"resource": "services", "source": "x"}).status_code == 403


def test_opening_a_session_checks_its_envelope(pm_api):
    response = pm_api.post(SESSIONS, {"resource": "nothing", "source": "", "mode": "all"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"resource", "source", "mode"}
    response = pm_api.post(SESSIONS, {"resource": "services", "source": "x", "extra": 1})
    assert response.json()["errors"] == {"extra": ["Unknown field."]}
