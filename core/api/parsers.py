"""JSON in: numbers with a fraction become Decimal (never float), bodies have a size limit."""

import json
import re
from decimal import Decimal

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.api.errors import PayloadTooLarge

# A full sync of 5,000 rich items fits comfortably; anything bigger is refused unread.
MAX_BODY_BYTES = 32 * 1024 * 1024


# A JSON escape of a UTF-16 surrogate (\ud800 …): only in pairs does it make a character.
SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _is_text(value) -> bool:
    """Whether every string in ``value`` (keys too) is valid Unicode: no lone surrogate,
    which no database column can store."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_text(k) and _is_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_text(v) for v in value)
    return True


class JSONParser(parsers.BaseParser):
    """Not a subclass of DRF's JSONParser on purpose: DRF would then read the body through
    ``request.body``, capped at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), too small for a full
    sync; this parser reads the stream itself, up to MAX_BODY_BYTES."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = 0
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
        if length > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes.",
                code="too_large",
            )
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The limit is {MAX_BODY_BYTES} bytes.", code="too_large")
        try:
            data = json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"The body is not valid JSON: {exc}") from None
        if SURROGATE_ESCAPE.search(raw) and not _is_text(data):
            raise ParseError("The body holds text that is not valid Unicode (a lone surrogate).")
        return data
