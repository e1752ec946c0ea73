"""Log-in throttling: one username from one address (axes), and one address whatever the
usernames (password spraying), for the same cool-off; the address is the client's, also behind
the TLS proxy."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory

SPRAYER = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"
LOCKED_OUT = b"Too many failed log-ins"


def log_in(username: str, password: str, address: str, **headers):
    return Client().post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        headers=headers,
    )


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    return settings


@pytest.mark.django_db
def test_many_usernames_from_one_address_are_refused_after_the_limit(limits):
    people = [UserFactory(username=f"person{n}", role="Viewer") for n in range(10)]
    # One wrong password for each of eight people: no one reaches five, the address reaches 8.
    answers = [log_in(p.username, "Winter2026!", SPRAYER).status_code for p in people[:8]]
    assert answers == [200] * 7 + [429]
    # Now even the right password of a ninth person is refused from that address...
    response = log_in(people[8].username, TEST_PASSWORD, SPRAYER)
    assert response.status_code == 429 and LOCKED_OUT in response.content
    # ...and accepted from another one.
    response = log_in(people[8].username, TEST_PASSWORD, NEIGHBOUR)
    assert response.status_code == 302 and response.url == reverse("dashboard")


@pytest.mark.django_db
def test_failures_below_the_address_limit_refuse_nobody_else(limits):
    alice = UserFactory(username="alice", role="Viewer")
    for n in range(7):
        assert log_in(f"nobody{n}", "guess", SPRAYER).status_code == 200
    assert log_in(alice.username, TEST_PASSWORD, SPRAYER).status_code == 302


@pytest.mark.django_db
def test_the_address_lock_ends_with_the_cool_off(limits):
    from axes.models import AccessAttempt
    from django.utils import timezone

    alice = UserFactory(username="alice", role="Viewer")
    for n in range(8):
        log_in(f"nobody{n}", "guess", SPRAYER)
    assert log_in(alice.username, TEST_PASSWORD, SPRAYER).status_code == 429
    cool_off = timezone.timedelta(minutes=limits.AXES_COOLOFF_TIME * 60 + 1)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off)
    assert log_in(alice.username, TEST_PASSWORD, SPRAYER).status_code == 302


@pytest.mark.django_db
def test_behind_the_tls_proxy_the_client_is_the_last_forwarded_address(limits):
    limits.BEHIND_TLS_PROXY = True
    proxy = "10.0.0.2"
    alice = UserFactory(username="alice", role="Viewer")
    # The sprayer claims a different address each time; the proxy appends the real one.
    for n in range(8):
        forwarded = f"192.0.2.{n}, {SPRAYER}"
        log_in(f"nobody{n}", "guess", proxy, **{"X-Forwarded-For": forwarded})
    response = log_in(alice.username, TEST_PASSWORD, proxy, **{"X-Forwarded-For": SPRAYER})
    assert response.status_code == 429
    # Everyone else behind the same proxy still logs in.
    response = log_in(alice.username, TEST_PASSWORD, proxy, **{"X-Forwarded-For": NEIGHBOUR})
    assert response.status_code == 302
