"""The API's JSON, written by orjson: the same document as REST framework's JSONRenderer
(compact, UTF-8), in a fraction of the time a list of 1,000 records takes with ``json``."""

from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

# What orjson does not write itself (decimals, lazy strings, UUIDs in other forms, querysets)
# REST framework's encoder turns into JSON values, as the JSONRenderer did.
_fallback = JSONEncoder().default

# Instants go to the fallback too: REST framework writes UTC as "Z" and milliseconds only.
OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _default(value: Any) -> Any:
    # Subclasses of the JSON types (a TextChoices member, an OrderedDict, a ReturnList) are
    # passed through to here: write them as the plain value, as ``json`` does.
    for plain in (str, int, float, dict, list, tuple):
        if isinstance(value, plain):
            return plain(value)
    return _fallback(value)


class JSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 (RFC 8259): no charset parameter, as REST framework's

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=OPTIONS)
