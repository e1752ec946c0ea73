"""The conventions every endpoint keeps: errors, ETags, media types, authentication, rights."""

import pytest
from django.test import Client

from core.choices import Channel
from portfolio.models import Service
from portfolio.models import SpecificationItem
from tests.api.conftest import ApiClient
from tests.api.helpers import changes_of
from tests.factories.portfolio import ServiceFactory
from tests.permissions import assert_permission_matrix

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"status", "code", "detail", "errors"}


def test_create_answers_201_with_location_and_etag_and_logs_channel_api(pm_api):
    response = pm_api.post(
        "/api/v1/services/", {"name": "Online claims", "kind": "customer_facing"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "online-claims" and body["lifecycle"] == "pipeline"
    assert response.headers["Location"] == f"/api/v1/services/{body['id']}/"
    assert response.headers["ETag"].startswith('"')
    change = changes_of(Service).get()
    assert change.channel == Channel.API and change.user_name == "pm"


def test_detail_has_an_etag_that_changes_with_the_record(pm_api):
    service = ServiceFactory()
    url = f"/api/v1/services/{service.pk}/"
    first = pm_api.get(url)
    assert first.status_code == 200 and first.json()["id"] == service.pk
    etag = first.headers["ETag"]
    assert pm_api.get(url).headers["ETag"] == etag
    assert pm_api.get(url, headers={"If-None-Match": etag}).status_code == 304
    pm_api.patch(url, {"summary": "Now with a summary"})
    assert pm_api.get(url).headers["ETag"] != etag


def test_if_match_answers_412_when_stale_and_writes_when_current(pm_api):
    service = ServiceFactory()
    url = f"/api/v1/services/{service.pk}/"
    etag = pm_api.get(url).headers["ETag"]
    ok = pm_api.patch(url, {"name": "First"}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["ETag"] != etag
    for method, data in (("patch", {"name": "Second"}), ("put", {"name": "x", "kind": "internal"})):
        stale = getattr(pm_api, method)(url, data, headers={"If-Match": etag})
        assert stale.status_code == 412
        assert set(stale.json()) == ERROR_KEYS and "If-Match" in stale.json()["errors"]
    assert pm_api.delete(url, headers={"If-Match": etag}).status_code == 412
    service.refresh_from_db()
    assert service.name == "First"
    current = pm_api.get(url).headers["ETag"]
    # Changed since it was created: retired, not deleted.
    assert pm_api.delete(url, headers={"If-Match": current}).status_code == 200
    service.refresh_from_db()
    assert service.lifecycle == "retired"


def test_delete_retires_what_is_referred_to(pm_api):
    provider = ServiceFactory()
    consumer = ServiceFactory()
    consumer.provider_links.create(provider=provider)
    response = pm_api.delete(f"/api/v1/services/{provider.pk}/")
    assert response.status_code == 200
    assert response.json()["lifecycle"] == "retired"


def test_put_needs_the_required_fields_patch_does_not(pm_api):
    service = ServiceFactory(name="Kept")
    url = f"/api/v1/services/{service.pk}/"
    response = pm_api.put(url, {"summary": "x"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": ["This field is required."],
        "kind": ["This field is required."],
    }
    assert pm_api.patch(url, {"summary": "x"}).json()["name"] == "Kept"


def test_unknown_and_read_only_fields_are_refused_not_ignored(pm_api):
    service = ServiceFactory()
    url = f"/api/v1/services/{service.pk}/"
    response = pm_api.patch(url, {"nmae": "Typo", "id": 5, "is_complete": True})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "nmae": ["Unknown field."],
        "id": ["This field is read-only."],
        "is_complete": ["This field is read-only."],
    }
    created = pm_api.post("/api/v1/services/", {"name": "X", "kind": "internal", "colour": 1})
    assert created.status_code == 400 and not Service.objects.filter(name="X").exists()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2]",
        '"text"',
        '{"name": NaN, "kind": "internal"}',
        '{"name": "a\\u0000b", "kind": "internal"}',
        '{"name": "x", "kind": "internal", "owner": 5}',
        '{"name": "x", "kind": "internal", "pipeline_on": "yesterday"}',
        '{"name": "x", "kind": "internal", "pipeline_on": "2025-13-45"}',
        '{"name": "' + "n" * 201 + '", "kind": "internal"}',
        '{"name": "x", "kind": ["internal"]}',
        '{"name": "x", "kind": "internal", "slug": "no spaces"}',
        '{"name": "\\ud800", "kind": "internal"}',
        '{"\\udfff": 1}',
        '{"name": "x", "kind": "internal", "criticality": 5}',
        '{"name": "x", "kind": "internal", "pipeline_on": "2025-01-01T00:00:00+23:00"}',
        "[" * 100_000 + "]" * 100_000,
        '{"name": "x", "kind": "internal", "owner": {"external_id": "a"}}',
    ],
)
def test_bad_input_answers_400_in_the_error_shape(pm_api, body):
    response = pm_api.post("/api/v1/services/", body)
    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["status"] == 400
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "owner=%00",
        "q=%00",
        "source=%00",
        "updated_since=0001-01-01T00:00:00%2B23:59",
        "updated_since=9999-12-31T23:59:59-23:59",
        "cursor=%00%00",
        "page_size=-1",
    ],
)
def test_bad_query_parameters_answer_400(pm_api, query):
    response = pm_api.client.get(
        f"/api/v1/services/?{query}", headers={"Authorization": f"Bearer {pm_api.token}"}
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) == ERROR_KEYS


def test_field_errors_name_the_field_and_why(pm_api):
    response = pm_api.post(
        "/api/v1/subscriptions/",
        {"customer": {"external_id": "nope"}, "service": 99999, "units": "1.123456"},
    )
    errors = response.json()["errors"]
    assert set(errors) == {"customer", "service", "units", "start_date"}
    assert errors["units"] == ["Ensure that there are no more than 4 decimal places."]
    assert errors["start_date"] == ["This field is required."]


def test_415_for_a_body_that_is_not_json(pm_api):
    response = pm_api.client.post(
        "/api/v1/services/",
        "name=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {pm_api.token}"},
    )
    assert response.status_code == 415
    assert set(response.json()) == ERROR_KEYS


def test_413_for_a_body_over_the_size_limit(pm_api, monkeypatch):
    from core.api import parsers

    monkeypatch.setattr(parsers, "MAX_BODY_BYTES", 1000)
    response = pm_api.post(
        "/api/v1/sync/services/", {"source": "x", "items": [{"summary": "y" * 2000}]}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_404_is_json_for_unknown_records_and_addresses(pm_api):
    for url in ("/api/v1/services/999999/", "/api/v1/nothing-here/", "/api/v1/services/1/x/"):
        response = pm_api.get(url)
        assert response.status_code == 404, url
        assert set(response.json()) == ERROR_KEYS
    huge = pm_api.get(f"/api/v1/services/{2**70}/")
    assert huge.status_code == 404


def test_the_api_answers_json_whatever_accept_says(pm_api):
    response = pm_api.get("/api/v1/services/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_401_without_or_with_a_bad_token(anonymous_api):
    response = anonymous_api.get("/api/v1/services/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == ERROR_KEYS
    bad = ApiClient("ptk_deadbeef_not-a-real-secret")
    assert bad.get("/api/v1/services/").status_code == 401
    assert ApiClient("garbage").get("/api/v1/services/").status_code == 401
    assert (
        ApiClient("ptk_\x00\x00\x00\x00\x00\x00\x00\x00_x").get("/api/v1/services/").status_code
        == 401
    )


def test_read_only_token_reads_but_may_not_write(api_for, portfolio_manager):
    service = ServiceFactory()
    reader = api_for(portfolio_manager, write=False)
    assert reader.get("/api/v1/services/").status_code == 200
    assert reader.get(f"/api/v1/services/{service.pk}/").status_code == 200
    for response in (
        reader.post("/api/v1/services/", {"name": "x", "kind": "internal"}),
        reader.patch(f"/api/v1/services/{service.pk}/", {"name": "y"}),
        reader.delete(f"/api/v1/services/{service.pk}/"),
    ):
        assert response.status_code == 403
        assert "read-only" in response.json()["detail"]
    assert Service.objects.count() == 1


def test_session_authentication_works_for_the_browser(viewer, portfolio_manager):
    client = Client()
    client.force_login(viewer)
    ServiceFactory()
    assert client.get("/api/v1/services/").status_code == 200
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(portfolio_manager)
    refused = csrf_client.post(
        "/api/v1/services/", {"name": "x", "kind": "internal"}, content_type="application/json"
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_service_permission_matrix_through_the_api(client, service_owner, other_owner, viewer):
    service = ServiceFactory(owner=service_owner)
    url = f"/api/v1/services/{service.pk}/"

    def name():
        return Service.objects.get(pk=service.pk).name

    assert_permission_matrix(
        client,
        method="get",
        url=url,
        expected={None: 401, viewer: 200, other_owner: 200, service_owner: 200},
    )
    assert_permission_matrix(
        client,
        method="patch",
        url=url,
        data='{"name": "Changed"}',
        content_type="application/json",
        expected={None: 401, viewer: 403, other_owner: 403, service_owner: 200},
        unchanged=name,
    )


def test_owners_act_on_their_own_records_only(api_for, service_owner, other_owner, viewer):
    own = ServiceFactory(owner=service_owner)
    theirs = ServiceFactory(owner=other_owner)
    owner_api = api_for(service_owner)
    assert owner_api.patch(f"/api/v1/services/{own.pk}/", {"summary": "Mine"}).status_code == 200
    assert owner_api.patch(f"/api/v1/services/{theirs.pk}/", {"summary": "No"}).status_code == 403
    item = {"aspect": "facility", "dimension": "functionality", "title": "Works"}
    mine = owner_api.post("/api/v1/specification-items/", {**item, "service": own.pk})
    assert mine.status_code == 201 and mine.json()["position"] == 0
    refused = owner_api.post("/api/v1/specification-items/", {**item, "service": theirs.pk})
    assert refused.status_code == 403
    moved = owner_api.patch(
        f"/api/v1/specification-items/{mine.json()['id']}/", {"service": theirs.pk}
    )
    assert moved.status_code == 403
    assert SpecificationItem.objects.get().service == own
    # A service owner may add services (their role's right) but a viewer may not.
    assert (
        owner_api.post("/api/v1/services/", {"name": "New", "kind": "internal"}).status_code == 201
    )
    assert Service.objects.get(name="New").owner == service_owner
    assert (
        api_for(viewer).post("/api/v1/services/", {"name": "V", "kind": "internal"}).status_code
        == 403
    )


def test_references_in_single_writes_take_the_records_source_by_default(pm_api):
    ServiceFactory(source="cmdb", external_id="a")
    provider = ServiceFactory(source="cmdb", external_id="b")
    response = pm_api.post(
        "/api/v1/service-dependencies/",
        {
            "source": "cmdb",
            "consumer": {"external_id": "a"},
            "provider": {"external_id": "b"},
            "weight": 2,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["provider"] == {"id": provider.pk, "source": "cmdb", "external_id": "b"}
    assert response.json()["weight"] == "2.0000"
    again = pm_api.post(
        "/api/v1/service-dependencies/",
        {"consumer": {"external_id": "a", "source": "cmdb"}, "provider": provider.pk},
    )
    assert again.status_code == 400
    assert again.json()["errors"] == {"provider": ["This dependency is already recorded."]}


def test_a_second_service_of_a_name_is_created_without_a_question(pm_api):
    ServiceFactory(name="Billing and payments")
    created = pm_api.post("/api/v1/services/", {"name": "Billing and payments", "kind": "internal"})
    assert created.status_code == 201 and created.json()["slug"] == "billing-and-payments-2"


def test_the_api_deletes_a_service_nothing_depends_on_and_retires_another(pm_api):
    alone = ServiceFactory(name="Alone")
    assert pm_api.delete(f"/api/v1/services/{alone.pk}/").status_code == 204
    assert not Service.objects.filter(pk=alone.pk).exists()
    used = ServiceFactory(name="Used")
    pm_api.patch(f"/api/v1/services/{used.pk}/", {"summary": "Changed"})
    response = pm_api.delete(f"/api/v1/services/{used.pk}/")
    assert response.status_code == 200 and response.json()["lifecycle"] == "retired"
