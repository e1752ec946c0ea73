"""Helpers shared by the customer, supplier/contract and application page tests."""

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.factories import UserFactory
from tests.permissions import assert_permission_matrix

HTMX = {"HTTP_HX_REQUEST": "true"}


def queries_for(client, url: str, *, htmx: bool = False) -> int:
    """How many queries one GET of ``url`` makes (after a warm-up request)."""
    extra = HTMX if htmx else {}
    client.get(url, **extra)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(captured.captured_queries)


def assert_each_may(client, users, *, method: str, make_url, data=None, status=302, **extra):
    """Each of ``users`` gets ``status`` for the request ``make_url()`` builds (a fresh object
    for each one, where the request uses the object up)."""
    for user in users:
        client.force_login(user)
        url = make_url()
        response = getattr(client, method)(url, data=data or {}, **extra)
        assert response.status_code == status, f"{user.username}: {response.status_code}"
        client.logout()


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def xlsx_rows(response) -> list[tuple]:
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def is_partial(response) -> bool:
    """An htmx partial: a fragment of the page, not a whole document."""
    body = response.content.decode()
    return "<html" not in body and "<body" not in body


def assert_readable_by_every_role(client, urls, users, *, detail_url: str) -> None:
    """Each of ``users`` (one of every role) may read each of ``urls``, the anonymous are sent
    to log in, and a signed-in user with no role is refused ``detail_url``. Leaves that user
    signed in."""
    for url in urls:
        assert_permission_matrix(
            client,
            method="get",
            url=url,
            expected={None: 302, **dict.fromkeys(users, 200)},
        )
    client.force_login(UserFactory(username="no-role"))
    assert client.get(detail_url).status_code == 403


def assert_remove_matrix(client, *, url: str, refused, unchanged, allowed, make_url) -> None:
    """A removal posted by each of ``refused`` gets its status and changes nothing
    (``unchanged``); each of ``allowed`` removes a fresh row (``make_url()`` builds its URL)."""
    assert_permission_matrix(client, method="post", url=url, expected=refused, unchanged=unchanged)
    assert_each_may(client, allowed, method="post", make_url=make_url)
