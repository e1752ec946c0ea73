"""What keeps a request's fixed cost down: rights read with the user in a query compiled once,
orjson rendering, the cached template loader, change-log snapshots written out only when a
save needs them, addresses from routes reversed once."""

import datetime
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.functional import lazy
from rest_framework.renderers import JSONRenderer as RestFrameworkRenderer

from core.api.renderers import JSONRenderer
from core.api.tokens import issue_token
from core.models import ObjectChange
from portfolio.models import Service
from portfolio.services import save_service
from tests.factories.portfolio import ServiceFactory


def test_production_templates_use_the_cached_loader():
    """Django caches compiled templates when no loaders are named (template-partials wraps
    that chain in its own loader): a page never reads and parses its templates again."""
    (wrapper,) = engines["django"].engine.loaders
    name, chain = wrapper
    assert name == "template_partials.loader.Loader"
    assert [loader for loader, _ in chain] == ["django.template.loaders.cached.Loader"]
    assert not settings.DEBUG


def test_orjson_renderer_writes_what_rest_framework_wrote():
    data = {
        "text": "Zürich – “quoted”",
        "amount": Decimal("12.50"),
        "day": datetime.date(2026, 3, 1),
        "at": datetime.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=datetime.UTC),
        "lazy": lazy(lambda: "later", str)(),
        "nested": [{"n": 1, "ok": True, "none": None, "x": 1.5}],
        7: "an integer key",
    }
    ours = JSONRenderer().render(data)
    theirs = RestFrameworkRenderer().render(data)
    assert json.loads(ours) == json.loads(theirs)
    assert ours == theirs
    assert JSONRenderer().render(None) == b""


@pytest.mark.django_db
def test_an_api_request_reads_token_user_and_rights_in_one_query(viewer):
    _, token = issue_token(user=viewer, name="t")
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/services/", headers=headers)  # marks the token used
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/services/", headers=headers)
    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert not any("auth_permission" in q and "core_apitoken" not in q for q in sql), sql


@pytest.mark.django_db
def test_a_page_reads_the_session_user_with_its_rights(client, viewer):
    client.force_login(viewer, backend="core.signin.LocalPasswordBackend")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/services/").status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert not any("auth_permission" in q and '"auth_user"."id"' not in q for q in sql), sql


@pytest.mark.django_db
def test_rights_read_with_the_user_answer_as_the_backend_does(viewer, portfolio_manager):
    from django.contrib.auth import get_user_model

    from core.permissions import remember_permissions
    from core.permissions import with_permissions

    for user in (viewer, portfolio_manager):
        fresh = get_user_model().objects.get(pk=user.pk)
        read = with_permissions(get_user_model().objects.all()).get(pk=user.pk)
        remember_permissions(read)
        assert read.get_all_permissions() == fresh.get_all_permissions()
        assert read.has_perm("portfolio.change_service") == fresh.has_perm(
            "portfolio.change_service"
        )


@pytest.mark.django_db
def test_a_loaded_record_logs_exactly_what_changed_though_its_snapshot_waits():
    service = ServiceFactory(name="Before", summary="Kept")
    loaded = Service.objects.get(pk=service.pk)
    assert "_snapshot" not in loaded.__dict__  # not written out by loading
    loaded.name = "After"
    save_service(service=loaded)
    change = ObjectChange.objects.filter(object_id=str(service.pk)).latest("time")
    assert change.before["name"] == "Before" and change.after["name"] == "After"
    assert change.before["summary"] == change.after["summary"] == "Kept"
    # Saved again unchanged: nothing recorded.
    count = ObjectChange.objects.count()
    save_service(service=loaded)
    assert ObjectChange.objects.count() == count


@pytest.mark.django_db
def test_a_plain_api_list_asks_the_token_the_page_and_its_rows(viewer):
    """Three queries: no custom-field definitions, which only a filter parameter needs."""
    ServiceFactory.create_batch(3)
    _, token = issue_token(user=viewer, name="t")
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/services/", headers=headers)  # marks the token used
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/services/", headers=headers)
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == 3, sql
    assert not any("customfields_customfield" in q for q in sql), sql
    refused = client.get("/api/v1/services/", {"cf_nothing": "1"}, headers=headers)
    assert refused.status_code == 400
    assert "cf_nothing" in refused.json()["errors"]


@pytest.mark.django_db
def test_users_read_by_compiled_queries_are_those_the_orm_reads(viewer, portfolio_manager):
    from django.contrib.auth import get_user_model

    from core.api.tokens import find_token
    from core.signin import LocalPasswordBackend

    users = get_user_model()
    for user in (viewer, portfolio_manager):
        fresh = users.objects.get(pk=user.pk)
        fields = [field.attname for field in users._meta.concrete_fields]
        by_session = LocalPasswordBackend().get_user(user.pk)
        _, text = issue_token(user=user, name="t", expires_in_days=3)
        token = find_token(text)
        assert by_session is not None and token is not None
        for read in (by_session, token.user):
            assert [getattr(read, name) for name in fields] == [
                getattr(fresh, name) for name in fields
            ]
            assert read.get_all_permissions() == fresh.get_all_permissions()
        assert token.expires_at is not None and token.user_id == user.pk
    assert LocalPasswordBackend().get_user(10**9) is None
    viewer.is_active = False
    viewer.save()
    assert LocalPasswordBackend().get_user(viewer.pk) is None


@pytest.mark.django_db
def test_a_records_address_follows_the_script_prefix():
    from django.urls import reverse
    from django.urls import set_script_prefix

    service = ServiceFactory(slug="harbour-billing")
    assert service.get_absolute_url() == reverse("portfolio:service_detail", args=[service.slug])
    try:
        set_script_prefix("/portico/")
        assert service.get_absolute_url() == "/portico/services/harbour-billing/"
    finally:
        set_script_prefix("/")
    assert service.get_absolute_url() == "/services/harbour-billing/"


@pytest.mark.django_db
def test_rows_by_compiled_sql_are_those_the_queryset_reads():
    """A list's rows for a user who sees every record come from SQL compiled once: the same
    values, converted the same way (JSON fields, lists of usernames), in the same order."""
    from core.api.resources import autodiscover
    from tests.factories import UserFactory

    services = ServiceFactory.create_batch(3, translations={"fr": {"name": "Facturation"}})
    services[0].delegates.add(UserFactory(username="zoe"), UserFactory(username="adam"))
    for resource in autodiscover():
        order = ("updated_at", "pk") if resource.has_timestamps else ("pk",)
        records = resource._annotated.all().order_by(*order)
        ids = list(records.values_list("pk", flat=True)[:51])
        read = resource.representation.rows(records.filter(pk__in=ids))
        assert resource.representation.rows_by_id(ids, order) == read, resource.name
        if resource.name == "services":
            assert [row["translations"] for row in read] == [{"fr": {"name": "Facturation"}}] * 3
            assert any(row["delegates"] == ["adam", "zoe"] for row in read)
