"""The API of sync sessions (core.api.sessions): ``/api/v1/sync-sessions/`` opens one,
``…/<id>/`` shows or aborts it, ``…/<id>/batches/`` adds items, ``…/<id>/commit/`` writes."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api import sessions
from core.api.errors import Invalid
from core.api.schema import errors as error_responses
from core.api.schema import ref
from core.api.sync import MAX_ITEMS
from core.api.sync import MODES
from core.api.sync import UPSERT
from core.api.views import ApiView
from core.models import SyncSession

TAG = "sync"
ID = OpenApiParameter(
    "id", {"type": "integer", "format": "int64", "minimum": 1}, OpenApiParameter.PATH
)


def syncable_resources() -> dict:
    from core.api.resources import registry

    return {r.name: r for r in registry if sessions.syncable(r)}


def session_schemas() -> dict:
    """The components of the session operations (core.api.schema.add_components adds them)."""
    state = {"type": "string", "enum": ["open", "committed", "expired", "failed"]}
    return {
        "SyncSessionOpen": {
            "type": "object",
            "additionalProperties": False,
            "required": ["resource", "source"],
            "properties": {
                "resource": {"type": "string", "enum": sorted(syncable_resources())},
                "source": {"type": "string", "minLength": 1, "maxLength": 100},
                "mode": {"type": "string", "enum": list(MODES), "default": UPSERT},
            },
        },
        "SyncSession": {
            "type": "object",
            "required": [
                "id",
                "resource",
                "source",
                "mode",
                "state",
                "created_at",
                "expires_at",
                "batches",
                "items",
                "counts",
            ],
            "properties": {
                "id": {"type": "integer", "format": "int64"},
                "resource": {"type": "string"},
                "source": {"type": "string"},
                "mode": {"type": "string", "enum": list(MODES)},
                "state": state,
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": "string", "format": "date-time", "nullable": True},
                "batches": {"type": "integer"},
                "items": {"type": "integer"},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "failure": {"type": "object", "nullable": True, "additionalProperties": True},
            },
        },
        "SyncSessionBatch": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "maxItems": MAX_ITEMS,
                    "description": "Items as the resource's sync takes them "
                    "(`<Resource>SyncItem`).",
                    "items": {"type": "object", "additionalProperties": True},
                }
            },
        },
        "SyncSessionCommit": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "allow_mass_retire": {"type": "boolean", "default": False},
                "dry_run": {"type": "boolean", "default": False},
            },
        },
        "SyncSessionResult": {
            "allOf": [ref("SyncResult")],
            "type": "object",
            "required": ["session", "state"],
            "properties": {"session": {"type": "integer", "format": "int64"}, "state": state},
        },
    }


def as_json(session: SyncSession) -> dict:
    return {
        "id": session.pk,
        "resource": session.resource,
        "source": session.source,
        "mode": session.mode,
        "state": session.state,
        "created_at": session.created_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "finished_at": session.finished_at.isoformat() if session.finished_at else None,
        "batches": session.batch_count,
        "items": session.item_count,
        "counts": session.counts,
        "failure": session.failure,
    }


def _body(request, known: set[str]) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise Invalid(errors={"non_field_errors": ["Expected a JSON object."]})
    unknown = {name: ["Unknown field."] for name in sorted(set(data) - known)}
    if unknown:
        raise Invalid(errors=unknown)
    return data


def _flag(data: dict, name: str, errors: dict) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        errors[name] = ["Expected true or false."]
        return False
    return value


class SessionView(ApiView):
    def session(self, request, id: int) -> SyncSession:
        """The session, if the user may use it (its opener, or a superuser); else 404."""
        session = sessions.visible_sessions(request.user).filter(pk=id).first()
        if session is None:
            raise NotFound()
        return session

    def resource(self, session: SyncSession):
        return syncable_resources()[session.resource]


class SessionListView(ApiView):
    @extend_schema(
        operation_id="open_sync_session",
        summary="Open a sync session: send a sync in several batches, written at once",
        description=(
            "Then add the items with `POST /sync-sessions/{id}/batches/` (each batch at most "
            f"{MAX_ITEMS} items) and write them all in one transaction with "
            "`POST /sync-sessions/{id}/commit/`. A session not committed in "
            "PORTICO_SYNC_SESSION_HOURS (24 by default) expires."
        ),
        request={"application/json": ref("SyncSessionOpen")},
        responses={201: ref("SyncSession"), **error_responses(400, 401, 403, 415)},
        tags=[TAG],
    )
    def post(self, request):
        data = _body(request, {"resource", "source", "mode"})
        errors: dict[str, list[str]] = {}
        resources = syncable_resources()
        resource = (
            resources.get(data.get("resource")) if isinstance(data.get("resource"), str) else None
        )
        if resource is None:
            errors["resource"] = [f"Use one of: {', '.join(sorted(resources))}."]
        source = data.get("source")
        if not isinstance(source, str) or not source.strip() or len(source) > 100:
            errors["source"] = ["Name the source: a non-empty string of up to 100 characters."]
        elif "\x00" in source:
            errors["source"] = ["Null characters are not allowed."]
        mode = data.get("mode", UPSERT)
        if mode not in MODES:
            errors["mode"] = [f"Use one of: {', '.join(MODES)}."]
        if errors:
            raise Invalid(errors=errors)
        assert isinstance(source, str)  # checked above
        session = sessions.open_session(
            user=request.user, resource=resource, source=source.strip(), mode=mode
        )
        return Response(as_json(session), status=status.HTTP_201_CREATED)


class SessionDetailView(SessionView):
    @extend_schema(
        operation_id="get_sync_session",
        summary="A sync session: its state, batches and items, and what its commit wrote",
        parameters=[ID],
        responses={200: ref("SyncSession"), **error_responses(401, 403, 404)},
        tags=[TAG],
    )
    def get(self, request, id: int):
        return Response(as_json(self.session(request, id)))

    @extend_schema(
        operation_id="abort_sync_session",
        summary="Abort a sync session: it and the items sent to it are deleted",
        parameters=[ID],
        responses={204: None, **error_responses(401, 403, 404)},
        tags=[TAG],
    )
    def delete(self, request, id: int):
        sessions.abort(self.session(request, id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionBatchView(SessionView):
    @extend_schema(
        operation_id="add_sync_session_batch",
        summary="Add a batch of items to an open sync session",
        description=(
            "Each item is read against the resource's fields now (unknown fields, types, "
            "choices); errors name its index in the whole session. References, rights and "
            "rules are checked at the commit."
        ),
        parameters=[ID],
        request={"application/json": ref("SyncSessionBatch")},
        responses={200: ref("SyncSession"), **error_responses(400, 401, 403, 404, 409, 413, 415)},
        tags=[TAG],
    )
    def post(self, request, id: int):
        session = self.session(request, id)
        data = _body(request, {"items"})
        items = data.get("items")
        if not isinstance(items, list):
            raise Invalid(errors={"items": ["Give the items as a list."]})
        session = sessions.add_batch(session=session, resource=self.resource(session), items=items)
        return Response(as_json(session))


class SessionCommitView(SessionView):
    @extend_schema(
        operation_id="commit_sync_session",
        summary="Write every item of a sync session in one transaction",
        description=(
            "All or nothing, as one sync: a full session retires the source's records that no "
            "batch sent (409 when that is more than 20 % of them, unless `allow_mass_retire`). "
            "A dry run answers the same and writes nothing; the session stays open. Bad or "
            "forbidden items fail the session (400, 403); an expired session answers 409."
        ),
        parameters=[ID],
        request={"application/json": ref("SyncSessionCommit")},
        responses={
            200: ref("SyncSessionResult"),
            **error_responses(400, 401, 403, 404, 409, 415),
        },
        tags=[TAG],
    )
    def post(self, request, id: int):
        session = self.session(request, id)
        data = _body(request, {"allow_mass_retire", "dry_run"})
        errors: dict[str, list[str]] = {}
        allow = _flag(data, "allow_mass_retire", errors)
        dry_run = _flag(data, "dry_run", errors)
        if errors:
            raise Invalid(errors=errors)
        answer = sessions.commit(
            session=session,
            resource=self.resource(session),
            user=request.user,
            allow_mass_retire=allow,
            dry_run=dry_run,
        )
        return Response(answer)


urlpatterns = [
    path("sync-sessions/", SessionListView.as_view(), name="sync-sessions"),
    path("sync-sessions/<int:id>/", SessionDetailView.as_view(), name="sync-session"),
    path(
        "sync-sessions/<int:id>/batches/", SessionBatchView.as_view(), name="sync-session-batches"
    ),
    path("sync-sessions/<int:id>/commit/", SessionCommitView.as_view(), name="sync-session-commit"),
]


def add_components(result, generator, request, public):
    """drf-spectacular post-processing hook: the sync sessions' components."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(session_schemas())
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
