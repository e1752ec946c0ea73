"""No input a client can send answers 500: the review's reproductions, one by one."""

from urllib.parse import quote

import pytest

from core.api.tokens import issue_token
from tests.api.conftest import ApiClient
from tests.factories.portfolio import ServiceFactory

HUGE = "99999999999999999999"  # more than any column holds


# --- The reproductions of the review -----------------------------------------------------------


def nested(depth: int):
    value: list | dict = {"c1a": 1}
    for _ in range(depth - 1):
        value = [value]
    return value


TOO_DEEP = "Nested more than 32 levels deep."
JSON_FIELDS = [("assessments", "answers"), ("processes", "activities")]


@pytest.mark.django_db
@pytest.mark.parametrize("resource, field", JSON_FIELDS)
def test_deeply_nested_json_is_refused_naming_the_field(resource, field, portfolio_manager):
    _, secret = issue_token(user=portfolio_manager, name="script", write=True)
    api = ApiClient(secret)
    response = api.post(f"/api/v1/{resource}/", {field: nested(500)})
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {field: [TOO_DEEP]}
    in_a_sync = {"source": "cmdb", "items": [{"external_id": "x", field: nested(500)}]}
    response = api.post(f"/api/v1/sync/{resource}/", in_a_sync)
    assert response.status_code == 400
    assert response.json()["errors"] == {f"items.0.{field}": [TOO_DEEP]}
    # Deeper than Python's own parser goes: refused as such, not a crash.
    response = api.post(f"/api/v1/{resource}/", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("resource, field", JSON_FIELDS)
def test_deeply_nested_json_from_a_viewer_with_a_write_token_is_refused(resource, field, viewer):
    """A viewer may not add these; whether that or the body is refused first, never a 500."""
    _, secret = issue_token(user=viewer, name="script", write=True)
    response = ApiClient(secret).post(f"/api/v1/{resource}/", {field: nested(500)})
    assert response.status_code in (400, 403), response.content


@pytest.mark.django_db
def test_a_read_only_token_is_refused_before_its_body_is_read(viewer):
    _, secret = issue_token(user=viewer, name="reader", write=False)
    api = ApiClient(secret)
    for body in (nested(500), "[" * 100_000, "not json"):
        response = api.post("/api/v1/assessments/", body)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_every_list_page_takes_any_per_page(client, viewer):
    for n in range(3):
        ServiceFactory(name=f"Service {n}", slug=f"service-{n}")
    client.force_login(viewer)
    for value, rows in (("-1", 3), ("0", 3), (HUGE, 3), ("abc", 3), ("١", 3), ("2", 2)):
        response = client.get("/services/", {"per_page": value})
        assert response.status_code == 200, value
        assert len(response.context["table"].page.object_list) == rows, value
    for value in ("-1", "0", HUGE, "abc"):
        assert client.get("/services/", {"page": value, "per_page": "2"}).status_code == 200


@pytest.mark.django_db
def test_a_null_character_in_any_query_parameter_is_refused(client, viewer, portfolio_manager):
    client.force_login(viewer)
    for path in ("/services/options/", "/applications/options/", "/value-streams/improvements/"):
        for query in ({"q": "a\x00"}, {"value_stream": "\x00"}, {"x\x00": "1"}):
            response = client.get(path, query)
            assert response.status_code == 400, (path, query)
            assert "null character" in response.content.decode()
    _, secret = issue_token(user=portfolio_manager, name="script", write=False)
    response = ApiClient(secret).get("/api/v1/services/", q="\x00")
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": ["Null characters are not allowed."]}


@pytest.mark.django_db
def test_history_of_an_id_that_cannot_be_one_is_not_found(client, viewer):
    service = ServiceFactory(name="Claims", slug="claims")
    client.force_login(viewer)
    base = "/history/portfolio/service/"
    assert client.get(f"{base}{service.pk}/").status_code == 200
    for text in ("abc", quote("été"), quote("١"), "1.5", HUGE, "-1"):
        assert client.get(f"{base}{text}/").status_code == 404, text
