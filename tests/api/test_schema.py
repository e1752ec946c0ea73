"""The OpenAPI schema, proved with real clients: it validates, Schemathesis finds no 5xx and
no answer that contradicts it, and a client generated from it runs a sync round trip."""

import datetime
import importlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.checks import content_type_conformance
from schemathesis.checks import not_a_server_error
from schemathesis.checks import response_headers_conformance
from schemathesis.checks import response_schema_conformance
from schemathesis.checks import status_code_conformance

from budgets.api import views as budget_api_views
from cloud.api import views as cloud_api_views
from core.api.resources import autodiscover
from core.api.tokens import issue_token
from ledger.api import views as ledger_api_views
from tests.api.test_lists import FACTORIES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Per operation: enough to reach the error paths of each, the whole run within about a minute.
EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, called in-process within the test's transaction.

    Django closes the database connection at the end of each request; the test client
    prevents that and so must any other in-process caller, or the test's transaction is lost.
    """
    from django.core.signals import request_finished
    from django.core.signals import request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def served_schema(client) -> dict:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_is_served_as_json_on_request(client, served_schema):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert response.json() == served_schema


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")


def test_schema_describes_every_resource_and_refuses_unknown_properties(served_schema):
    paths, components = served_schema["paths"], served_schema["components"]["schemas"]
    for resource in autodiscover():
        name = resource.component
        assert f"/api/v1/{resource.name}/" in paths
        assert f"/api/v1/{resource.name}/{{id}}/" in paths
        if resource.writes is None:  # read-only: its reads alone
            assert f"/api/v1/sync/{resource.name}/" not in paths
            assert set(paths[f"/api/v1/{resource.name}/{{id}}/"]) == {"get"}
            continue
        bodies = [f"{name}Write", f"Patched{name}Write"]
        if resource.is_syncable:
            assert f"/api/v1/sync/{resource.name}/" in paths
            bodies += [f"{name}SyncItem", f"{name}SyncRequest"]
        else:  # written one record at a time (scenarios)
            assert f"/api/v1/sync/{resource.name}/" not in paths
            assert f"{name}SyncItem" not in components
        for body in bodies:
            assert components[body]["additionalProperties"] is False, body
        assert set(components[name]["properties"]) >= {"id", "created_at", "updated_at"}
    assert {"tokenAuth", "cookieAuth"} <= set(served_schema["components"]["securitySchemes"])


def test_docs_are_served_from_static_not_a_cdn(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower() and "unpkg" not in page
    assert "/api/v1/schema/" in page


def seed_records() -> dict[str, list[int]]:
    return {name: [make().pk for _ in range(2)] for name, make in FACTORIES.items()}


def conformance_test(operation, *, ids: list[int], headers: dict):
    """A Hypothesis test of one operation: every answer must keep to the schema."""

    @given(case=operation.as_strategy(), pick=st.integers(0, 3))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def check(case, pick):
        # Half the cases address records that exist, so writes reach the rules.
        if case.path_parameters and "id" in case.path_parameters and pick < 2:
            case.path_parameters["id"] = ids[pick % len(ids)]
        case.call_and_validate(headers=headers, checks=CHECKS)

    return check


def test_schemathesis_finds_no_server_error_and_no_answer_against_the_schema(
    wsgi_app, portfolio_manager
):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    _, token = issue_token(user=portfolio_manager, write=True)
    headers = {"Authorization": f"Bearer {token}"}
    existing = seed_records()
    existing["users"] = [UserFactory().pk for _ in range(2)]
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        ids = existing.get(operation.path.split("/")[3]) or [1]
        try:
            conformance_test(operation, ids=ids, headers=headers)()
        except Exception as exc:  # every failing operation is reported, not only the first
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    # Each resource: list, create, read, replace, change, delete, sync (read-only: list and
    # read; no sync for one without a sync key) and its extra addresses; then the index, the
    # change feed, the users' list, create, read, change, deactivate and sync
    # (people.api.users), and the actions beside the resources (a FOCUS or ledger import, a
    # rule's test, a budget's build and approval, the budget results), and the sync sessions'
    # five (open, read, abort, add a batch, commit).
    actions = (
        len(cloud_api_views.urlpatterns)
        + len(ledger_api_views.urlpatterns)
        + len(budget_api_views.urlpatterns)
    )
    assert operations == 2 + 6 + 5 + actions + sum(
        (2 + 4 * (resource.writes is not None) + resource.is_syncable) + len(resource.reads.extras)
        for resource in autodiscover()
    )
    assert not failures, "\n\n".join(failures)


def generate_client(schema_text: bytes, tmp_path: Path):
    (tmp_path / "schema.yaml").write_bytes(schema_text)
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(tmp_path / "schema.yaml"),
            "--output-path",
            str(tmp_path / "client"),
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        return importlib.import_module("portico_api_client")
    finally:
        sys.path.remove(str(tmp_path / "client"))


def test_generated_python_client_runs_a_sync_round_trip(wsgi_app, portfolio_manager, tmp_path):
    import httpx

    transport = httpx.WSGITransport(app=wsgi_app)
    with httpx.Client(transport=transport, base_url="http://testserver") as http:
        served = http.get("/api/v1/schema/")
    assert served.status_code == 200
    package = generate_client(served.content, tmp_path)
    from portico_api_client import AuthenticatedClient
    from portico_api_client.api.changes import list_changes
    from portico_api_client.api.services import list_services
    from portico_api_client.api.sync import sync_services
    from portico_api_client.models import ServiceKind
    from portico_api_client.models import ServiceSyncItem
    from portico_api_client.models import ServiceSyncRequest
    from portico_api_client.models import ServiceSyncRequestMode
    from portico_api_client.models import SyncResult

    assert package.__name__ == "portico_api_client"
    _, token = issue_token(user=portfolio_manager, write=True)
    api = AuthenticatedClient(
        base_url="http://testserver",
        token=token,
        raise_on_unexpected_status=True,
        httpx_args={"transport": transport},
    )
    items = [
        ServiceSyncItem(external_id=f"cmdb-{n}", name=f"Service {n}", kind=ServiceKind.SUPPORTING)
        for n in range(6)
    ]

    def run(body):
        result = sync_services.sync(client=api, body=body)
        assert isinstance(result, SyncResult), result
        return result

    created = run(ServiceSyncRequest(source="cmdb", items=items))
    assert created.created == 6
    again = run(ServiceSyncRequest(source="cmdb", items=items))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)

    before_full = datetime.datetime.now(datetime.UTC)
    full = run(ServiceSyncRequest(source="cmdb", items=items[:5], mode=ServiceSyncRequestMode.FULL))
    assert (full.unchanged, full.retired) == (5, 1)
    assert full.retirements[0].key["external_id"] == "cmdb-5"

    delta = list_services.sync(client=api, updated_since=before_full, source="cmdb")
    assert [s.external_id for s in delta.results] == ["cmdb-5"]
    assert delta.results[0].lifecycle.value == "retired"
    feed = list_changes.sync(client=api, since=before_full)
    assert [(c.event.value, c.record.external_id) for c in feed.results] == [("retired", "cmdb-5")]


def test_schema_command_output_is_stable(tmp_path):
    first, second = io.StringIO(), io.StringIO()
    call_command("spectacular", stdout=first)
    call_command("spectacular", stdout=second)
    assert first.getvalue() == second.getvalue()
