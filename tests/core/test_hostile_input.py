"""No input a client can send answers 500: the review's reproductions, one by one."""

import pytest

from core.api.tokens import issue_token
from tests.api.conftest import ApiClient

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
