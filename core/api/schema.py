"""The OpenAPI description, generated from the same field specs the API validates with.

drf-spectacular walks the views; each operation names its bodies by component (``Service``,
``ServiceWrite``, ``ServiceSyncRequest`` …) and ``add_components`` (a spectacular
post-processing hook) adds those components, built here from the resources, so the schema
cannot drift from what the API accepts and answers. Request bodies forbid unknown properties
(``additionalProperties: false``), as the API does.
"""

from collections.abc import Callable
from collections.abc import Hashable

import django_filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema

from core.api import pagination
from core.api.fields import choice_components
from core.api.resources import key_component
from core.api.resources import reference_component
from core.api.resources import registry
from core.api.sync import MAX_ITEMS
from core.api.sync import MODES

ERROR = {"$ref": "#/components/schemas/Error"}

# What the schema depends on besides the resources, which are declared at start-up: the
# custom fields portfolio managers define while Portico runs. Each function answers a value
# that changes when its part of the schema does (core.api.views.SchemaView generates the
# schema again then).
_stamps: list[Callable[[], Hashable]] = []


def add_stamp(function: Callable[[], Hashable]) -> None:
    if function not in _stamps:
        _stamps.append(function)


def stamp() -> tuple:
    return tuple(function() for function in _stamps)


def filters_of(filterset) -> dict:
    """A FilterSet's filters: its declared ones, and those it makes at run time
    (``dynamic_filters()``: a custom field's ``cf_<name>``)."""
    if filterset is None:
        return {}
    dynamic = getattr(filterset, "dynamic_filters", None)
    return {**filterset.base_filters, **(dynamic() if dynamic is not None else {})}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        definition = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer"
        )
        definition["description"] = (
            "A personal API token (ptk_…), created on your profile page or with "
            "`manage.py create_api_token`."
        )
        return definition


# --- components ---------------------------------------------------------------------------


SHARED = {
    "Error": {
        "type": "object",
        "description": "Every refusal has this shape; `errors` names each bad field and why.",
        "required": ["status", "code", "detail", "errors"],
        "properties": {
            "status": {"type": "integer"},
            "code": {"type": "string"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "RecordRef": {
        "type": "object",
        "description": "A reference to another record: its id and, when it has them, its key.",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "source": {"type": "string"},
            "external_id": {"type": "string"},
        },
    },
    "ReferenceKey": {
        "type": "object",
        "description": (
            "A reference by id, or by external id within a source (the payload's own source "
            "when left out)."
        ),
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "format": "int64", "minimum": 1},
            "external_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "source": {"type": "string", "maxLength": 100},
        },
    },
    "SyncOutcome": {
        "type": "object",
        "required": ["index", "key", "id", "outcome"],
        "properties": {
            "index": {"type": "integer"},
            "key": {"type": "object", "additionalProperties": True},
            "id": {"type": "integer", "format": "int64"},
            "outcome": {"type": "string", "enum": ["created", "updated", "unchanged"]},
        },
    },
    "SyncRetirement": {
        "type": "object",
        "required": ["id", "key", "outcome"],
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "key": {"type": "object", "additionalProperties": True},
            "outcome": {"type": "string", "enum": ["retired", "deleted"]},
        },
    },
    "SyncResult": {
        "type": "object",
        "required": [
            "source",
            "mode",
            "created",
            "updated",
            "unchanged",
            "retired",
            "deleted",
            "items",
            "retirements",
        ],
        "properties": {
            "source": {"type": "string"},
            "mode": {"type": "string", "enum": list(MODES)},
            "dry_run": {
                "type": "boolean",
                "description": "True when nothing was written: the answer of a dry run "
                "(resources' syncs always say it).",
            },
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "retired": {"type": "integer"},
            "deleted": {"type": "integer"},
            "items": {"type": "array", "items": ref("SyncOutcome")},
            "retirements": {"type": "array", "items": ref("SyncRetirement")},
        },
    },
    "Change": {
        "type": "object",
        "required": [
            "id",
            "time",
            "resource",
            "record",
            "display",
            "action",
            "event",
            "channel",
            "sync_source",
            "user",
            "before",
            "after",
        ],
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "time": {"type": "string", "format": "date-time"},
            "resource": {"type": "string"},
            "record": ref("RecordRef"),
            "display": {"type": "string"},
            "action": {"type": "string", "enum": ["create", "update", "delete"]},
            "event": {
                "type": "string",
                "enum": ["created", "updated", "retired", "restored", "deleted"],
            },
            "channel": {"type": "string"},
            "sync_source": {"type": "string"},
            "user": {"type": "string"},
            "before": {"type": "object", "nullable": True, "additionalProperties": True},
            "after": {"type": "object", "nullable": True, "additionalProperties": True},
        },
    },
    "ChangePage": {
        "type": "object",
        "required": ["next", "results"],
        "properties": {
            "next": {"type": "string", "format": "uri", "nullable": True},
            "results": {"type": "array", "items": ref("Change")},
        },
    },
    "ApiRoot": {
        "type": "object",
        "required": ["resources", "changes", "schema", "docs"],
        "properties": {
            "resources": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "list": {"type": "string", "format": "uri"},
                        "sync": {"type": "string", "format": "uri"},
                    },
                },
            },
            "changes": {"type": "string", "format": "uri"},
            "schema": {"type": "string", "format": "uri"},
            "docs": {"type": "string", "format": "uri"},
        },
    },
}


def _properties(resource, *, writable: bool) -> dict:
    props = {}
    for spec in resource.specs:
        if writable and spec.read_only:
            continue
        schema = spec.openapi(writable=writable)
        props[spec.name] = {k: v for k, v in schema.items() if not (writable and k == "readOnly")}
    return props


def natural_key_components(resource) -> dict:
    """A reference to a record named by its natural key, as shown and as sent by key."""
    key = resource.natural_key
    model = resource.model
    return {
        reference_component(model): {
            "type": "object",
            "description": f"A reference to a {resource.verbose_name}: its id and its {key.name}.",
            "required": ["id", key.name],
            "properties": {
                "id": {"type": "integer", "format": "int64"},
                key.name: key.text_schema,
            },
        },
        key_component(model): {
            "type": "object",
            "description": (
                f"A {resource.verbose_name} by id or by its {key.name} (both: they must agree)."
            ),
            "additionalProperties": False,
            "properties": {
                "id": {"type": "integer", "format": "int64", "minimum": 1},
                key.name: key.text_schema,
            },
        },
    }


def resource_components(resource) -> dict:
    name = resource.component
    output = {
        "type": "object",
        "required": [spec.name for spec in resource.specs],
        "properties": _properties(resource, writable=False),
    }
    if resource.description:
        output["description"] = resource.description
    page = {
        "type": "object",
        "required": ["next", "results"],
        "properties": {
            "next": {"type": "string", "format": "uri", "nullable": True},
            "results": {"type": "array", "items": ref(name)},
        },
    }
    model_fields = [s.model_field for s in resource.specs if s.model_field is not None]
    components = {name: output, f"{name}Page": page}
    components.update(choice_components(resource.model, model_fields))
    if resource.natural_key is not None:
        components.update(natural_key_components(resource))
    for extra in resource.reads.extras:
        components[f"{name}{extra.camel}"] = extra.schema
    if resource.writes is not None:
        components.update(write_components(resource))
    return components


def write_components(resource) -> dict:
    """The bodies a writable resource accepts: one record, a patch, a sync batch (when it has
    a sync address)."""
    name = resource.component
    write_props = _properties(resource, writable=True)
    required = [spec.name for spec in resource.writable.values() if spec.required]
    write = {"type": "object", "additionalProperties": False, "properties": write_props}
    if required:
        write["required"] = required
    patched = {"type": "object", "additionalProperties": False, "properties": write_props}
    if not resource.is_syncable:  # written one record at a time: no sync batch
        return {f"{name}Write": write, f"Patched{name}Write": patched}
    # An item needs its key; the other required fields only to create a record.
    if resource.is_link:
        item_required = [k for k in resource.key if not resource.writable[k].nullable]
    else:
        item_required = ["external_id"]
    item = {
        "type": "object",
        "description": (
            "One record as the source sends it. Fields left out keep their stored values; a "
            "new record needs the fields its Write schema requires, the others take their "
            "defaults. "
            + (
                f"Keyed by {' and '.join(resource.key)}."
                if resource.is_link
                else "Keyed by (source, external_id)."
            )
        ),
        "additionalProperties": False,
        "properties": write_props,
        "required": item_required,
    }
    sync_request = {
        "type": "object",
        "additionalProperties": False,
        "required": ["source", "items"],
        "properties": {
            "source": {"type": "string", "minLength": 1, "maxLength": 100},
            "mode": {"type": "string", "enum": list(MODES), "default": "upsert"},
            "allow_mass_retire": {"type": "boolean", "default": False},
            "adopt": {
                "type": "boolean",
                "default": False,
                "description": "Link resources: take over links another source sent.",
            },
            "dry_run": {
                "type": "boolean",
                "default": False,
                "description": "Check everything and answer as if written, but write nothing.",
            },
            "items": {"type": "array", "maxItems": MAX_ITEMS, "items": ref(f"{name}SyncItem")},
        },
    }
    return {
        f"{name}Write": write,
        f"Patched{name}Write": patched,
        f"{name}SyncItem": item,
        f"{name}SyncRequest": sync_request,
    }


def add_components(result, generator, request, public):
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SHARED)
    for resource in registry:
        schemas.update(resource_components(resource))
    add_dynamic_parameters(result)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


# --- operations ----------------------------------------------------------------------------


def errors(*codes: int) -> dict:
    descriptions = {
        400: "Invalid input: `errors` names each bad field.",
        401: "No valid credentials.",
        403: "Not allowed (a read-only token, or no right to this record).",
        404: "No such record.",
        409: "A conflict with the stored data.",
        412: "`If-Match` no longer matches: the record has changed.",
        413: "Too large: more items or bytes than one request takes.",
        415: "The body is not JSON.",
    }
    return {code: OpenApiResponse(ERROR, description=descriptions[code]) for code in codes}


ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="The version of the record: send it back in If-Match.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Write only if the record still has this ETag (else 412).",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="Answer 304 without a body if the record still has this ETag.",
)
ID = OpenApiParameter(
    "id", {"type": "integer", "format": "int64", "minimum": 1}, OpenApiParameter.PATH
)
PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", str, description="Where to go on: the `next` link carries it; opaque."
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": pagination.MAX_PAGE_SIZE},
        description=f"Records per page (default {pagination.DEFAULT_PAGE_SIZE}).",
    ),
]
UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    {"type": "string", "format": "date-time"},
    description="Only records changed at or after this instant (ISO 8601).",
)
KEY_PARAMETERS = [
    OpenApiParameter("source", str, description="Only records of this source."),
    OpenApiParameter("external_id", str, description="Only the record with this external id."),
]


def list_parameters(resource) -> list[OpenApiParameter]:
    return [
        *([UPDATED_SINCE] if resource.has_timestamps else []),
        *(KEY_PARAMETERS if resource.is_synced else []),
        *PAGE_PARAMETERS,
    ]


def filter_parameters(filterset) -> list[OpenApiParameter]:
    if filterset is None:
        return []
    return [filter_parameter(name, f) for name, f in filterset.base_filters.items()]


def filter_parameter(name: str, filter_) -> OpenApiParameter:
    schema: dict = {"type": "string"}
    if isinstance(filter_, django_filters.BooleanFilter):
        schema = {"type": "boolean"}
    elif isinstance(filter_, django_filters.NumberFilter):
        schema = {"type": "number"}
    elif isinstance(filter_, django_filters.DateFilter):
        schema = {"type": "string", "format": "date"}
    elif isinstance(filter_, django_filters.ChoiceFilter):
        choices = filter_.extra.get("choices")
        if choices is not None and not callable(choices):
            schema = {"type": "string", "enum": [value for value, _ in choices]}
    return OpenApiParameter(name, schema, description=str(filter_.label or "").strip())


def add_dynamic_parameters(result) -> None:
    """The filters a list makes at run time (a custom field's ``cf_<name>``), added to its
    operation: the operations' parameters are fixed when the views are declared."""
    paths = result.get("paths", {})
    for resource in registry:
        dynamic = getattr(resource.reads.filterset, "dynamic_filters", None)
        if dynamic is None:
            continue
        operation = paths.get(f"/api/v1/{resource.name}/", {}).get("get")
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        for name, filter_ in dynamic().items():
            parameter = filter_parameter(name, filter_)
            parameters.append(
                {
                    "in": "query",
                    "name": name,
                    "schema": parameter.type,
                    "description": parameter.description,
                }
            )


def list_schema(resource):
    name = resource.component
    return extend_schema(
        operation_id=f"list_{resource.name.replace('-', '_')}",
        summary=f"List {resource.model._meta.verbose_name_plural}",
        description=(
            ("Ordered by (updated_at, id)" if resource.has_timestamps else "Ordered by id")
            + "; follow `next` for the following page. Filters are those of the browser list."
        ),
        parameters=[*filter_parameters(resource.reads.filterset), *list_parameters(resource)],
        responses={200: ref(f"{name}Page"), **errors(400, 401, 403)},
        tags=[resource.name],
    )


def create_schema(resource):
    name = resource.component
    return extend_schema(
        operation_id=f"create_{_singular(resource)}",
        summary=f"Create a {resource.verbose_name}",
        request={"application/json": ref(f"{name}Write")},
        parameters=[ETAG],
        responses={201: ref(name), **errors(400, 401, 403, 409, 413, 415)},
        tags=[resource.name],
    )


def retrieve_schema(resource):
    return extend_schema(
        operation_id=f"get_{_singular(resource)}",
        summary=f"One {resource.verbose_name}",
        parameters=[ID, IF_NONE_MATCH, ETAG],
        responses={
            200: ref(resource.component),
            304: OpenApiResponse(description="Not modified since the ETag you sent."),
            **errors(401, 403, 404),
        },
        tags=[resource.name],
    )


def update_schema(resource, *, partial: bool):
    name = resource.component
    body = f"Patched{name}Write" if partial else f"{name}Write"
    verb = "patch" if partial else "update"
    return extend_schema(
        operation_id=f"{verb}_{_singular(resource)}",
        summary=f"{'Change some fields of' if partial else 'Replace'} a {resource.verbose_name}",
        request={"application/json": ref(body)},
        parameters=[ID, IF_MATCH, ETAG],
        responses={200: ref(name), **errors(400, 401, 403, 404, 409, 412, 413, 415)},
        tags=[resource.name],
    )


def destroy_schema(resource):
    return extend_schema(
        operation_id=f"delete_{_singular(resource)}",
        summary=f"Delete a {resource.verbose_name}",
        description=(
            "Deleted (204) when nothing refers to it; otherwise retired (200, the record as it "
            "now is)."
        ),
        parameters=[ID, IF_MATCH],
        responses={
            200: ref(resource.component),
            204: OpenApiResponse(description="Deleted."),
            **errors(401, 403, 404, 409, 412),
        },
        tags=[resource.name],
    )


def extra_schema(resource, extra):
    return extend_schema(
        operation_id=f"get_{_singular(resource)}_{extra.name.replace('-', '_')}",
        summary=extra.summary,
        description=extra.description,
        parameters=[
            ID,
            *(
                OpenApiParameter(p.name, p.schema, description=p.description)
                for p in extra.parameters
            ),
        ],
        responses={
            200: ref(f"{resource.component}{extra.camel}"),
            **errors(400, 401, 403, 404),
        },
        tags=[resource.name],
    )


def sync_schema(resource):
    return extend_schema(
        operation_id=f"sync_{resource.name.replace('-', '_')}",
        summary=f"Sync {resource.model._meta.verbose_name_plural} from a source in bulk",
        description=(
            f"Up to {MAX_ITEMS} items, all or nothing. `upsert` creates and updates; `full` "
            "also retires the source's records that are not sent (refused with 409 when that "
            "is more than 20 % of them, unless `allow_mass_retire`)."
        ),
        request={"application/json": ref(f"{resource.component}SyncRequest")},
        responses={200: ref("SyncResult"), **errors(400, 401, 403, 409, 413, 415)},
        tags=["sync"],
    )


def changes_schema():
    return extend_schema(
        operation_id="list_changes",
        summary="The change feed: creations, changes, retirements and deletions",
        parameters=[
            OpenApiParameter(
                "since",
                {"type": "string", "format": "date-time"},
                description="Only changes at or after this instant (ISO 8601).",
            ),
            OpenApiParameter(
                "resource",
                {"type": "string", "enum": sorted(r.name for r in registry.logged())},
                description="Only changes of this resource.",
            ),
            OpenApiParameter("source", str, description="Only changes of records of this source."),
            *PAGE_PARAMETERS,
        ],
        responses={200: ref("ChangePage"), **errors(400, 401, 403)},
        tags=["changes"],
    )


def root_schema():
    return extend_schema(
        operation_id="api_root",
        summary="The resources of this API",
        responses={200: ref("ApiRoot"), **errors(401, 403)},
        tags=["api"],
    )


def _singular(resource) -> str:
    return resource.model._meta.model_name if not resource.component else _snake(resource.component)


def _snake(name: str) -> str:
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i:
            out.append("_")
        out.append(char.lower())
    return "".join(out)
