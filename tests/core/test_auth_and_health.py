import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from core import health
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings):
    from portico import settings as configured

    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS  # tests use a fast one otherwise
    user = UserFactory(username="hashed")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_login_then_dashboard_then_logout(client, viewer):
    response = client.post(
        reverse("login"), {"username": viewer.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("logout"))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_repeated_failed_logins_are_throttled(client, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": viewer.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": viewer.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content


@pytest.mark.django_db
def test_healthz_answers_200_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]


@pytest.mark.django_db
def test_healthz_answers_503_when_broker_is_down(client, monkeypatch):
    from portico.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    state, detail = health.broker_state()
    assert state is False and detail
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


@pytest.mark.django_db
def test_error_pages_are_friendly(client, viewer):
    client.force_login(viewer)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Back to the dashboard" in response.content
