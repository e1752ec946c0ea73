"""Sign-in through a real directory (slapd) and a real OpenID provider (oidc-provider): people
land with the role their groups map to, lose it when the group goes, and are refused with the
reason when no group maps to a role; axes throttles directory sign-ins as it does local ones."""

from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles
from core import signin
from tests.core.identity_servers import DIRECTORY
from tests.core.identity_servers import PROVIDER_ACCOUNTS
from tests.core.identity_servers import free_port
from tests.core.test_settings import load_settings
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def role_names(username: str) -> set[str]:
    user = User.objects.get(username=username)
    return set(user.groups.filter(name__in=roles.ROLES).values_list("name", flat=True))


def signed_in_as(client) -> str | None:
    user = client.get(reverse("dashboard")).wsgi_request.user
    return user.get_username() if user.is_authenticated else None


# --- The directory ---------------------------------------------------------------------------


def directory_login(client, uid: str, password: str | None = None):
    password = DIRECTORY[uid][2] if password is None else password
    return client.post(reverse("login"), {"username": uid, "password": password})


def test_directory_sign_in_gives_the_role_its_group_maps_to(client, directory):
    response = directory_login(client, "dora")

    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("dashboard")
    assert signed_in_as(client) == "dora"
    dora = User.objects.get(username="dora")
    assert (dora.first_name, dora.last_name, dora.email) == (
        "Dora",
        "Directory",
        "dora@example.org",
    )
    assert not dora.has_usable_password()  # the directory keeps the password
    assert role_names("dora") == {roles.PORTFOLIO_MANAGER}  # by the group's distinguished name
    assert dora.has_perm("portfolio.change_service")


def test_directory_maps_groups_by_name_too(client, directory):
    assert directory_login(client, "vic").status_code == 302

    assert role_names("vic") == {roles.VIEWER}


def test_directory_roles_follow_the_groups_at_every_sign_in(client, directory):
    directory_login(client, "vic")
    client.logout()
    directory.set_groups("vic", ["portico-finance", "portico-viewers"])

    directory_login(client, "vic")
    assert role_names("vic") == {roles.FINANCE, roles.VIEWER}
    client.logout()

    directory.set_groups("vic", ["portico-finance"])  # the viewers' group removed
    directory_login(client, "vic")
    assert role_names("vic") == {roles.FINANCE}


def test_directory_sign_in_without_a_role_strips_the_roles_and_says_why(client, directory):
    UserFactory(username="nora", role=roles.VIEWER)  # a role from before

    response = directory_login(client, "nora")

    assert response.status_code == 200
    assert signed_in_as(client) is None
    page = response.content.decode()
    assert "none of your groups gives you a role in Portico" in page
    assert role_names("nora") == set()


def test_a_sign_in_without_a_role_deactivates_whoever_owns_nothing(client, directory):
    UserFactory(username="nora", role=roles.VIEWER)

    directory_login(client, "nora")

    assert not User.objects.get(username="nora").is_active


def test_a_sign_in_without_a_role_leaves_an_owner_active_to_hand_over(client, directory):
    nora = UserFactory(username="nora", role=roles.SERVICE_OWNER)
    ServiceFactory(owner=nora, live=True)

    response = directory_login(client, "nora")

    assert signed_in_as(client) is None
    assert "none of your groups gives you a role in Portico" in response.content.decode()
    nora.refresh_from_db()
    assert nora.is_active and role_names("nora") == set()


def test_directory_wrong_password_is_refused_as_such(client, directory):
    response = directory_login(client, "dora", "not-the-password")

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="dora").exists()


def test_directory_sign_ins_are_throttled(client, directory, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        directory_login(client, "dora", "guessing")

    # The right password no longer helps while the lock-out lasts.
    response = directory_login(client, "dora")

    assert response.status_code == 429
    assert signed_in_as(client) is None
    assert AccessAttempt.objects.get(username="dora").failures_since_start >= 3
    # Axes answered before the directory was asked: the account was never made.
    assert not User.objects.filter(username="dora").exists()


def test_directory_sign_in_works_with_local_passwords_off(client, directory, settings):
    settings.LOGIN_LOCAL_PASSWORDS = False
    local = UserFactory(username="local-person", role=roles.VIEWER)

    refused = client.post(reverse("login"), {"username": local.username, "password": TEST_PASSWORD})
    assert refused.status_code == 200
    assert signed_in_as(client) is None

    assert directory_login(client, "dora").status_code == 302
    assert signed_in_as(client) == "dora"
    # Rights still come from the role groups with local passwords off.
    assert User.objects.get(username="dora").has_perm("portfolio.change_service")


def test_directory_does_not_create_people_when_told_not_to(client, directory, settings):
    settings.AUTH_LDAP_NO_NEW_USERS = True

    assert directory_login(client, "dora").status_code == 200
    assert not User.objects.filter(username="dora").exists()


# --- The OpenID provider -----------------------------------------------------------------------


def provider_login(client, username: str, password: str | None = None, *, next_url: str = ""):
    """Go through the provider as a browser would: Portico sends us there, we log in on its
    page, it sends us back to Portico's callback. Returns Portico's answer to the callback."""
    password = PROVIDER_ACCOUNTS[username]["password"] if password is None else password
    start = client.get(
        reverse("oidc_authentication_init") + (f"?next={next_url}" if next_url else "")
    )
    assert start.status_code == 302, start.content.decode()[:2000]
    browser = requests.Session()
    location = start["Location"]
    while True:  # to the provider's log-in page
        answer = browser.get(location, allow_redirects=False, timeout=10)
        if answer.status_code not in (302, 303):
            break
        location = urljoin(location, answer.headers["Location"])
    assert answer.status_code == 200 and "Test identity provider" in answer.text, answer.text
    answer = browser.post(
        location, data={"login": username, "password": password}, allow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    location = urljoin(location, answer.headers["Location"])
    while not location.startswith("http://testserver/"):
        answer = browser.get(location, allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), answer.text
        location = urljoin(location, answer.headers["Location"])
    callback = urlsplit(location)
    assert callback.path == reverse("oidc_authentication_callback")
    return client.get(callback.path, {k: v[0] for k, v in parse_qs(callback.query).items()})


def test_single_sign_on_gives_the_role_the_groups_map_to(client, identity_provider):
    response = provider_login(client, "olga")

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert signed_in_as(client) == "olga"
    olga = User.objects.get(username="olga")
    assert (olga.first_name, olga.last_name, olga.email) == ("Olga", "Owner", "olga@example.org")
    assert not olga.has_usable_password()
    # "staff" maps to nothing and is ignored; the other group gives its role.
    assert role_names("olga") == {roles.SERVICE_OWNER}


def test_single_sign_on_groups_compare_without_case(client, identity_provider):
    provider_login(client, "pam")  # in "Portico-Managers"; the map says "portico-managers"

    assert role_names("pam") == {roles.PORTFOLIO_MANAGER}


def test_single_sign_on_returns_to_the_page_asked_for(client, identity_provider):
    response = provider_login(client, "olga", next_url="/profile/")

    assert response["Location"] == "/profile/"


def test_single_sign_on_roles_follow_the_groups_at_every_sign_in(client, identity_provider):
    provider_login(client, "olga")
    client.logout()

    identity_provider.set_groups("olga", ["portico-managers"])
    provider_login(client, "olga")

    assert role_names("olga") == {roles.PORTFOLIO_MANAGER}  # the owners' group removed


def test_single_sign_on_without_a_role_strips_the_roles_and_says_why(client, identity_provider):
    provider_login(client, "olga")
    client.logout()
    identity_provider.set_groups("olga", ["staff"])

    response = provider_login(client, "olga")

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signed_in_as(client) is None
    assert role_names("olga") == set()
    page = client.get(reverse("login")).content.decode()
    assert "none of your groups gives you a role in Portico" in page


def test_single_sign_on_matches_an_existing_account_by_username(client, identity_provider):
    existing = UserFactory(username="olga", first_name="O.", role=roles.VIEWER)

    provider_login(client, "olga")

    olga = User.objects.get(username="olga")
    assert olga.pk == existing.pk
    assert olga.first_name == "Olga"
    assert role_names("olga") == {roles.SERVICE_OWNER}
    assert User.objects.filter(username__iexact="olga").count() == 1


def test_single_sign_on_refuses_claims_an_account_cannot_hold(client, identity_provider):
    long_name = "a" * 151
    identity_provider.add_account(
        long_name, {**PROVIDER_ACCOUNTS["olga"], "email": "x" * 250 + "@example.org"}
    )
    identity_provider.add_account(
        "tom", {**PROVIDER_ACCOUNTS["olga"], "email": "x" * 250 + "@example.org"}
    )

    refused = provider_login(client, long_name, PROVIDER_ACCOUNTS["olga"]["password"])
    assert refused["Location"] == reverse("login")
    assert not User.objects.filter(username=long_name).exists()

    provider_login(client, "tom", PROVIDER_ACCOUNTS["olga"]["password"])
    tom = User.objects.get(username="tom")
    assert tom.email == ""  # too long to keep; the rest of the sign-in goes on
    assert role_names("tom") == {roles.SERVICE_OWNER}


def test_single_sign_on_does_not_create_people_when_told_not_to(
    client, identity_provider, settings
):
    settings.OIDC_CREATE_USER = False

    response = provider_login(client, "olga")

    assert response["Location"] == reverse("login")
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="olga").exists()


def test_single_sign_on_refuses_an_inactive_account(client, identity_provider):
    UserFactory(username="olga", is_active=False, role=roles.VIEWER)

    provider_login(client, "olga")

    assert signed_in_as(client) is None
    assert role_names("olga") == {roles.VIEWER}  # a deactivated account is left as it is


def test_single_sign_on_wrong_client_secret_signs_nobody_in(client, identity_provider, settings):
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"

    response = provider_login(client, "olga")

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signed_in_as(client) is None
    page = client.get(reverse("login")).content.decode()
    assert "Single sign-on did not sign you in" in page


def test_single_sign_on_from_a_locked_out_address_is_refused(client, identity_provider, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    for username in ("admin", "root"):  # password spraying from this address
        client.post(reverse("login"), {"username": username, "password": "guess"})

    response = provider_login(client, "olga")

    assert response.status_code == 429
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="olga").exists()


def test_single_sign_on_refusals_count_against_the_address(client, identity_provider, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    provider_login(client, "gus")  # no group of gus maps to a role
    provider_login(client, "gus")

    response = provider_login(client, "olga")

    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_single_sign_on_callback_without_a_flow_is_refused(client, identity_provider):
    response = client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"})

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signed_in_as(client) is None


def test_unreachable_provider_is_said_on_the_login_page(client, settings):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    signin.forget_provider_metadata()

    response = client.get(reverse("oidc_authentication_init"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "identity provider cannot be reached" in response.content.decode()


def test_single_sign_on_pages_are_absent_when_it_is_off(client, settings):
    settings.OIDC_ISSUER = None

    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


# --- The log-in page names the ways in -----------------------------------------------------------


def test_login_page_offers_what_is_configured(client, identity_provider, settings):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with single sign-on" in page
    assert 'name="password"' in page
    assert reverse("password_reset") in page

    settings.LOGIN_LOCAL_PASSWORDS = False
    settings.OIDC_BUTTON_LABEL = "Sign in with Example Insurance"
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Example Insurance" in page
    assert 'name="password"' not in page
    assert reverse("password_reset") not in page
    # Nor does a password posted anyway sign anyone in.
    local = UserFactory(username="local-person", role=roles.VIEWER)
    response = client.post(
        reverse("login"), {"username": local.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 404
    assert signed_in_as(client) is None


def test_login_page_names_the_directory(client, settings):
    settings.LDAP_SERVER_URI = "ldap://127.0.0.1:389/"

    page = client.get(reverse("login")).content.decode()

    assert "directory account" in page
    assert "single sign-on" not in page


def test_local_passwords_off_refuses_local_accounts(client, settings):
    settings.LOGIN_LOCAL_PASSWORDS = False
    settings.LDAP_SERVER_URI = "ldap://127.0.0.1:389/"  # the form stays, for the directory
    settings.AUTH_LDAP_SERVER_URI = f"ldap://127.0.0.1:{free_port()}/"
    local = UserFactory(username="local-person", role=roles.VIEWER)

    response = client.post(
        reverse("login"), {"username": local.username, "password": TEST_PASSWORD}
    )

    assert response.status_code == 200
    assert signed_in_as(client) is None


# --- apply_roles ------------------------------------------------------------------------------


def test_apply_roles_sets_exactly_the_roles_and_keeps_other_groups():
    other = Group.objects.create(name="Newsletter")
    user = UserFactory(role=roles.VIEWER)
    user.groups.add(other)

    assert signin.apply_roles(user, {roles.FINANCE, roles.SERVICE_OWNER})
    assert set(user.groups.values_list("name", flat=True)) == {
        roles.FINANCE,
        roles.SERVICE_OWNER,
        "Newsletter",
    }

    assert not signin.apply_roles(user, set())
    assert set(user.groups.values_list("name", flat=True)) == {"Newsletter"}


def test_apply_roles_refuses_what_is_not_a_role():
    user = UserFactory(role=roles.VIEWER)

    with pytest.raises(ValueError, match="Newsletter"):
        signin.apply_roles(user, {"Newsletter"})
    assert role_names(user.username) == {roles.VIEWER}


# --- Configuration ----------------------------------------------------------------------------

OIDC_GOOD = {
    "OIDC_ISSUER": "https://sso.example.org/realms/portico",
    "OIDC_CLIENT_ID": "portico",
    "OIDC_CLIENT_SECRET": "secret",
    "OIDC_ROLE_MAP": "portico-managers=Portfolio manager",
}
LDAP_GOOD = {
    "LDAP_SERVER_URI": "ldaps://ad.example.org",
    "LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
    "LDAP_GROUP_SEARCH_BASE": "ou=groups,dc=example,dc=org",
    "LDAP_ROLE_MAP": "cn=portico-viewers,ou=groups,dc=example,dc=org=Viewer;Finance Team=Finance",
}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"LOGIN_LOCAL_PASSWORDS": "perhaps"}, "LOGIN_LOCAL_PASSWORDS must be true or false"),
        ({**OIDC_GOOD, "OIDC_ISSUER": "sso.example.org"}, "OIDC_ISSUER must be a URL"),
        ({**OIDC_GOOD, "OIDC_CLIENT_ID": None}, "OIDC_CLIENT_ID is required when OIDC_ISSUER"),
        ({**OIDC_GOOD, "OIDC_ROLE_MAP": None}, "OIDC_ROLE_MAP is required when OIDC_ISSUER"),
        (
            {**OIDC_GOOD, "OIDC_ROLE_MAP": "admins=Administrator"},
            "OIDC_ROLE_MAP: 'Administrator' (for 'admins') is not one of Portfolio manager",
        ),
        ({**OIDC_GOOD, "OIDC_ROLE_MAP": "Viewer"}, "OIDC_ROLE_MAP must be entries of the form"),
        ({**OIDC_GOOD, "OIDC_SCOPES": "email,profile"}, "OIDC_SCOPES must include openid"),
        ({**OIDC_GOOD, "OIDC_SIGN_ALGORITHM": "none"}, "OIDC_SIGN_ALGORITHM must be one of"),
        ({**LDAP_GOOD, "LDAP_SERVER_URI": "http://ad"}, "LDAP_SERVER_URI must be a URL"),
        (
            {**LDAP_GOOD, "LDAP_USER_SEARCH_BASE": None},
            "LDAP_USER_SEARCH_BASE is required when LDAP_SERVER_URI",
        ),
        ({**LDAP_GOOD, "LDAP_GROUP_TYPE": "nested"}, "LDAP_GROUP_TYPE must be one of"),
        ({**LDAP_GOOD, "LDAP_USER_FILTER": "(uid=someone)"}, "LDAP_USER_FILTER must contain"),
    ],
)
def test_sign_in_settings_bad_value_names_the_variable(variables, message):
    result = load_settings(**variables)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("variables", [OIDC_GOOD, LDAP_GOOD, {**OIDC_GOOD, **LDAP_GOOD}])
def test_sign_in_settings_load_when_complete(variables):
    result = load_settings(**variables)

    assert result.returncode == 0, result.stderr
