"""Strict parsing of configuration from the environment.

Every variable Portico reads goes through one of these functions, so a bad value stops
start-up with an ImproperlyConfigured that names the variable, and ``VARIABLES`` lists
everything read (a test checks it against ``.env.example`` and docker-compose.yml).
"""

import os
import re
from typing import Any
from typing import overload
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from iso4217 import Currency

VARIABLES: set[str] = set()
_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, default):
    VARIABLES.add(name)
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"{name} is required but not set.")
        return None
    return value.strip()


@overload
def string(name: str) -> str: ...
@overload
def string(name: str, default: str) -> str: ...
@overload
def string(name: str, default: None) -> str | None: ...
def string(name: str, default: Any = _MISSING) -> str | None:
    value = _raw(name, default)
    return default if value is None else value


def boolean(name: str, default=_MISSING) -> bool:
    value = _raw(name, default)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def integer(name: str, default=_MISSING, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def string_list(name: str, default=_MISSING) -> list[str]:
    value = _raw(name, default)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def integer_list(name: str, default=_MISSING, *, minimum: int | None = None) -> list[int]:
    """Whole numbers separated by commas, such as ``90,30``."""
    value = _raw(name, default)
    if value is None:
        return list(default)
    numbers = []
    for item in (part.strip() for part in value.split(",")):
        if not re.fullmatch(r"[0-9]+", item):
            raise ImproperlyConfigured(
                f"{name} must be whole numbers separated by commas, not {value!r}."
            )
        if minimum is not None and int(item) < minimum:
            raise ImproperlyConfigured(f"{name}: each number must be at least {minimum}.")
        numbers.append(int(item))
    return numbers


def url(name: str, default=_MISSING, *, schemes: tuple[str, ...]) -> str | None:
    value = _raw(name, default)
    if value is None:
        return default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}"
            f" (got scheme {scheme or 'none'!r})."
        )
    return value


def currency(name: str, default=_MISSING) -> str:
    """An ISO 4217 currency code such as EUR."""
    value = _raw(name, default)
    if value is None:
        value = default
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ImproperlyConfigured(
            f"{name} must be a three-letter ISO 4217 code such as EUR, not {value!r}."
        )
    if value not in {code.code for code in Currency}:
        raise ImproperlyConfigured(
            f"{name} must be an ISO 4217 currency code: {value} is not an ISO 4217 currency code."
        )
    return value


def languages(name: str, default=_MISSING) -> list[str]:
    """Language codes separated by commas (``en,fr``), each one Django knows, none twice; the
    first is the original language."""
    from django.conf.locale import LANG_INFO

    codes = [code.lower() for code in string_list(name, default)]
    if not codes:
        raise ImproperlyConfigured(f"{name} must name at least one language, such as en.")
    for code in codes:
        if code not in LANG_INFO or "fallback" in LANG_INFO[code]:
            raise ImproperlyConfigured(f"{name}: {code!r} is not a language code such as en or fr.")
    if len(set(codes)) != len(codes):
        raise ImproperlyConfigured(f"{name} names a language twice: {','.join(codes)}.")
    return codes


def choice(name: str, default=_MISSING, *, choices: tuple[str, ...]) -> str:
    value = _raw(name, default)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def mapping(name: str, default=_MISSING, *, choices: tuple[str, ...]) -> dict[str, str]:
    """Pairs ``key=value`` separated by ``;``, each value one of ``choices``: a group → role map
    such as ``portico-admins=Portfolio manager;cn=viewers,ou=groups,dc=example,dc=org=Viewer``.
    The value follows the last ``=``, so keys may be LDAP distinguished names."""
    value = _raw(name, default)
    if value is None:
        return dict(default)
    pairs: dict[str, str] = {}
    for entry in value.split(";"):
        if not entry.strip():
            continue
        key, separator, item = entry.rpartition("=")
        key, item = key.strip(), item.strip()
        if not separator or not key:
            raise ImproperlyConfigured(
                f"{name} must be entries of the form group=role separated by ';', not {entry!r}."
            )
        if item not in choices:
            raise ImproperlyConfigured(
                f"{name}: {item!r} (for {key!r}) is not one of {', '.join(choices)}."
            )
        pairs[key] = item
    return pairs
