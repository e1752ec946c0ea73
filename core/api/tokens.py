"""Per-user API tokens: issued once, stored as a SHA-256 digest, found by a visible prefix.

A token reads ``ptk_<prefix>_<secret>``: the prefix (8 characters) is stored in clear so the
token can be looked up and recognised in lists; the secret never is.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from core import compiled
from core.models import ApiToken
from core.permissions import GROUP_PERMISSIONS
from core.permissions import USER_PERMISSIONS
from core.permissions import remember_permissions
from core.permissions import with_permissions
from core.translations import PREFERRED_LANGUAGE
from core.translations import remember_preferred_language
from core.translations import with_preferred_language

TOKEN_PREFIX = "ptk"
PREFIX_LENGTH = 8
PREFIX_PATTERN = re.compile(f"[0-9a-f]{{{PREFIX_LENGTH}}}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *, user, name: str = "", write: bool = False, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it and its secret text, which is shown only now."""
    while True:
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    text = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = (
        timezone.now() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    )
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=digest(text),
        write=write,
        expires_at=expires_at,
    )
    return token, text


def revoke_token(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def _tokens_with_prefix() -> models.QuerySet:
    """The token with a prefix (compiled.PARAMETER), its user, and the user's rights and
    language: every API request reads them, in one query."""
    tokens = with_preferred_language(with_permissions(ApiToken.objects.all(), "user"), "user")
    return tokens.filter(prefix=compiled.PARAMETER).values_list(
        *compiled.columns(ApiToken),
        *(f"user__{name}" for name in compiled.columns(get_user_model())),
        USER_PERMISSIONS,
        GROUP_PERMISSIONS,
        PREFERRED_LANGUAGE,
    )


def _token_with_prefix(prefix: str) -> ApiToken | None:
    """The token with ``prefix``, its user loaded with it, the user's rights and language on
    it (for core.permissions.remember_permissions and remember_preferred_language)."""
    row = compiled.first_row(_tokens_with_prefix, prefix)
    if row is None:
        return None
    users = get_user_model()
    token_end = len(compiled.columns(ApiToken))
    user_end = token_end + len(compiled.columns(users))
    token = compiled.loaded(ApiToken, row[:token_end])
    token.user = compiled.loaded(users, row[token_end:user_end])
    extras = (USER_PERMISSIONS, GROUP_PERMISSIONS, PREFERRED_LANGUAGE)
    for name, value in zip(extras, row[user_end:], strict=True):
        setattr(token, name, value)
    return token


def find_token(text: str) -> ApiToken | None:
    """The live token ``text`` stands for, with its user; None when unknown, wrong, revoked or
    expired (the caller does not learn which)."""
    parts = text.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not PREFIX_PATTERN.fullmatch(parts[1]):
        return None
    # The token, its user and the user's rights in one query: every API request reads them.
    token = _token_with_prefix(parts[1])
    if token is None or not hmac.compare_digest(token.digest, digest(text)):
        return None
    if not token.is_active:
        return None
    remember_permissions(token.user, token)
    remember_preferred_language(token.user, token)
    return token


def mark_used(token: ApiToken) -> None:
    """Remember when the token was last used, at most once a minute (one small write)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
