"""Translations of records' names and summaries, in the languages the deployment lists.

``PORTICO_LANGUAGES`` (settings) names them; the first is the language records are written
in. A translatable model has ``translations = translations_field("name", "summary")``: a JSON
object ``{"fr": {"name": "…", "summary": "…"}}`` holding, per other language, the fields that
have a translation. Every write path (browser forms, the API's single writes and sync, imports)
saves through the model's validation, so the validator below refuses an unknown language or
field, naming it, everywhere alike. Pages and reports read a field through ``translated`` (in
templates the ``translated`` filter), which falls back to the original.
"""

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.deconstruct import deconstructible


def original_language() -> str:
    return settings.PORTICO_LANGUAGES[0]


def extra_languages() -> list[str]:
    """The languages a record may carry translations in (all but the original)."""
    return list(settings.PORTICO_LANGUAGES[1:])


def base_language(code: str | None) -> str:
    """``fr`` of ``fr-be``; the original language when there is none."""
    return (code or original_language()).split("-")[0].lower()


@deconstructible
class TranslationsValidator:
    """A translations object: languages the deployment lists (but the original), each an
    object of the model's translatable fields, each a text."""

    def __init__(self, fields: tuple[str, ...] | list[str]):
        self.fields = tuple(fields)

    def __call__(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise ValidationError('Give an object by language: {"fr": {"name": "…"}}.')
        allowed = extra_languages()
        for language, texts in value.items():
            if language not in allowed:
                listed = ", ".join(allowed) or "none: PORTICO_LANGUAGES lists one language"
                raise ValidationError(
                    f"{language!r} is not a language of translations here (they are: {listed})."
                )
            if not isinstance(texts, dict):
                raise ValidationError(f"{language}: give an object of fields and their texts.")
            for name, text in texts.items():
                if name not in self.fields:
                    raise ValidationError(
                        f"{language}.{name}: not a translatable field (they are: "
                        f"{', '.join(self.fields)})."
                    )
                if not isinstance(text, str):
                    raise ValidationError(f"{language}.{name}: give a text.")
                if "\x00" in text:
                    raise ValidationError(f"{language}.{name}: null characters are not allowed.")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TranslationsValidator) and other.fields == self.fields


def translations_field(*fields: str) -> models.JSONField:
    """The ``translations`` field of a model whose ``fields`` may be translated."""
    return models.JSONField(
        default=dict,
        blank=True,
        validators=[TranslationsValidator(fields)],
        help_text=(
            f"Translations of {', '.join(fields)} per language other than the original: "
            '{"fr": {"' + fields[0] + '": "…"}}.'
        ),
    )


def translatable_fields(model_field: Any) -> tuple[str, ...]:
    """The fields a translations field translates (none for any other field)."""
    for validator in getattr(model_field, "validators", ()):
        if isinstance(validator, TranslationsValidator):
            return validator.fields
    return ()


def translated(obj: Any, field: str, language: str | None = None) -> Any:
    """``obj``'s ``field`` in ``language`` (default: the active one), else the original.
    ``obj`` is a record or a row read as values (a mapping with ``field`` and
    ``translations``), so a list read with ``values_list`` needs no model instances."""
    if isinstance(obj, Mapping):
        original, stored = obj.get(field, ""), obj.get("translations")
    else:
        original, stored = getattr(obj, field, ""), getattr(obj, "translations", None)
    language = base_language(language or translation.get_language())
    if language == original_language():
        return original
    texts = (stored if isinstance(stored, dict) else {}).get(language) or {}
    text = texts.get(field) if isinstance(texts, dict) else None
    return text if isinstance(text, str) and text.strip() else original


def name_of(obj: Any) -> str:
    """How a record is named to the reader: a translatable record's name in the active
    language (``translated``), any other record as it names itself."""
    if obj is None:
        return ""
    if hasattr(obj, "translations") and hasattr(obj, "name"):
        return translated(obj, "name")
    return str(obj)


# --- A person's language -----------------------------------------------------------------
# A person may choose one of PORTICO_LANGUAGES on their profile (people.Profile.language,
# blank: follow the browser). It is read with the user, in the query that loads them for a
# request (the session's backend, the API's token), as this annotation.
PREFERRED_LANGUAGE = "portico_preferred_language"


def with_preferred_language(queryset: models.QuerySet, user: str = "") -> models.QuerySet:
    """``queryset`` (of users, or of rows whose ``user`` leads to one) with the person's
    chosen language, read in the same query."""
    path = f"{user}__profile__language" if user else "profile__language"
    return queryset.annotate(**{PREFERRED_LANGUAGE: models.F(path)})


def remember_preferred_language(user: Any, row: Any = None) -> None:
    """Give ``user`` the language ``with_preferred_language`` read (on ``row``, or on the
    user itself)."""
    row = user if row is None else row
    if hasattr(row, PREFERRED_LANGUAGE):
        setattr(user, PREFERRED_LANGUAGE, getattr(row, PREFERRED_LANGUAGE) or "")


def preferred_language(user: Any) -> str:
    """The language ``user`` chose, if it is one the deployment lists; else "" (follow the
    browser, or the original language outside a request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    if hasattr(user, PREFERRED_LANGUAGE):
        language = getattr(user, PREFERRED_LANGUAGE) or ""
    else:  # a user loaded some other way (a task's recipient): one query
        # get_user_model(), not type(user): a request's user is a lazy object.
        profile = (
            get_user_model()
            ._default_manager.filter(pk=user.pk)
            .values_list("profile__language", flat=True)
        )
        language = profile.first() or ""
        setattr(user, PREFERRED_LANGUAGE, language)
    return language if language in settings.PORTICO_LANGUAGES else ""


def activate_preferred_language(request, user) -> None:
    """Show the request in the language ``user`` chose (people.Profile.language), if any:
    it wins over the browser's Accept-Language, which LocaleMiddleware activated."""
    language = preferred_language(user)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def speaking(language: str | None = None) -> translation.override:
    """Work done outside a request (a task's e-mail) in ``language``, or the original."""
    return translation.override(language or original_language())


def languages_by_address(addresses: Iterable[str]) -> dict[str, str]:
    """The language each e-mail address's person chose (lower-cased addresses of active
    accounts with a listed language; the others are absent), in one query."""
    from django.contrib.auth import get_user_model

    wanted = {address.strip().lower() for address in addresses if address and address.strip()}
    if not wanted:
        return {}
    rows = (
        get_user_model()
        ._default_manager.filter(is_active=True)
        .annotate(address=Lower("email"))
        .filter(address__in=wanted)
        .order_by("pk")
        .values_list("address", "profile__language")
    )
    found: dict[str, str] = {}
    for address, language in rows:
        if language and language in settings.PORTICO_LANGUAGES:
            found.setdefault(address, language)
    return found


def language_choices() -> list[tuple[str, str]]:
    """The choices of a person's language: the browser's, or one of PORTICO_LANGUAGES."""
    return [("", "Follow the browser"), *settings.LANGUAGES]


def is_translatable(model: Any) -> bool:
    """Whether ``model``'s records carry translations of their name."""
    if model is None:
        return False
    try:
        field = model._meta.get_field("translations")
    except FieldDoesNotExist:
        return False
    return "name" in translatable_fields(field)


def import_targets(model_field: Any) -> list[tuple[str, str]]:
    """Where an import may map a column of a translations field: (``fr.name``, "Name
    (fr)"), one per extra language and translatable field."""
    fields = translatable_fields(model_field)
    model = model_field.model
    targets = []
    for language in extra_languages():
        for name in fields:
            label = str(model._meta.get_field(name).verbose_name).capitalize()
            targets.append((f"{language}.{name}", f"{label} ({language})"))
    return targets


def with_translation(translations: dict, target: str, text: str) -> dict:
    """``translations`` with the text an import maps to ``target`` (``fr.name``); an empty
    text removes that translation."""
    language, _, name = target.partition(".")
    updated = {lang: dict(texts) for lang, texts in (translations or {}).items()}
    texts = updated.setdefault(language, {})
    if text.strip():
        texts[name] = text.strip()
    else:
        texts.pop(name, None)
    if not texts:
        updated.pop(language, None)
    return updated


def translations_schema(*fields: str) -> dict:
    """The OpenAPI schema of a translations field translating ``fields``."""
    return {
        "type": "object",
        "description": (
            "Translations per language other than the original, of the fields "
            f'{", ".join(fields)}: {{"fr": {{"{fields[0]}": "…"}}}}. The languages are '
            "the deployment's (PORTICO_LANGUAGES, the first excepted); an unknown language or "
            "field is refused, naming it."
        ),
        "additionalProperties": {
            "type": "object",
            "properties": {name: {"type": "string"} for name in fields},
            "additionalProperties": False,
        },
    }


def person_name(user) -> str:
    """A person as every page shows them: the full name, else the username."""
    return (user.get_full_name() or user.username) if user else ""
