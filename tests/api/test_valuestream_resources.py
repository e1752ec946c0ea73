"""The value-stream resources: value streams, stages and what underpins them, processes and
their connections, the improvement log; single writes, syncs, refusals, rights, query counts."""

from decimal import Decimal

import pytest

from core.choices import ChangeAction
from core.choices import Channel
from portfolio.choices import ServiceLifecycle
from tests.api.helpers import changes_of
from tests.api.helpers import outcomes
from tests.api.helpers import sync
from tests.api.helpers import sync_counting_queries
from tests.factories import UserFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import ProcessConnectionFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import StageApplicationFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors
from valuestreams import services
from valuestreams.choices import Effort
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import ProcessLayer
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import StageService
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream(value_stream_owner):
    return ValueStreamFactory(owner=value_stream_owner, source="cmdb", external_id="VS-1")


@pytest.fixture
def vso_api(value_stream_owner, api_for):
    return api_for(value_stream_owner)


def stage_item(n, **extra) -> dict:
    return {
        "external_id": f"st-{n}",
        "value_stream": {"external_id": "VS-1"},
        "name": f"Register claim {n}",
        "process_time_minutes": "30",
        "lead_time_minutes": "120",
        "lead_time_unit": "hours",
        **extra,
    }


# --- Value streams ------------------------------------------------------------------------------


def test_value_stream_round_trip_with_owner_customer_and_etag(pm_api, value_stream_owner):
    from tests.factories.portfolio import CustomerFactory

    customer = CustomerFactory(source="crm", external_id="C-9")
    created = pm_api.post(
        "/api/v1/value-streams/",
        {
            "name": "Settle a claim",
            "owner": "vso",
            "customer": {"source": "crm", "external_id": "C-9"},
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "settle-a-claim" and body["owner"] == "vso"
    assert body["customer"] == {"id": customer.pk, "source": "crm", "external_id": "C-9"}
    assert (body["state"], body["current_state"], body["retired_at"]) == ("current", None, None)
    assert (body["stage_count"], body["total_lead_time"], body["activity_ratio"]) == (
        0,
        "0.0000",
        None,
    )
    url = created["Location"]
    read = pm_api.get(url)
    assert read.json() == body and read["ETag"] == created["ETag"]
    assert pm_api.get(url, headers={"If-None-Match": read["ETag"]}).status_code == 304
    changed = pm_api.patch(url, {"segment": "Drivers"}, headers={"If-Match": read["ETag"]})
    assert changed.status_code == 200 and changed.json()["segment"] == "Drivers"
    stale = pm_api.patch(url, {"segment": "Riders"}, headers={"If-Match": read["ETag"]})
    assert stale.status_code == 412
    refused = pm_api.patch(url, {"state": "future"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"state": ["This field is read-only."]}
    reserved = pm_api.patch(url, {"slug": "new"})
    assert reserved.json()["errors"] == {
        "slug": ["“new” is the address of a page: choose another slug."]
    }


def test_value_stream_flow_totals_are_the_selectors_figures(pm_api, stream):
    StageFactory(value_stream=stream, complete_accurate=Decimal("90"), moment_of_truth=True)
    StageFactory(
        value_stream=stream,
        process_time_minutes=Decimal("45.5"),
        lead_time_minutes=Decimal("960"),
        complete_accurate=Decimal("95.5"),
    )
    StageFactory(value_stream=stream, complete_accurate=Decimal("99"))
    measures = selectors.measures_of(stream)
    body = pm_api.get(f"/api/v1/value-streams/{stream.pk}/").json()
    assert body["stage_count"] == 3 and body["moment_of_truth_count"] == 1
    assert Decimal(body["total_lead_time"]) == measures.lead_time
    assert Decimal(body["total_process_time"]) == measures.process_time
    assert body["activity_ratio"] == str(measures.activity_ratio.quantize(Decimal("0.0001")))
    assert body["rolled_complete_accurate"] == str(
        measures.rolled_complete_accurate.quantize(Decimal("0.0001"))
    )
    StageFactory(value_stream=stream, complete_accurate=Decimal(0))
    assert pm_api.get(f"/api/v1/value-streams/{stream.pk}/").json()["rolled_complete_accurate"] == (
        "0.0000"
    )


def test_value_stream_sync_upsert_full_and_idempotent_resend(pm_api, value_stream_owner):
    items = [{"external_id": f"vs-{n}", "name": f"Deliver {n}", "owner": "vso"} for n in range(5)]
    first = sync(pm_api, "value-streams", items)
    assert first.status_code == 200, first.json()
    assert outcomes(first) == ["created"] * 5
    assert outcomes(sync(pm_api, "value-streams", items)) == ["unchanged"] * 5
    full = sync(pm_api, "value-streams", items[:4], mode="full")
    assert full.json()["retired"] == 1
    retired = ValueStream.objects.get(external_id="vs-4")
    assert retired.retired_at is not None
    back = sync(pm_api, "value-streams", items[4:])
    assert outcomes(back) == ["updated"]
    retired.refresh_from_db()
    assert retired.retired_at is None


# --- Stages -------------------------------------------------------------------------------------


def test_stage_round_trip_appends_and_keeps_times_in_minutes(vso_api, stream):
    StageFactory(value_stream=stream, position=0)
    created = vso_api.post(
        "/api/v1/stages/",
        {
            "value_stream": stream.pk,
            "name": "Assess the damage",
            "process_time_minutes": "90",
            "process_time_unit": "hours",
            "lead_time_minutes": "960",
            "lead_time_unit": "days",
            "complete_accurate": "87.5",
            "moment_of_truth": True,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["position"] == 1 and body["value_stream"]["external_id"] == "VS-1"
    assert (body["process_time_minutes"], body["lead_time_minutes"]) == ("90.0000", "960.0000")
    stage = Stage.objects.get(pk=body["id"])
    assert (stage.process_time, stage.lead_time) == (Decimal("1.5"), Decimal(2))
    assert vso_api.get(f"/api/v1/stages/{stage.pk}/").json() == body
    moved = vso_api.patch(f"/api/v1/stages/{stage.pk}/", {"lead_time_unit": "minutes"})
    assert moved.status_code == 200 and moved.json()["lead_time_minutes"] == "960.0000"


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"complete_accurate": "100.5"}, "complete_accurate", "less than or equal to 100"),
        ({"complete_accurate": -1}, "complete_accurate", "greater than or equal to 0"),
        ({"process_time_minutes": "121"}, "process_time_minutes", "longer than lead time"),
        ({"name": "The claim form"}, "name", "start with a verb"),
        ({"process_time_minutes": "-1"}, "process_time_minutes", "greater than or equal to 0"),
        (
            {"lead_time_minutes": "100", "lead_time_unit": "days"},
            "lead_time_unit",
            "at most four decimals",
        ),
        ({"position": 3}, "position", "read-only"),
    ],
)
def test_stage_refusals_name_the_field_in_single_writes_and_syncs(
    vso_api, stream, change, field, message
):
    stage = StageFactory(value_stream=stream, source="cmdb", external_id="st-1")
    single = vso_api.patch(f"/api/v1/stages/{stage.pk}/", change)
    assert single.status_code == 400
    assert list(single.json()["errors"]) == [field]
    assert message in single.json()["errors"][field][0]
    bulk = sync(vso_api, "stages", [stage_item(1, **change)])
    assert bulk.status_code == 400
    assert list(bulk.json()["errors"]) == [f"items.0.{field}"]
    assert message in bulk.json()["errors"][f"items.0.{field}"][0]
    assert not changes_of(Stage, channel__in=[Channel.API, Channel.SYNC]).exists()


def test_a_stage_stays_in_its_value_stream(pm_api, stream):
    stage = StageFactory(value_stream=stream, source="cmdb", external_id="st-1")
    ValueStreamFactory(owner=stream.owner, source="cmdb", external_id="VS-2")
    single = pm_api.patch(
        f"/api/v1/stages/{stage.pk}/", {"value_stream": {"external_id": "VS-2", "source": "cmdb"}}
    )
    assert single.status_code == 400 and list(single.json()["errors"]) == ["value_stream"]
    bulk = sync(pm_api, "stages", [stage_item(1, value_stream={"external_id": "VS-2"})])
    assert list(bulk.json()["errors"]) == ["items.0.value_stream"]


def test_stage_sync_upsert_full_idempotent_and_relayered(
    vso_api, stream, django_capture_on_commit_callbacks
):
    process = ProcessFactory(value_stream=stream)
    items = [stage_item(n) for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        first = sync(vso_api, "stages", items)
    assert first.status_code == 200, first.json()
    assert list(stream.stages.order_by("position").values_list("external_id", "position")) == [
        ("st-0", 0),
        ("st-1", 1),
        ("st-2", 2),
    ]
    process.stages.set(Stage.objects.filter(external_id="st-1"))
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(sync(vso_api, "stages", items)) == ["unchanged"] * 3
    items[1]["moment_of_truth"] = True
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(sync(vso_api, "stages", items)) == ["unchanged", "updated", "unchanged"]
    process.refresh_from_db()
    assert process.layer == ProcessLayer.JOURNEY
    change = changes_of(Process).last()
    assert (change.channel, change.source, change.user_name) == (Channel.SYNC, "cmdb", "vso")
    with django_capture_on_commit_callbacks(execute=True):
        full = sync(
            vso_api, "stages", [*items[:2], stage_item(3)], mode="full", allow_mass_retire=True
        )
    assert full.json()["deleted"] == 1 and full.json()["created"] == 1
    assert not Stage.objects.filter(external_id="st-2").exists()
    assert Stage.objects.get(external_id="st-3").position == 3


def test_stage_sync_queries_do_not_grow_with_the_batch(vso_api, stream):
    def queries(items):
        response, count = sync_counting_queries(vso_api, "stages", items)
        assert response.status_code == 200, response.json()
        return count

    queries([stage_item(n) for n in range(2)])  # caches filled (token use, content type)
    small = queries([stage_item(n) for n in range(2, 4)])
    large = queries([stage_item(n) for n in range(10, 40)])
    assert large == small
    assert queries([stage_item(n, responsible_party="Desk") for n in range(10, 40)]) <= small


# --- What underpins a stage ---------------------------------------------------------------------


def test_stage_services_sync_by_their_pair_adopts_browser_links_and_mirrors_deletions(
    vso_api, stream
):
    stages = [
        StageFactory(value_stream=stream, source="cmdb", external_id=f"st-{n}") for n in range(2)
    ]
    svc = [ServiceFactory(source="cmdb", external_id=f"svc-{n}") for n in range(3)]
    services.save_stage(stage=stages[0], services=[svc[0]])  # made in the browser
    items = [
        {"stage": {"external_id": "st-0"}, "service": {"external_id": "svc-0"}},
        {"stage": {"external_id": "st-0"}, "service": {"external_id": "svc-1"}},
        {"stage": {"external_id": "st-1"}, "service": {"external_id": "svc-2"}},
    ]
    first = sync(vso_api, "stage-services", items)
    assert first.status_code == 200, first.json()
    assert outcomes(first) == ["updated", "created", "created"]
    assert first.json()["items"][1]["key"] == {"stage": stages[0].pk, "service": svc[1].pk}
    assert StageService.objects.filter(source="cmdb").count() == 3
    assert list(stages[0].services.order_by("pk")) == svc[:2]
    assert outcomes(sync(vso_api, "stage-services", items)) == ["unchanged"] * 3
    full = sync(vso_api, "stage-services", items[:2], mode="full", allow_mass_retire=True)
    assert full.json()["deleted"] == 1
    assert not stages[1].services.exists()
    feed = vso_api.get("/api/v1/changes/", resource="stage-services").json()["results"]
    # The link made outside the sync first, then the sync's (its new rows' records first).
    assert [(c["event"], c["sync_source"]) for c in feed] == [
        ("created", ""),
        ("created", "cmdb"),
        ("created", "cmdb"),
        ("updated", "cmdb"),
        ("deleted", "cmdb"),
    ]
    assert feed[3]["record"] == {"id": feed[0]["record"]["id"], "source": "cmdb", "external_id": ""}


def test_browser_stage_edits_log_each_link_and_keep_the_same_behaviour(stream):
    stage = StageFactory(value_stream=stream)
    a, b = ServiceFactory(), ServiceFactory()
    app = ApplicationFactory()
    services.save_stage(stage=stage, services=[a, b], applications=[app])
    assert set(stage.services.all()) == {a, b} and list(stage.applications.all()) == [app]
    services.save_stage(stage=stage, services=[b])
    assert list(stage.services.all()) == [b] and list(stage.applications.all()) == [app]
    actions = list(changes_of(StageService).values_list("action", flat=True))
    assert actions == [ChangeAction.CREATE, ChangeAction.CREATE, ChangeAction.DELETE]
    future = services.create_future_state(current=stream)
    copy = future.stages.get()
    assert list(copy.services.all()) == [b] and list(copy.applications.all()) == [app]


def test_stage_links_refuse_retired_targets_and_duplicates(pm_api, stream):
    stage = StageFactory(value_stream=stream, source="cmdb", external_id="st-1")
    retired = ServiceFactory(source="cmdb", external_id="old", lifecycle=ServiceLifecycle.RETIRED)
    single = pm_api.post("/api/v1/stage-services/", {"stage": stage.pk, "service": retired.pk})
    assert single.status_code == 400 and "retired" in single.json()["errors"]["service"][0]
    bulk = sync(
        pm_api,
        "stage-services",
        [{"stage": {"external_id": "st-1"}, "service": {"external_id": "old"}}],
    )
    assert "retired" in bulk.json()["errors"]["items.0.service"][0]
    app = ApplicationFactory()
    StageApplicationFactory(stage=stage, application=app)
    again = pm_api.post("/api/v1/stage-applications/", {"stage": stage.pk, "application": app.pk})
    assert again.status_code == 400
    assert again.json()["errors"] == {
        "non_field_errors": ["This application already supports this stage."]
    }


# --- Processes and connections ------------------------------------------------------------------


def test_process_activities_round_trip_and_the_layer_is_computed(vso_api, stream):
    moment = StageFactory(value_stream=stream, moment_of_truth=True)
    created = vso_api.post(
        "/api/v1/processes/",
        {
            "name": "Settle a claim",
            "value_stream": stream.pk,
            "activities": ["  Check cover ", "", "Pay"],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["activities"] == ["Check cover", "Pay"] and body["layer"] == 4
    process = Process.objects.get(pk=body["id"])
    services.save_process(process=process, stages=[moment])
    assert vso_api.get(f"/api/v1/processes/{process.pk}/").json()["layer"] == 1
    for bad, field in (
        ({"layer": 2}, "layer"),
        ({"activities": "Check cover"}, "activities"),
        ({"activities": [1, 2]}, "activities"),
        ({"name": "The claim settlement"}, "name"),
    ):
        refused = vso_api.patch(f"/api/v1/processes/{process.pk}/", bad)
        assert refused.status_code == 400 and list(refused.json()["errors"]) == [field], bad


def test_process_and_connection_syncs_relayer_and_refuse_reversed_pairs(
    pm_api, stream, django_capture_on_commit_callbacks
):
    moment = StageFactory(value_stream=stream, moment_of_truth=True)
    # A second Moment of Truth no process holds: p-0 touches the customer on layer 2.
    StageFactory(value_stream=stream, moment_of_truth=True)
    processes = [
        {"external_id": f"p-{n}", "name": f"Handle request {n}", "activities": ["Answer"]}
        for n in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(sync(pm_api, "processes", processes)) == ["created"] * 3
    touching = Process.objects.get(external_id="p-0")
    services.save_process(process=touching, stages=[])
    touching.value_stream = stream
    services.save_process(process=touching, stages=[moment])
    links = [
        {"process": {"external_id": "p-0"}, "connected_to": {"external_id": "p-1"}},
        {"process": {"external_id": "p-1"}, "connected_to": {"external_id": "p-2"}},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(sync(pm_api, "process-connections", links)) == ["created"] * 2
    layers = dict(Process.objects.values_list("external_id", "layer"))
    assert layers == {"p-0": 2, "p-1": 3, "p-2": 4}
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes(sync(pm_api, "processes", processes)) == ["unchanged"] * 3
    reversed_pair = [{"process": {"external_id": "p-1"}, "connected_to": {"external_id": "p-0"}}]
    refused = sync(pm_api, "process-connections", reversed_pair)
    assert list(refused.json()["errors"]) == ["items.0.connected_to"]
    itself = [{"process": {"external_id": "p-1"}, "connected_to": {"external_id": "p-1"}}]
    assert (
        "itself"
        in sync(pm_api, "process-connections", itself).json()["errors"]["items.0.connected_to"][0]
    )
    with django_capture_on_commit_callbacks(execute=True):
        full = sync(pm_api, "process-connections", links[:1], mode="full", allow_mass_retire=True)
    assert full.json()["deleted"] == 1
    assert Process.objects.get(external_id="p-2").layer == 4
    single = pm_api.post(
        "/api/v1/process-connections/",
        {"process": {"external_id": "p-2", "source": "cmdb"}, "connected_to": touching.pk},
    )
    assert single.status_code == 201, single.json()
    assert Process.objects.get(external_id="p-2").layer == 3
    assert Process.objects.get(external_id="p-1").layer == 3
    # A full sync that sends nothing still re-layers what its deletions changed.
    emptied = sync(pm_api, "process-connections", [], mode="full", allow_mass_retire=True)
    assert emptied.json()["deleted"] == 1
    assert Process.objects.get(external_id="p-1").layer == 4


def test_a_process_moved_to_another_stream_drops_the_stages_of_the_old_one(pm_api, stream):
    stage = StageFactory(value_stream=stream)
    process = ProcessFactory(value_stream=stream, stages=[stage], source="cmdb", external_id="p-1")
    other = ValueStreamFactory(owner=stream.owner, source="cmdb", external_id="VS-2")
    item = {"external_id": "p-1", "name": process.name, "value_stream": {"external_id": "VS-2"}}
    assert outcomes(sync(pm_api, "processes", [item])) == ["updated"]
    process.refresh_from_db()
    assert process.value_stream == other and not process.stages.exists()


# --- Improvements -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "benefit_from, benefit_to, effort",
    [
        ("5", "2", Effort.MEDIUM),  # 60 / 2 = 30.0
        ("3", "1", Effort.LARGE),  # 66.67 / 3 = 22.2
        ("100", "74.5", Effort.SMALL),  # 25.5 exactly
        ("1000", "997.5", Effort.MEDIUM),  # 0.125: half to even, 0.1
        ("1000", "996.5", Effort.MEDIUM),  # 0.175: half to even, 0.2
        ("0", "0", Effort.VERY_LARGE),
        ("-5", "5", Effort.SMALL),
    ],
)
def test_improvement_priority_is_the_boards(pm_api, stream, benefit_from, benefit_to, effort):
    item = ImprovementFactory(
        value_stream=stream,
        benefit_from=Decimal(benefit_from),
        benefit_to=Decimal(benefit_to),
        effort=effort,
    )
    body = pm_api.get(f"/api/v1/improvements/{item.pk}/").json()
    assert body["priority"] == str(selectors.priority_score(item))


def test_improvement_measures_belong_to_done_items(pm_api, stream):
    item = ImprovementFactory(value_stream=stream, source="cmdb", external_id="imp-1")
    url = f"/api/v1/improvements/{item.pk}/"
    early = pm_api.patch(url, {"measured_before": "5"})
    assert early.status_code == 400 and list(early.json()["errors"]) == ["measured_before"]
    undone = pm_api.patch(url, {"status": "done"})
    assert undone.status_code == 400
    assert set(undone.json()["errors"]) == {"measured_before", "measured_after"}
    done = pm_api.patch(url, {"status": "done", "measured_before": "5", "measured_after": "2"})
    assert done.status_code == 200 and done.json()["measured_after"] == "2.0000"
    back = pm_api.patch(url, {"status": "accepted"})
    assert back.status_code == 200
    assert (back.json()["measured_before"], back.json()["measured_after"]) == (None, None)
    base = {
        "external_id": "imp-1",
        "value_stream": {"external_id": "VS-1"},
        "title": item.title,
        "suggested_by": "vso",
        "suggested_on": "2025-03-01",
        "benefit_metric": "Lead time",
        "benefit_from": "5",
        "benefit_to": "2",
        "benefit_unit": "days",
    }
    refused = sync(pm_api, "improvements", [{**base, "measured_after": "2"}])
    assert list(refused.json()["errors"]) == ["items.0.measured_after"]
    done_item = {**base, "status": "done", "measured_before": "5", "measured_after": "2.5"}
    assert outcomes(sync(pm_api, "improvements", [done_item])) == ["updated"]
    assert outcomes(sync(pm_api, "improvements", [done_item])) == ["unchanged"]
    item.refresh_from_db()
    assert item.status == ImprovementStatus.DONE and item.measured_after == Decimal("2.5")


# --- Rights -------------------------------------------------------------------------------------


def test_owners_write_their_own_streams_only(stream, api_for, viewer):
    other_vso = UserFactory(username="vso-2", role="Value-stream owner")
    others = ValueStreamFactory(owner=other_vso, source="cmdb", external_id="VS-2")
    foreign_stage = StageFactory(value_stream=others, source="cmdb", external_id="st-x")
    owner_api = api_for(stream.owner)
    mine = owner_api.post("/api/v1/stages/", {"value_stream": stream.pk, "name": "Pay the claim"})
    assert mine.status_code == 201, mine.json()
    assert (
        owner_api.patch(f"/api/v1/value-streams/{stream.pk}/", {"segment": "X"}).status_code == 200
    )
    assert (
        owner_api.post(
            "/api/v1/stages/", {"value_stream": others.pk, "name": "Pay the claim"}
        ).status_code
        == 403
    )
    assert (
        owner_api.patch(f"/api/v1/stages/{foreign_stage.pk}/", {"name": "Pay"}).status_code == 403
    )
    assert owner_api.delete(f"/api/v1/value-streams/{others.pk}/").status_code == 403
    refused = sync(
        owner_api,
        "stages",
        [stage_item(1), stage_item(2, value_stream={"external_id": "VS-2"})],
    )
    assert refused.status_code == 403 and list(refused.json()["errors"]) == ["items.1"]
    link = sync(
        owner_api,
        "stage-services",
        [
            {
                "stage": {"external_id": "st-x"},
                "service": ServiceFactory().pk,
            }
        ],
    )
    assert link.status_code == 403
    # Reading is open to every role.
    viewer_api = api_for(viewer)
    for resource in ("value-streams", "stages", "stage-services", "processes", "improvements"):
        assert viewer_api.get(f"/api/v1/{resource}/").status_code == 200
    assert (
        viewer_api.patch(f"/api/v1/value-streams/{stream.pk}/", {"segment": "Y"}).status_code == 403
    )
    assert sync(viewer_api, "stages", [stage_item(1)]).status_code == 403
    read_only = api_for(stream.owner, write=False)
    assert read_only.get(f"/api/v1/stages/{mine.json()['id']}/").status_code == 200
    assert (
        read_only.patch(f"/api/v1/value-streams/{stream.pk}/", {"segment": "Z"}).status_code == 403
    )
    assert sync(read_only, "stages", [stage_item(1)]).status_code == 403


def test_unchanged_items_need_no_write_right(stream, api_for, pm_api, viewer):
    items = [stage_item(n) for n in range(2)]
    assert outcomes(sync(pm_api, "stages", items)) == ["created"] * 2
    answer = sync(api_for(viewer), "stages", items)
    assert answer.status_code == 200 and outcomes(answer) == ["unchanged"] * 2


# --- Lists --------------------------------------------------------------------------------------


def _connection():
    owner = UserFactory(username="vs-list-owner", role="Value-stream owner")
    stream = ValueStreamFactory(owner=owner)
    return ProcessConnectionFactory(
        process=ProcessFactory(value_stream=stream), connected_to=ProcessFactory()
    )


def _owned(factory):
    def make():
        owner = UserFactory(username="vs-list-owner", role="Value-stream owner")
        stream = ValueStreamFactory(owner=owner)
        if factory is ValueStreamFactory:
            StageFactory(value_stream=stream)
            return stream
        if factory in (StageServiceFactory, StageApplicationFactory):
            return factory(stage=StageFactory(value_stream=stream))
        return factory(value_stream=stream)

    return make


FACTORIES = {
    "value-streams": _owned(ValueStreamFactory),
    "stages": _owned(StageFactory),
    "stage-services": _owned(StageServiceFactory),
    "stage-applications": _owned(StageApplicationFactory),
    "processes": _owned(ProcessFactory),
    "process-connections": _connection,
    "improvements": _owned(ImprovementFactory),
}


def test_filters_of_stages_and_links(pm_api, stream):
    moment = StageFactory(value_stream=stream, moment_of_truth=True)
    StageFactory(value_stream=stream)
    link = StageServiceFactory(stage=moment)
    StageServiceFactory()
    ids = [r["id"] for r in pm_api.get("/api/v1/stages/", moment_of_truth="true").json()["results"]]
    assert ids == [moment.pk]
    by_stream = pm_api.get("/api/v1/stage-services/", value_stream=stream.pk).json()["results"]
    assert [r["id"] for r in by_stream] == [link.pk]
    states = pm_api.get("/api/v1/value-streams/", state="current", owner="vso").json()
    assert [r["id"] for r in states["results"]] == [stream.pk]


def test_deleting_through_the_api_uses_the_services(pm_api, stream):
    stages = [StageFactory(value_stream=stream, position=n) for n in range(3)]
    improvement = ImprovementFactory(value_stream=stream, stage=stages[0])
    assert pm_api.delete(f"/api/v1/stages/{stages[0].pk}/").status_code == 204
    assert list(stream.stages.order_by("position").values_list("position", flat=True)) == [0, 1]
    improvement.refresh_from_db()
    assert improvement.stage is None
    answer = pm_api.delete(f"/api/v1/value-streams/{stream.pk}/")
    assert answer.status_code == 200 and answer.json()["retired_at"] is not None
    assert pm_api.delete(f"/api/v1/improvements/{improvement.pk}/").status_code == 204
    assert not Improvement.objects.exists()
    assert not ProcessConnection.objects.exists()


def test_anyone_who_sees_a_stream_suggests_and_edits_their_own_while_proposed(
    stream, viewer, other_owner, api_for, vso_api
):
    """The browser's rule, through the API: a viewer suggests in their own name, edits and
    withdraws their suggestion while it is proposed, and touches nothing else."""
    mine = api_for(viewer)
    suggestion = {
        "value_stream": stream.pk,
        "title": "Pre-fill the claim form",
        "suggested_by": viewer.username,
        "suggested_on": "2025-03-01",
        "benefit_metric": "Lead time",
        "benefit_from": "5",
        "benefit_to": "2",
        "benefit_unit": "days",
    }
    created = mine.post("/api/v1/improvements/", suggestion)
    assert created.status_code == 201, created.json()
    url = f"/api/v1/improvements/{created.json()['id']}/"
    assert mine.patch(url, {"title": "Pre-fill the form"}).status_code == 200
    refused = {
        "in another's name": mine.post(
            "/api/v1/improvements/", {**suggestion, "suggested_by": other_owner.username}
        ),
        "not proposed": mine.post("/api/v1/improvements/", {**suggestion, "status": "accepted"}),
        "deciding": mine.patch(url, {"status": "accepted"}),
        "handing it on": mine.patch(url, {"suggested_by": other_owner.username}),
    }
    assert {why: r.status_code for why, r in refused.items()} == dict.fromkeys(refused, 403)
    others = ImprovementFactory(value_stream=stream, suggested_by=other_owner)
    assert mine.patch(f"/api/v1/improvements/{others.pk}/", {"title": "x"}).status_code == 403
    assert vso_api.patch(url, {"status": "accepted"}).status_code == 200  # the owner decides
    assert mine.patch(url, {"title": "Too late"}).status_code == 403
    assert mine.delete(url).status_code == 403
    assert api_for(viewer, write=False).post("/api/v1/improvements/", suggestion).status_code == 403

    batch = [{**suggestion, "external_id": f"s-{n}", "title": f"Idea {n}"} for n in range(3)]
    assert outcomes(sync(mine, "improvements", batch)) == ["created"] * 3
    again = sync(mine, "improvements", [batch[0], {**batch[1], "title": "Better"}])
    assert outcomes(again) == ["unchanged", "updated"]
    stolen = sync(mine, "improvements", [{**batch[2], "suggested_by": other_owner.username}])
    assert stolen.status_code == 403 and list(stolen.json()["errors"]) == ["items.0"]
    withdrawn = mine.delete(f"/api/v1/improvements/{Improvement.objects.get(title='Idea 0').pk}/")
    assert withdrawn.status_code in (200, 204)


def test_a_stage_service_weight_is_read_and_written_and_never_negative(pm_api, stream):
    stage = StageFactory(value_stream=stream, source="cmdb", external_id="st-1")
    service = ServiceFactory(source="cmdb", external_id="claims")
    created = pm_api.post(
        "/api/v1/stage-services/", {"stage": stage.pk, "service": service.pk, "weight": "2.5"}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["weight"] == "2.5000"
    link = StageService.objects.get()
    refused = pm_api.patch(f"/api/v1/stage-services/{link.pk}/", {"weight": "-1"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["weight"]
    bulk = sync(
        pm_api,
        "stage-services",
        [{"stage": {"external_id": "st-1"}, "service": {"external_id": "claims"}, "weight": "-3"}],
    )
    assert list(bulk.json()["errors"]) == ["items.0.weight"]
    link.refresh_from_db()
    assert link.weight == Decimal("2.5")
    with pytest.raises(Exception, match="negative"):
        services.save_stage_service(link=StageService(stage=stage, service=service, weight=-1))
    default = StageServiceFactory()
    assert pm_api.get(f"/api/v1/stage-services/{default.pk}/").json()["weight"] == "1.0000"


def test_a_changed_item_among_unchanged_ones_needs_the_write_right(stream, api_for, pm_api, viewer):
    items = [stage_item(n) for n in range(3)]
    assert outcomes(sync(pm_api, "stages", items)) == ["created"] * 3
    items[1] = {**items[1], "name": "Renamed"}
    items[2] = {**items[2], "process_time_minutes": "not a number"}
    answer = sync(api_for(viewer), "stages", items)
    assert answer.status_code == 403, answer.json()
    assert answer.json()["errors"] == {
        "items.1": ["You may not change this stage."],
        "items.2": ["You may not change this stage."],
    }
