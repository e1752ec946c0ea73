"""Dry runs, channels and many-chunk runs of the sync engine (core.api.sync), on PostgreSQL."""

import pytest
from django.db import connection

from core.api import sync as engine
from core.api.errors import Conflict
from core.api.errors import Invalid
from core.api.resources import registry
from core.choices import ChangeAction
from core.choices import Channel
from core.models import ObjectChange
from finance.services.recompute import PendingRecompute
from finance.services.recompute import waiting_for_commit
from portfolio.models import Service
from tests.api.helpers import changes_of
from tests.api.helpers import outcomes
from tests.api.helpers import service_item
from tests.api.helpers import sync

pytestmark = pytest.mark.django_db


def _counts(body: dict) -> tuple:
    return tuple(body[k] for k in ("created", "updated", "unchanged", "retired", "deleted"))


def _tco_recompute_waiting() -> bool:
    return any(not pending.done for pending in waiting_for_commit(PendingRecompute))


def test_a_dry_run_answers_in_full_and_writes_nothing(pm_api):
    sync(pm_api, "services", [service_item(n) for n in range(10)])
    stored = {s.pk: (s.name, s.updated_at) for s in Service.objects.all()}
    logged = ObjectChange.objects.count()
    # Scheduled on commit by the first sync (a test runs in one transaction): drop it, so
    # that what the dry run schedules shows.
    for pending in waiting_for_commit(PendingRecompute):
        pending.done = True

    items = [service_item(n) for n in range(9)]
    items[0]["name"] = "Renamed"
    items.append(service_item(20))
    response = sync(pm_api, "services", items, mode="full", dry_run=True)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True
    assert _counts(body) == (1, 1, 8, 1, 0)
    assert [r["key"]["external_id"] for r in body["retirements"]] == ["svc-9"]
    assert {s.pk: (s.name, s.updated_at) for s in Service.objects.all()} == stored
    assert not Service.objects.filter(external_id="svc-20").exists()
    assert ObjectChange.objects.count() == logged
    assert not _tco_recompute_waiting()

    # The same request without dry_run writes what it announced, and schedules the TCO.
    real = sync(pm_api, "services", items, mode="full")
    assert real.json()["dry_run"] is False
    assert _counts(real.json()) == _counts(body)
    assert [i["outcome"] for i in real.json()["items"]] == outcomes(response)
    assert Service.objects.get(external_id="svc-0").name == "Renamed"
    assert ObjectChange.objects.count() == logged + 3
    assert _tco_recompute_waiting()


def test_a_dry_run_refuses_as_the_real_run_does(pm_api):
    sync(pm_api, "services", [service_item(n) for n in range(10)])
    too_many = sync(pm_api, "services", [service_item(0)], mode="full", dry_run=True)
    assert too_many.status_code == 409 and too_many.json()["code"] == "mass_retire"
    bad = sync(pm_api, "services", [service_item(1, criticality="vital")], dry_run=True)
    assert bad.status_code == 400 and "items.0.criticality" in bad.json()["errors"]
    flag = sync(pm_api, "services", [service_item(1)], dry_run="yes")
    assert flag.status_code == 400 and flag.json()["errors"]["dry_run"]


def test_a_dry_run_inside_a_transaction_rolls_back_its_savepoint_only(portfolio_manager):
    resource = registry["services"]
    engine.sync(
        resource, user=portfolio_manager, source="cmdb", mode="upsert", items=[service_item(1)]
    )
    answer = engine.sync(
        resource,
        user=portfolio_manager,
        source="cmdb",
        mode="upsert",
        items=[service_item(2)],
        dry_run=True,
    )
    assert answer["created"] == 1 and answer["dry_run"] is True
    assert list(Service.objects.values_list("external_id", flat=True)) == ["svc-1"]
    assert connection.in_atomic_block  # the test's transaction goes on


def test_the_channel_is_recorded_in_the_change_log(portfolio_manager):
    engine.sync(
        registry["services"],
        user=portfolio_manager,
        source="file",
        mode="upsert",
        items=[service_item(1)],
        channel=Channel.IMPORT,
    )
    change = changes_of(Service).get()
    assert change.channel == Channel.IMPORT and change.source == "file"


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "MAX_ITEMS", 3)


def test_sync_many_writes_in_chunks_and_answers_once(portfolio_manager, small_chunks):
    told = []
    answer = engine.sync_many(
        registry["services"],
        user=portfolio_manager,
        source="cmdb",
        mode="upsert",
        items=[service_item(n) for n in range(8)],
        progress=lambda done, total: told.append((done, total)),
    )
    assert told == [(3, 8), (6, 8), (8, 8)]
    assert _counts(answer) == (8, 0, 0, 0, 0)
    assert [i["index"] for i in answer["items"]] == list(range(8))
    stored = dict(Service.objects.values_list("external_id", "pk"))
    assert [i["id"] for i in answer["items"]] == [stored[f"svc-{n}"] for n in range(8)]


def test_sync_many_errors_keep_the_global_index_and_nothing_is_written(
    portfolio_manager, small_chunks
):
    items = [service_item(n) for n in range(8)]
    items[4]["criticality"] = "vital"
    items[7]["name"] = ""
    items.append(service_item(1))  # the key of item 1, in another chunk
    with pytest.raises(Invalid) as raised:
        engine.sync_many(
            registry["services"], user=portfolio_manager, source="cmdb", mode="upsert", items=items
        )
    errors = raised.value.errors
    assert set(errors) == {"items.4.criticality", "items.7.name", "items.8.external_id"}
    assert "Item 1 has the same key" in errors["items.8.external_id"][0]
    assert not Service.objects.exists()
    assert not ObjectChange.objects.exists()


def test_sync_many_full_retires_once_over_all_chunks_with_the_guard_on_the_whole(
    portfolio_manager, small_chunks
):
    resource = registry["services"]
    kept = [service_item(n) for n in range(10)]
    engine.sync_many(resource, user=portfolio_manager, source="cmdb", mode="upsert", items=kept)

    # 3 of 10 left out: over 20 % of the whole source, although each chunk alone says less
    with pytest.raises(Conflict):
        engine.sync_many(
            resource, user=portfolio_manager, source="cmdb", mode="full", items=kept[3:]
        )
    assert not Service.objects.filter(retired_on__isnull=False).exists()

    answer = engine.sync_many(
        resource,
        user=portfolio_manager,
        source="cmdb",
        mode="full",
        items=[*kept[2:], service_item(99)],
    )
    assert [r["key"]["external_id"] for r in answer["retirements"]] == ["svc-0", "svc-1"]
    assert _counts(answer) == (1, 0, 8, 2, 0)
    assert set(
        Service.objects.filter(lifecycle="retired").values_list("external_id", flat=True)
    ) == {"svc-0", "svc-1"}
    assert changes_of(Service, action=ChangeAction.UPDATE).count() == 2
