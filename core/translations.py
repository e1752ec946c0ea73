"""Translations of records' names and summaries, in the languages the deployment lists.

``PORTICO_LANGUAGES`` (settings) names them; the first is the language records are written
in. A translatable model has ``translations = translations_field("name", "summary")``: a JSON
object ``{"fr": {"name": "…", "summary": "…"}}`` holding, per other language, the fields that
have a translation. Every write path (browser forms, the API's single writes and sync, imports)
saves through the model's validation, so the validator below refuses an unknown language or
field, naming it, everywhere alike. Pages and reports read a field through ``translated`` (in
templates the ``translated`` filter), which falls back to the original.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
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
