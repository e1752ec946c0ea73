import datetime
import hashlib
import io

import pytest
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.api.tokens import issue_token
from core.api.tokens import revoke_token
from core.models import ApiToken
from tests.api.conftest import ApiClient
from tests.permissions import assert_permission_matrix

pytestmark = pytest.mark.django_db


def test_token_is_stored_as_a_digest_found_by_its_prefix(viewer):
    token, text = issue_token(user=viewer, name="script")
    assert text.startswith(f"ptk_{token.prefix}_")
    assert token.digest == hashlib.sha256(text.encode()).hexdigest()
    assert text not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert not token.write
    assert ApiClient(text).get("/api/v1/services/").status_code == 200
    tampered = text[:-2] + ("AA" if not text.endswith("AA") else "BB")
    assert ApiClient(tampered).get("/api/v1/services/").status_code == 401


def test_revoked_and_expired_tokens_are_refused(viewer):
    revoked, revoked_text = issue_token(user=viewer)
    revoke_token(token=revoked)
    expired, expired_text = issue_token(user=viewer, expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    for text in (revoked_text, expired_text):
        response = ApiClient(text).get("/api/v1/services/")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"


def test_a_token_of_an_inactive_user_is_refused(viewer):
    _, text = issue_token(user=viewer)
    viewer.is_active = False
    viewer.save()
    assert ApiClient(text).get("/api/v1/services/").status_code == 401


def test_token_use_is_recorded(viewer):
    token, text = issue_token(user=viewer)
    ApiClient(text).get("/api/v1/services/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_create_api_token_prints_only_the_token(viewer):
    out = io.StringIO()
    call_command("create_api_token", "viewer", "--write", "--expires", "30", stdout=out)
    text = out.getvalue().strip()
    assert "\n" not in text and text.startswith("ptk_")
    token = ApiToken.objects.get(user=viewer)
    assert token.write and token.expires_at > timezone.now() + datetime.timedelta(days=29)
    assert token.digest == hashlib.sha256(text.encode()).hexdigest()
    read_only = io.StringIO()
    call_command("create_api_token", "viewer", stdout=read_only)
    assert not ApiToken.objects.get(
        digest=hashlib.sha256(read_only.getvalue().strip().encode()).hexdigest()
    ).write


def test_create_api_token_refuses_unknown_users_and_bad_expiry(viewer):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "ghost", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--expires"):
        call_command("create_api_token", "viewer", "--expires", "0", stdout=io.StringIO())


def test_profile_page_creates_a_token_shown_once(client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("profile"))
    assert page.status_code == 200
    assert b"You have no API tokens" in page.content
    assert reverse("profile").encode() in client.get(reverse("dashboard")).content
    created = client.post(
        reverse("token_create"), {"name": "Nightly sync", "write": "on", "expires_in_days": "90"}
    )
    assert created.status_code == 201
    token = ApiToken.objects.get(user=viewer)
    secret = created.context["new_secret"]
    assert secret.encode() in created.content and token.write and token.name == "Nightly sync"
    assert created["Cache-Control"].startswith("max-age=0")
    again = client.get(reverse("profile"))
    assert secret.encode() not in again.content
    assert f"ptk_{token.prefix}_".encode() in again.content


def test_profile_token_form_errors_answer_422_with_the_partial(client, viewer):
    client.force_login(viewer)
    response = client.post(
        reverse("token_create"), {"expires_in_days": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert b"<html" not in response.content and b'id="api-tokens"' in response.content
    assert not ApiToken.objects.exists()


def test_profile_revokes_only_ones_own_tokens(client, viewer, service_owner):
    mine, _ = issue_token(user=viewer)
    theirs, _ = issue_token(user=service_owner)
    client.force_login(viewer)
    response = client.post(reverse("token_revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert client.post(reverse("token_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    partial = client.post(reverse("token_revoke", args=[mine.pk]), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"revoked" in partial.content


def test_profile_permission_matrix(client, viewer, service_owner):
    token, _ = issue_token(user=service_owner)
    assert_permission_matrix(
        client,
        method="get",
        url=reverse("profile"),
        expected={None: 302, viewer: 200, service_owner: 200},
    )
    assert_permission_matrix(
        client,
        method="post",
        url=reverse("token_revoke", args=[token.pk]),
        expected={None: 302, viewer: 404},
        unchanged=lambda: ApiToken.objects.get(pk=token.pk).revoked_at,
    )
