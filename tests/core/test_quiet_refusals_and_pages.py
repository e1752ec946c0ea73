"""What a refusal logs, what the log-in page says of the ways in, and the API docs' header."""

import logging

import pytest
from django.urls import reverse

from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


def test_a_refusal_logs_one_line_without_traceback(client, viewer, caplog):
    service = ServiceFactory(name="Guarded")
    client.force_login(viewer)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("portfolio:service_edit", args=[service.slug]))
    assert response.status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None and record.exc_text is None
    line = caplog.handler.format(record)
    assert "\n" not in line and "Traceback" not in line
    assert "Forbidden (Permission denied)" in line


def test_the_login_page_names_the_sign_in_options(client, settings):
    settings.LOGIN_LOCAL_PASSWORDS = True
    settings.LDAP_SERVER_URI = ""
    settings.OIDC_ISSUER = ""
    page = client.get("/login/").content.decode()
    assert "You can sign in here with:" in page
    assert "A local Portico account and its password" in page
    assert "LDAP" not in page and "OpenID" not in page

    settings.LDAP_SERVER_URI = "ldap://directory.example.org"
    settings.OIDC_ISSUER = "https://login.example.org"
    page = client.get("/login/").content.decode()
    for way in ("Single sign-on (OpenID Connect)", "(LDAP / Active Directory)", "local Portico"):
        assert way in page


def test_the_api_docs_page_has_the_header(client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("api:docs")).content.decode()
    assert '<header class="site' in page
    assert 'action="/search/"' in page and 'href="/services/"' in page
