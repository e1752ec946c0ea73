"""JSON in: numbers with a fraction become Decimal (never float), bodies have a size and a
nesting limit."""

import json
import re
from decimal import Decimal
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.api.errors import Invalid
from core.api.errors import PayloadTooLarge

# A full sync of 5,000 rich items fits comfortably; anything bigger is refused unread.
MAX_BODY_BYTES = 32 * 1024 * 1024


# Envelope, item, field, and the shapes JSON fields hold (answers, activities) are a few levels
# deep; much deeper nesting only makes every later step (conversion, the change log, jsonb)
# recurse until it fails.
MAX_DEPTH = 32


# A JSON escape of a UTF-16 surrogate (\ud800 …): only in pairs does it make a character.
SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def too_deep(value, limit: int = MAX_DEPTH) -> str | None:
    """The path of the first array or object nested deeper than ``limit`` (named by its field
    where it has one: ``answers``, ``items.3.activities``), or None. Iterative, so it cannot
    itself run out of stack."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > limit:
            head = path[:3]
            keys = [i for i, part in enumerate(head) if isinstance(part, str)]
            return ".".join(map(str, head[: keys[-1] + 1])) if keys else "non_field_errors"
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, (*path, key)))
    return None


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
        except RecursionError:
            raise ParseError(f"The body nests deeper than {MAX_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"The body is not valid JSON: {exc}") from None
        if isinstance(data, dict | list) and (path := too_deep(data)):
            raise Invalid(
                f"The body nests deeper than {MAX_DEPTH} levels.",
                errors={path: [f"Nested more than {MAX_DEPTH} levels deep."]},
            )
        if SURROGATE_ESCAPE.search(raw) and not _is_text(data):
            raise ParseError("The body holds text that is not valid Unicode (a lone surrogate).")
        return data
