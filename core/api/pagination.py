"""Cursor (keyset) pagination on (timestamp, id): every page costs the same, and a client that
keeps the last cursor (or the last ``updated_at`` it saw) resumes without gaps or repeats."""

import base64
import binascii

from django.db.models import Q
from django.utils.http import urlencode

from core.api.errors import Invalid
from core.api.fields import parse_iso_datetime
from core.numbers import whole_number

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
PARAMETERS = ("cursor", "page_size")


def encode_cursor(moment: str, pk: int) -> str:
    """``moment`` is empty for a list in id order (a model without timestamps)."""
    return base64.urlsafe_b64encode(f"{moment}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(text: str, *, timed: bool = True):
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment_text, pk_text = raw.rsplit("|", 1)
        pk = int(pk_text)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid(errors={"cursor": ["This cursor is not valid."]}) from None
    if not timed:
        if moment_text or not 0 <= pk < 2**63:
            raise Invalid(errors={"cursor": ["This cursor is not valid."]})
        return None, pk
    moment = parse_iso_datetime(moment_text)
    if moment is None or not 0 <= pk < 2**63:
        raise Invalid(errors={"cursor": ["This cursor is not valid."]})
    return moment, pk


def page_size(request) -> int:
    raw = request.query_params.get("page_size")
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    size = whole_number(raw)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        raise Invalid(errors={"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]})
    return size


class KeysetPage:
    """A page of ``queryset`` ordered by (``time_field``, id) after the request's cursor.

    The page's ids are chosen first by a narrow query (the filters, the order, the limit: an
    index scan), then only those rows are read in full from ``rows`` (the queryset with the
    joins and annotations shown): two queries, whatever the page size, and the cost of a
    page does not grow with the number of records that match.
    """

    def __init__(self, request, queryset, *, time_field: str | None, time_key: str, rows=None):
        """``time_field`` None: the records are in id order (a model without timestamps)."""
        self.request = request
        self.size = page_size(request)
        self.time_field = time_field
        self.time_key = time_key
        order = (time_field, "pk") if time_field else ("pk",)
        cursor = request.query_params.get("cursor")
        if cursor:
            moment, pk = decode_cursor(cursor, timed=bool(time_field))
            if time_field:
                queryset = queryset.filter(
                    Q(**{f"{time_field}__gt": moment}) | Q(**{time_field: moment, "pk__gt": pk})
                )
            else:
                queryset = queryset.filter(pk__gt=pk)
        page_ids = list(queryset.order_by(*order).values_list("pk", flat=True)[: self.size + 1])
        rows = queryset if rows is None else rows
        self.ids, self.order = page_ids, order
        self.queryset = rows.filter(pk__in=page_ids).order_by(*order)

    def paginate(self, rows: list[dict]) -> dict:
        """``rows`` are the represented rows of ``self.queryset`` (one more than a page)."""
        more = len(rows) > self.size
        rows = rows[: self.size]
        next_url = None
        if more:
            last = rows[-1]
            params = self.request.query_params.copy()
            moment = last[self.time_key] if self.time_field else ""
            params["cursor"] = encode_cursor(moment, last["id"])
            next_url = self.request.build_absolute_uri(
                self.request.path + "?" + urlencode(params, doseq=True)
            )
        return {"next": next_url, "results": rows}
