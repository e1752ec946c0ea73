"""The API's views, generated per resource from its declaration (core.api.resources):
``/api/v1/<resource>/`` (list, create), ``/api/v1/<resource>/<id>/`` (read, replace, change,
delete; ETag and If-Match), ``/api/v1/sync/<resource>/`` (bulk sync), the resource's extra
read-only addresses (``/api/v1/<resource>/<id>/<extra>/``), and the change feed, schema and
docs beside them. A read-only resource (``writes=False``) gets only the reads."""

import datetime
import hashlib
import json
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import path
from django.urls import re_path
from django.urls import reverse
from drf_spectacular.utils import extend_schema_view
from drf_spectacular.views import SpectacularAPIView
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core import permissions
from core.api import schema
from core.api import writes
from core.api.errors import Invalid
from core.api.errors import PreconditionFailed
from core.api.errors import not_found_view
from core.api.fields import MAX_ID
from core.api.fields import FieldInvalid
from core.api.fields import json_value
from core.api.fields import parse_iso_datetime
from core.api.pagination import PARAMETERS as PAGE_PARAMETERS
from core.api.pagination import KeysetPage
from core.api.permissions import TokenRights
from core.api.renderers import JSONRenderer
from core.api.sync import MODES
from core.api.sync import UPSERT
from core.api.sync import sync
from core.choices import ChangeAction
from core.models import ObjectChange

if TYPE_CHECKING:
    from core.api.resources import Extra
    from core.api.resources import Resource

ENVELOPE = frozenset({"source", "mode", "items", "allow_mass_retire", "adopt"})
# A resource's sync also takes a dry run (people.api.users, which shares ENVELOPE, does not).
SYNC_ENVELOPE = ENVELOPE | {"dry_run"}


def list_parameters(resource) -> frozenset:
    """The query parameters every list of ``resource`` takes, besides its filters."""
    names = set(PAGE_PARAMETERS)
    if resource.has_timestamps:
        names.add("updated_since")
    if resource.is_synced:
        names |= {"source", "external_id"}
    return frozenset(names)


class JSONOnly(BaseContentNegotiation):
    """The API speaks JSON whatever the Accept header says (never a 406)."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type.split(";")[0].strip().lower() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


class ApiView(APIView):
    permission_classes = [TokenRights]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly


def etag_of(data: dict | None) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def check_if_match(request, current_etag: str) -> None:
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = _tags(header)
    if "*" not in tags and current_etag not in tags:
        raise PreconditionFailed(errors={"If-Match": ["The record has changed since."]})


def refuse_unknown(params, known) -> None:
    """Refuse a query that names a parameter not in ``known`` (400, naming each)."""
    unknown = set(params) - set(known)
    if unknown:
        raise Invalid(errors={name: ["Unknown query parameter."] for name in sorted(unknown)})


def moment_parameter(params, name: str) -> datetime.datetime | None:
    """The query parameter ``name`` as a date and time (ISO 8601), None when not given."""
    text = params.get(name)
    if text is None:
        return None
    moment = parse_iso_datetime(text)
    if moment is None:
        raise Invalid(errors={name: ["Give a date and time in ISO 8601."]})
    return moment


def text_parameter(params, name: str) -> str | None:
    """The query parameter ``name``, None when not given; a null character is refused."""
    text = params.get(name)
    if text is not None and "\x00" in text:
        raise Invalid(errors={name: ["Null characters are not allowed."]})
    return text


def require_view_right(user, model) -> None:
    writes.require(user, "view", model)


class ResourceView(ApiView):
    resource: "Resource"

    def represent(self, request, pk) -> dict | None:
        rows = self.resource.representation.rows(
            self.resource.base_queryset(request.user).filter(pk=pk)
        )
        return rows[0] if rows else None

    def respond(self, data: dict | None, status_code=200, **headers) -> Response:
        return Response(data, status=status_code, headers={"ETag": etag_of(data), **headers})


class ResourceListView(ResourceView):
    def get(self, request):
        resource = self.resource
        require_view_right(request.user, resource.model)
        params = request.query_params
        standard = list_parameters(resource)
        # The filters (custom fields' among them, which a query reads) only when the request
        # names a parameter beyond the list's own: a plain page asks nothing more.
        asked = set(params) - standard
        filters = set(schema.filters_of(resource.reads.filterset)) if asked else set()
        refuse_unknown(params, standard | filters)
        rows = queryset = resource.base_queryset(request.user)
        if resource.reads.filterset and filters & set(params):
            filter_data = params.copy()
            for name in standard:
                filter_data.pop(name, None)
            filterset = resource.reads.filterset(filter_data, queryset=queryset, request=request)
            if not filterset.is_valid():
                raise Invalid(errors={k: list(v) for k, v in filterset.errors.items()})
            queryset = filterset.qs
        since = moment_parameter(params, "updated_since")
        if since is not None:
            queryset = queryset.filter(updated_at__gte=since)
        if resource.is_synced:
            for name in ("source", "external_id"):
                value = text_parameter(params, name)
                if value is not None:
                    queryset = queryset.filter(**{name: value})
        time_field = "updated_at" if resource.has_timestamps else None
        page = KeysetPage(
            request, queryset, time_field=time_field, time_key="updated_at", rows=rows
        )
        if request.user.has_perm(permissions.perm_name(resource.model, "view")):
            # Every record is the user's to see: the rows' SQL compiled once serves.
            found = resource.representation.rows_by_id(page.ids, page.order)
        else:
            found = resource.representation.rows(page.queryset)
        return Response(page.paginate(found))


class WritableResourceListView(ResourceListView):
    def post(self, request):
        resource = self.resource
        instance = resource.model()
        # Before the body is read (request.data parses it): rights come before its errors.
        writes.may_write_at_all(resource, user=request.user, instance=instance)
        instance = writes.save(
            resource, user=request.user, data=request.data, instance=instance, partial=False
        )
        data = self.represent(request, instance.pk)
        location = reverse(f"api:{resource.name}-detail", args=[instance.pk])
        return self.respond(data, status.HTTP_201_CREATED, Location=location)


class ResourceDetailView(ResourceView):
    def _check_pk(self, pk: int) -> None:
        if pk > MAX_ID:
            raise NotFound()

    def get(self, request, id):
        self._check_pk(id)
        require_view_right(request.user, self.resource.model)
        data = self.represent(request, id)
        if data is None:
            raise NotFound()
        etag = etag_of(data)
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match and (etag in _tags(if_none_match) or "*" in _tags(if_none_match)):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})


class WritableResourceDetailView(ResourceDetailView):
    def _locked(self, request, id, action: str):
        """The record, locked until the write commits; refused (403) before it is compared
        with If-Match (412)."""
        self._check_pk(id)
        require_view_right(request.user, self.resource.model)
        # Only the record's own row: a default ordering may join a nullable relation.
        rows = self.resource.model._base_manager.select_for_update(of=("self",))
        instance = rows.filter(pk=id).first()
        current = self.represent(request, id) if instance is not None else None
        if current is None:
            raise NotFound()
        writes.require(request.user, action, instance)
        check_if_match(request, etag_of(current))
        return instance

    def _update(self, request, id, *, partial: bool):
        with transaction.atomic():
            instance = self._locked(request, id, "change")
            writes.save(
                self.resource,
                user=request.user,
                data=request.data,
                instance=instance,
                partial=partial,
            )
            data = self.represent(request, id)
        return self.respond(data)

    def put(self, request, id):
        return self._update(request, id, partial=False)

    def patch(self, request, id):
        return self._update(request, id, partial=True)

    def delete(self, request, id):
        with transaction.atomic():
            instance = self._locked(request, id, "delete")
            outcome = writes.remove(self.resource, user=request.user, instance=instance)
            data = self.represent(request, id) if outcome == "retired" else None
        if data is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self.respond(data)


class ExtraView(ResourceView):
    """``GET /api/v1/<resource>/<id>/<extra>/``: an answer about one record (Extra)."""

    extra: "Extra"

    def get(self, request, id):
        resource, extra = self.resource, self.extra
        if id > MAX_ID:
            raise NotFound()
        require_view_right(request.user, resource.model)
        params = request.query_params
        accepted = {parameter.name: parameter for parameter in extra.parameters}
        errors = {
            name: ["Unknown query parameter."] for name in sorted(set(params) - set(accepted))
        }
        values = {}
        for name, parameter in accepted.items():
            if name not in params:
                values[name] = parameter.default
                continue
            try:
                values[name] = parameter.convert(params[name])
            except FieldInvalid as exc:
                errors[name] = exc.messages
        if errors:
            raise Invalid(errors=errors)
        queryset = resource.model._base_manager.filter(
            pk__in=resource.base_queryset(request.user).filter(pk=id).values("pk")
        )
        if extra.queryset is not None:
            queryset = extra.queryset(queryset)
        instance = queryset.first()
        if instance is None:
            raise NotFound()
        return Response(extra.answer(instance, **values))


class SyncView(ResourceView):
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise Invalid(errors={"non_field_errors": ["Expected a JSON object."]})
        errors = {name: ["Unknown field."] for name in sorted(set(data) - SYNC_ENVELOPE)}
        source = data.get("source")
        if not isinstance(source, str) or not source.strip() or len(source) > 100:
            errors["source"] = ["Name the source: a non-empty string of up to 100 characters."]
        elif "\x00" in source:
            errors["source"] = ["Null characters are not allowed."]
        mode = data.get("mode", UPSERT)
        if mode not in MODES:
            errors["mode"] = [f"Use one of: {', '.join(MODES)}."]
        flags = {name: data.get(name, False) for name in ("allow_mass_retire", "adopt", "dry_run")}
        for name, value in flags.items():
            if not isinstance(value, bool):
                errors[name] = ["Expected true or false."]
        items = data.get("items")
        if not isinstance(items, list):
            errors["items"] = ["Give the items as a list."]
        if errors:
            raise Invalid(errors=errors)
        assert isinstance(source, str) and isinstance(items, list)  # both checked above
        result = sync(
            self.resource,
            user=request.user,
            source=source.strip(),
            mode=mode,
            items=items,
            **flags,
        )
        return Response(result)


class ChangesView(ApiView):
    """Every change to the API's resources, oldest first, so a CMDB can mirror them."""

    PARAMETERS = frozenset({"since", "resource", "source", *PAGE_PARAMETERS})

    def get(self, request):
        from core.api.resources import registry

        params = request.query_params
        refuse_unknown(params, self.PARAMETERS)
        logged = registry.logged()
        resources = [r for r in logged if permissions.can(request.user, "view", r.model)]
        wanted = params.get("resource")
        if wanted is not None:
            if wanted not in {r.name for r in logged}:
                raise Invalid(errors={"resource": ["No such resource."]})
            resources = [r for r in resources if r.name == wanted]
        types = ContentType.objects.get_for_models(*[r.model for r in resources])
        by_type = {types[r.model].pk: r for r in resources}
        queryset = ObjectChange.objects.filter(content_type_id__in=list(by_type))
        since = moment_parameter(params, "since")
        if since is not None:
            queryset = queryset.filter(time__gte=since)
        source = text_parameter(params, "source")
        if source is not None:
            queryset = queryset.filter(after__source=source) | queryset.filter(
                after__isnull=True, before__source=source
            )
        page = KeysetPage(
            request, queryset, time_field="time", time_key="time", rows=ObjectChange.objects.all()
        )
        rows = [
            change_row(row, by_type)
            for row in page.queryset.values_list(
                "id",
                "time",
                "action",
                "content_type_id",
                "object_id",
                "object_repr",
                "channel",
                "source",
                "user_name",
                "before",
                "after",
            )
        ]
        return Response(page.paginate(rows))


def change_row(row, by_type) -> dict:
    pk, time, action, type_id, object_id, display, channel, source, user, before, after = row
    resource = by_type[type_id]
    key = after or before or {}
    record = {"id": int(object_id) if object_id.isdigit() else 0}
    if resource.is_synced:
        record["source"] = key.get("source", "")
        record["external_id"] = key.get("external_id", "")
    return {
        "id": pk,
        "time": json_value(time),
        "resource": resource.name,
        "record": record,
        "display": display,
        "action": action,
        "event": change_event(resource, action, before, after),
        "channel": channel,
        "sync_source": source,
        "user": user,
        "before": before,
        "after": after,
    }


def _retired(resource, snapshot: dict | None) -> bool:
    if not snapshot:
        return False
    if snapshot.get("retired_at"):
        return True
    retired_when = resource.retired_when
    return bool(retired_when and retired_when(snapshot))


def change_event(resource, action: str, before, after) -> str:
    if action == ChangeAction.CREATE:
        return "created"
    if action == ChangeAction.DELETE:
        return "deleted"
    was, now = _retired(resource, before), _retired(resource, after)
    if now and not was:
        return "retired"
    if was and not now:
        return "restored"
    return "updated"


class RootView(ApiView):
    def get(self, request):
        from core.api.resources import registry

        absolute = request.build_absolute_uri
        return Response(
            {
                "resources": {
                    r.name: {
                        "list": absolute(reverse(f"api:{r.name}-list")),
                        **(
                            {"sync": absolute(reverse(f"api:sync-{r.name}"))}
                            if r.is_syncable
                            else {}
                        ),
                    }
                    for r in registry
                },
                "changes": absolute(reverse("api:changes")),
                "schema": absolute(reverse("api:schema")),
                "docs": absolute(reverse("api:docs")),
            }
        )


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per process: it follows from the resources, which
    are declared at start-up and never change while it runs (generating it takes about a
    third of a second), and again when what else it describes changes (core.api.schema's
    stamp: the custom fields defined since)."""

    _schemas: dict = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, schema.stamp())
        if key not in self._schemas:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            self._schemas.clear()  # one schema a version is kept: the stamp's latest
            self._schemas[key] = generator.get_schema(request=request, public=self.serve_public)
        filename = self._get_filename(request, version)
        return Response(
            data=self._schemas[key],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )


def views_for(resource):
    """The view classes of one resource, with their OpenAPI description: list, detail and
    sync (None for a read-only resource, or one with no sync key: Resource.is_syncable)."""
    camel = resource.component
    if resource.writes is None:
        list_view = extend_schema_view(get=schema.list_schema(resource))(
            type(f"{camel}ListView", (ResourceListView,), {"resource": resource})
        )
        detail_view = extend_schema_view(get=schema.retrieve_schema(resource))(
            type(f"{camel}DetailView", (ResourceDetailView,), {"resource": resource})
        )
        return list_view, detail_view, None
    list_view = extend_schema_view(
        get=schema.list_schema(resource), post=schema.create_schema(resource)
    )(type(f"{camel}ListView", (WritableResourceListView,), {"resource": resource}))
    detail_view = extend_schema_view(
        get=schema.retrieve_schema(resource),
        put=schema.update_schema(resource, partial=False),
        patch=schema.update_schema(resource, partial=True),
        delete=schema.destroy_schema(resource),
    )(type(f"{camel}DetailView", (WritableResourceDetailView,), {"resource": resource}))
    if not resource.is_syncable:
        return list_view, detail_view, None
    sync_view = extend_schema_view(post=schema.sync_schema(resource))(
        type(f"{camel}SyncView", (SyncView,), {"resource": resource})
    )
    return list_view, detail_view, sync_view


def extra_views(resource) -> list:
    return [
        (
            extra,
            extend_schema_view(get=schema.extra_schema(resource, extra))(
                type(
                    f"{resource.component}{extra.camel}View",
                    (ExtraView,),
                    {"resource": resource, "extra": extra},
                )
            ),
        )
        for extra in resource.reads.extras
    ]


def urlpatterns(registry) -> list:
    patterns = [
        path("", extend_schema_view(get=schema.root_schema())(RootView).as_view(), name="root"),
        path(
            "changes/",
            extend_schema_view(get=schema.changes_schema())(ChangesView).as_view(),
            name="changes",
        ),
        path("schema/", SchemaView.as_view(), name="schema"),
        path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    ]
    for resource in registry:
        list_view, detail_view, sync_view = views_for(resource)
        patterns += [
            path(f"{resource.name}/", list_view.as_view(), name=f"{resource.name}-list"),
            path(
                f"{resource.name}/<int:id>/", detail_view.as_view(), name=f"{resource.name}-detail"
            ),
        ]
        for extra, view in extra_views(resource):
            patterns.append(
                path(
                    f"{resource.name}/<int:id>/{extra.name}/",
                    view.as_view(),
                    name=f"{resource.name}-{extra.name}",
                )
            )
        if sync_view is not None:
            patterns.append(
                path(f"sync/{resource.name}/", sync_view.as_view(), name=f"sync-{resource.name}")
            )
    patterns.append(re_path(r"^.*$", not_found_view))
    return patterns
