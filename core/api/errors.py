"""One error shape for every API answer that is not a success.

    {"status": 400, "code": "invalid", "detail": "The request is invalid.",
     "errors": {"name": ["This field is required."], "items.3.kind": ["…"]}}

``errors`` maps the path of each bad field (dotted: ``items.3.owner``, or
``non_field_errors`` for what concerns the whole object) to the reasons it was refused; it is
empty when no single field is at fault.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.db.models import RestrictedError
from django.http import Http404
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework import status
from rest_framework.response import Response

NON_FIELD = "non_field_errors"

DEFAULT_DETAIL = {
    400: "The request is invalid.",
    401: "Authentication credentials were not provided or are not valid.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    406: "The requested representation is not available: ask for application/json.",
    409: "The request conflicts with the current state of the data.",
    412: "The record has changed since you read it: fetch it again and retry.",
    413: "The request is too large.",
    415: "Send the body as application/json.",
}


class ApiError(exceptions.APIException):
    """An error with a status, a code, a sentence and (optionally) field errors."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, code=None):
        super().__init__(detail or DEFAULT_DETAIL.get(self.status_code), code)
        self.errors = errors or {}
        if code:
            self.default_code = code


class Invalid(ApiError):
    status_code = 400
    default_code = "invalid"


class Forbidden(ApiError):
    status_code = 403
    default_code = "permission_denied"


class Conflict(ApiError):
    status_code = 409
    default_code = "conflict"


class PreconditionFailed(ApiError):
    status_code = 412
    default_code = "precondition_failed"


class PayloadTooLarge(ApiError):
    status_code = 413
    default_code = "too_large"


def flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details (dicts and lists) as ``{"a.0.b": ["message", …]}``."""
    out: dict[str, list[str]] = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                key = NON_FIELD if key in (NON_FIELD_ERRORS, None) else str(key)
                walk(inner, f"{path}.{key}" if path else key)
        elif isinstance(value, list | tuple):
            if all(not isinstance(v, dict | list | tuple) for v in value):
                if value:
                    out.setdefault(path or NON_FIELD, []).extend(str(v) for v in value)
            else:
                for i, inner in enumerate(value):
                    if inner:
                        walk(inner, f"{path}.{i}" if path else str(i))
        else:
            out.setdefault(path or NON_FIELD, []).append(str(value))

    walk(detail, prefix)
    return out


def django_errors(exc: DjangoValidationError, prefix: str = "") -> dict[str, list[str]]:
    """A Django ValidationError as field errors; ``__all__`` becomes ``non_field_errors``."""
    if hasattr(exc, "error_dict"):
        data = {
            (NON_FIELD if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        data = {NON_FIELD: exc.messages}
    if prefix:
        return {f"{prefix}.{field}": messages for field, messages in data.items()}
    return data


def body(status_code: int, code: str, detail: str, errors: dict | None = None) -> dict:
    return {
        "status": status_code,
        "code": code,
        "detail": detail or DEFAULT_DETAIL.get(status_code, ""),
        "errors": errors or {},
    }


def _integrity_error(exc: IntegrityError) -> ApiError:
    """A constraint the database enforced: a clash (unique) is a conflict, anything else
    (a check) is bad input. Validation catches these first; this is the safety net."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    sqlstate = getattr(cause, "sqlstate", "") or ""
    if sqlstate == "23505":
        return Conflict(
            "Another record already has these values"
            + (f" (constraint {constraint})." if constraint else "."),
            code="unique",
        )
    return Invalid(
        "The data breaks a rule of the database" + (f": {constraint}." if constraint else "."),
        errors={NON_FIELD: [str(getattr(diag, "message_primary", "") or "constraint violated")]},
        code="constraint",
    )


def as_api_error(exc) -> exceptions.APIException | None:
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(code="too_large")
    if isinstance(exc, SuspiciousOperation):
        return Invalid("The request was refused as unsafe.", code="suspicious")
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return Forbidden(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        return Invalid(errors=django_errors(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        return Conflict("Other records refer to this one: it cannot be deleted.", code="protected")
    if isinstance(exc, IntegrityError):
        return _integrity_error(exc)
    if isinstance(exc, DataError):
        return Invalid("A value is out of the range the database can store.", code="data")
    if isinstance(exc, exceptions.APIException):
        return exc
    return None


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every refusal in the one shape."""
    api_exc = as_api_error(exc)
    if api_exc is None:
        return None  # a bug, not the client's input: let it be a 500 and be reported
    status_code = api_exc.status_code
    headers = {}
    # Set by DRF on an authentication failure, and on Throttled: not APIException's own.
    auth_header = getattr(api_exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(api_exc, "wait", None)
    if wait:
        headers["Retry-After"] = str(int(wait))
    if isinstance(api_exc, ApiError):
        errors, detail, code = api_exc.errors, str(api_exc.detail), api_exc.default_code
    elif isinstance(api_exc.detail, dict | list):
        errors = flatten(api_exc.detail)
        detail, code = DEFAULT_DETAIL.get(status_code, ""), "invalid"
    else:
        errors, detail = {}, str(api_exc.detail)
        code = getattr(api_exc.detail, "code", None) or api_exc.default_code
    return Response(
        body(status_code, str(code), detail, errors), status=status_code, headers=headers
    )


# Exempt: it changes nothing, and a script's POST to a mistyped address must learn that the
# address is wrong (404), not that it sent no CSRF token (403, as an HTML page).
@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Unknown addresses under /api/v1/ answer in the API's shape, not with an HTML page."""
    return JsonResponse(body(404, "not_found", "No such API address."), status=404)
