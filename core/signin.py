"""Sign-in: local passwords, an OpenID provider and an LDAP / Active Directory directory.

Each way in is an authentication backend; all of them sit behind axes' backend, which refuses
an address or username that failed too often. Roles follow the identity provider's groups
at every sign-in (``OIDC_ROLE_MAP``, ``LDAP_ROLE_MAP``): a group removed there removes the role
here at the next sign-in, and a person whose groups map to no role is stripped of their roles
and refused (``apply_roles``). Configuration: docs/sign-in.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Cast
from django_auth_ldap.backend import LDAPBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from core import compiled
from core import roles as portico_roles
from core.permissions import GROUP_PERMISSIONS
from core.permissions import USER_PERMISSIONS
from core.permissions import remember_permissions
from core.permissions import with_permissions
from core.translations import PREFERRED_LANGUAGE
from core.translations import remember_preferred_language
from core.translations import with_preferred_language

logger = logging.getLogger(__name__)

NO_ROLE_MESSAGE = (
    "You signed in as {username}, but none of your groups gives you a role in Portico, so "
    "you cannot use it. Ask your administrator to add you to a Portico group."
)
# Where a refusal's reason waits for the page that answers the sign-in.
REFUSAL_ATTRIBUTE = "portico_signin_refusal"


def roles_for_groups(groups: Iterable[str], role_map: dict[str, str]) -> set[str]:
    """The roles ``role_map`` (group → role) gives to someone in ``groups``. Groups compare
    without regard to case, as directories and most providers treat them."""
    wanted = {group.casefold() for group in groups}
    return {role for group, role in role_map.items() if group.casefold() in wanted}


@transaction.atomic
def apply_roles(user, roles: Iterable[str]) -> bool:
    """Give ``user`` exactly ``roles`` among Portico's roles, as an identity provider's groups
    say at sign-in; groups that are not roles are left alone. Returns whether the user may
    sign in: not when no role is left.

    A sign-in that maps to no role ends here: the roles are stripped, the sign-in refused and
    the account deactivated, unless the person still owns records in use: deactivation would
    strand them (people.services.deactivate_user), so the account stays active without a role
    until a Portfolio manager hands them over on the people page."""
    roles = set(roles)
    unknown = roles - set(portico_roles.ROLES)
    if unknown:
        raise ValueError(f"not roles of Portico: {', '.join(sorted(unknown))}")
    held = user.groups.filter(name__in=portico_roles.ROLES)
    stale = [group for group in held if group.name not in roles]
    missing = roles - {group.name for group in held}
    if stale:
        user.groups.remove(*stale)
    if missing:
        groups = list(Group.objects.filter(name__in=missing))
        if len(groups) != len(missing):  # the roles migration makes every one
            raise Group.DoesNotExist(f"a role group is missing: {sorted(missing)}")
        user.groups.add(*groups)
    if stale or missing:
        logger.info(
            "roles of %s set to %s at sign-in", user.get_username(), sorted(roles) or "none"
        )
    if not roles:
        deactivate_without_role(user)
    return bool(roles)


def deactivate_without_role(user) -> None:
    from people.services import StrandedOwnership
    from people.services import deactivate_user

    if not user.is_active:
        return
    try:
        deactivate_user(user, by=None)
    except StrandedOwnership:
        logger.warning(
            "%s signed in with no role but owns records in use: left active without a role "
            "until a Portfolio manager hands them over",
            user.get_username(),
        )
    else:
        user.refresh_from_db(fields=["is_active"])
        logger.info("%s deactivated: their sign-in maps to no role", user.get_username())


def refuse(request, user) -> None:
    """Note why ``user`` was refused, for the page that answers the sign-in."""
    if request is not None:
        setattr(request, REFUSAL_ATTRIBUTE, NO_ROLE_MESSAGE.format(username=user.get_username()))


def refusal(request) -> str | None:
    return getattr(request, REFUSAL_ATTRIBUTE, None)


# --- Local passwords -----------------------------------------------------------------------


class LocalPasswordBackend(ModelBackend):
    """Django's own accounts. It also answers every permission question from the user's role
    groups, so it stays listed when local passwords are turned off (LOGIN_LOCAL_PASSWORDS)
    and then refuses every password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LOGIN_LOCAL_PASSWORDS:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """The signed-in user of a session, with their rights read in the same query
        (core.permissions.with_permissions): a page asks no more queries for them."""
        row = compiled.first_row(_users_by_key, user_id)
        if row is None:
            return None
        users = get_user_model()
        user = compiled.loaded(users, row[: len(compiled.columns(users))])
        if not self.user_can_authenticate(user):
            return None
        extras = (USER_PERMISSIONS, GROUP_PERMISSIONS, PREFERRED_LANGUAGE)
        for name, value in zip(extras, row[len(compiled.columns(users)) :], strict=True):
            setattr(user, name, value)
        remember_permissions(user)
        remember_preferred_language(user)
        return user


def _users_by_key():
    """The user with a key (compiled.PARAMETER) with their rights and language: every page
    reads them, in one query compiled once (core.compiled)."""
    users = with_preferred_language(with_permissions(get_user_model()._default_manager.all()))
    key = Cast(Value(compiled.PARAMETER), get_user_model()._meta.pk)
    return users.filter(pk=key).values_list(
        *compiled.columns(get_user_model()), USER_PERMISSIONS, GROUP_PERMISSIONS, PREFERRED_LANGUAGE
    )


# --- OpenID Connect ------------------------------------------------------------------------

_provider_lock = threading.Lock()
_provider_metadata: dict[str, dict[str, Any]] = {}


def provider_metadata() -> dict[str, Any]:
    """The OpenID provider's discovery document (``OIDC_ISSUER`` +
    ``/.well-known/openid-configuration``), fetched once per process."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        raise ImproperlyConfigured("OIDC_ISSUER is not set: single sign-on is off.")
    with _provider_lock:
        if issuer not in _provider_metadata:
            response = requests.get(
                issuer.rstrip("/") + "/.well-known/openid-configuration",
                timeout=settings.OIDC_TIMEOUT,
            )
            response.raise_for_status()
            metadata = response.json()
            if metadata.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
                raise ImproperlyConfigured(
                    f"OIDC_ISSUER is {issuer!r} but the provider calls itself "
                    f"{metadata.get('issuer')!r}."
                )
            _provider_metadata[issuer] = metadata
        return _provider_metadata[issuer]


def forget_provider_metadata() -> None:
    with _provider_lock:
        _provider_metadata.clear()


class OidcBackend(OIDCAuthenticationBackend):
    """Sign-in through an OpenID provider (authorisation code flow with PKCE).

    The provider's endpoints come from its discovery document, looked up when first needed
    (not at start-up, so Portico starts while the provider is down). People are matched by
    ``OIDC_USERNAME_CLAIM``; their name and e-mail follow the provider's; their roles follow
    ``OIDC_GROUPS_CLAIM`` through ``OIDC_ROLE_MAP`` at every sign-in. Claims are read from
    the ID token and the userinfo answer together: Microsoft Entra ID puts groups only in
    the token, Keycloak in both."""

    def __init__(self, *args, **kwargs):
        # The parent reads every endpoint here, for each request of a signed-in user.
        self.UserModel = get_user_model()

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return provider_metadata()["token_endpoint"]

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return provider_metadata()["userinfo_endpoint"]

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return provider_metadata()["jwks_uri"]

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_RP_SIGN_ALGO(self) -> str:
        return settings.OIDC_RP_SIGN_ALGO

    OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if not settings.OIDC_ISSUER or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        # The parent checks the signature and nonce only; these say the token is for us.
        metadata = provider_metadata()
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != metadata["issuer"] or settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued by another provider or client.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        userinfo = super().get_userinfo(access_token, id_token, payload)
        self.claims = {**payload, **userinfo}
        return self.claims

    def max_length(self, field_name: str) -> int:
        return getattr(self.UserModel._meta.get_field(field_name), "max_length", None) or 0

    def username_of(self, claims) -> str:
        return str(claims.get(settings.OIDC_USERNAME_CLAIM) or "").strip()

    def describe_user_by_claims(self, claims):
        return f"{settings.OIDC_USERNAME_CLAIM} {self.username_of(claims)!r}"

    def verify_claims(self, claims):
        username = self.username_of(claims)
        return 0 < len(username) <= self.max_length(self.UserModel.USERNAME_FIELD)

    def filter_users_by_claims(self, claims):
        username = self.username_of(claims)
        return self.UserModel.objects.filter(
            **{f"{self.UserModel.USERNAME_FIELD}__iexact": username}
        )

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(self.username_of(claims))
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        fields = {
            "first_name": claims.get("given_name"),
            "last_name": claims.get("family_name"),
            "email": claims.get("email"),
        }
        # A claim the account cannot hold (not text, too long) keeps what the account has.
        changed = [
            name
            for name, value in fields.items()
            if isinstance(value, str)
            and 0 < len(value) <= self.max_length(name)
            and getattr(user, name) != value
        ]
        for name in changed:
            setattr(user, name, fields[name])
        if changed:
            user.save(update_fields=changed)
        return user

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None or not user.is_active:
            return None
        groups = self.claims.get(settings.OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        roles = roles_for_groups([str(group) for group in groups], settings.OIDC_ROLE_MAP)
        if not apply_roles(user, roles):
            refuse(self.request, user)
            return None
        return user


# --- LDAP / Active Directory ---------------------------------------------------------------


class DirectoryBackend(LDAPBackend):
    """Sign-in with a directory account (django-auth-ldap, configured from LDAP_* in
    settings). Roles follow the directory's groups through ``LDAP_ROLE_MAP`` at every
    sign-in; a key with ``=`` in it is a group's distinguished name, any other a group's
    name (its ``cn``)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LDAP_SERVER_URI:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None or not user.is_active:
            return None
        role_map = settings.LDAP_ROLE_MAP
        by_dn = {group: role for group, role in role_map.items() if "=" in group}
        by_name = {group: role for group, role in role_map.items() if "=" not in group}
        roles = roles_for_groups(ldap_user.group_dns, by_dn) | roles_for_groups(
            ldap_user.group_names, by_name
        )
        if not apply_roles(user, roles):
            refuse(ldap_user._request, user)
            return None
        return user
