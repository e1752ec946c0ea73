"""The OpenAPI description of the users API (people.api.users), which is no generated
resource: its components, added by a spectacular post-processing hook, and its operations."""

from drf_spectacular.utils import extend_schema

from core.api.schema import ETAG
from core.api.schema import ID
from core.api.schema import KEY_PARAMETERS
from core.api.schema import PAGE_PARAMETERS
from core.api.schema import errors
from core.api.schema import filter_parameters
from core.api.schema import ref
from core.api.sync import MAX_ITEMS
from core.api.sync import MODES
from core.roles import ROLES
from people.filtersets import PersonFilterSet

TAG = "users"
ROLE_NAMES = {"type": "array", "items": {"type": "string", "enum": list(ROLES)}}
UNIT_REFERENCE = {
    "nullable": True,
    "oneOf": [{"type": "integer", "format": "int64", "minimum": 1}, ref("ReferenceKey")],
    "description": "The organisation unit: its id, or its external id within a source.",
}
TEXT = {
    "username": {"type": "string", "minLength": 1, "maxLength": 150},
    "first_name": {"type": "string", "maxLength": 150},
    "last_name": {"type": "string", "maxLength": 150},
    "email": {
        "oneOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}],
        "description": "An e-mail address, or empty.",
    },
}
OWNED = {
    "type": "object",
    "required": ["kind", "id", "name"],
    "properties": {
        "kind": {
            "type": "string",
            "enum": ["services", "value streams", "applications", "contracts", "customers"],
        },
        "id": {"type": "integer", "format": "int64"},
        "name": {"type": "string"},
    },
}

COMPONENTS = {
    "User": {
        "type": "object",
        "description": "A person's account; never their password.",
        "required": ["id", "source", "external_id", "username", "name", "active", "roles"],
        "properties": {
            "id": {"type": "integer", "format": "int64", "readOnly": True},
            "source": {"type": "string", "readOnly": True},
            "external_id": {"type": "string", "readOnly": True},
            **TEXT,
            "name": {"type": "string", "readOnly": True},
            "active": {"type": "boolean", "readOnly": True},
            "roles": ROLE_NAMES,
            "unit": {
                "nullable": True,
                "allOf": [ref("RecordRef")],
                "description": "The organisation unit (id, source, external_id, slug).",
            },
            "last_login": {"type": "string", "format": "date-time", "nullable": True},
            "date_joined": {"type": "string", "format": "date-time"},
        },
    },
    "UserPage": {
        "type": "object",
        "required": ["next", "results"],
        "properties": {
            "next": {"type": "string", "format": "uri", "nullable": True},
            "results": {"type": "array", "items": ref("User")},
        },
    },
    "UserWrite": {
        "type": "object",
        "additionalProperties": False,
        "required": ["username"],
        "properties": {**TEXT, "roles": ROLE_NAMES, "unit": UNIT_REFERENCE},
    },
    "PatchedUserWrite": {
        "type": "object",
        "additionalProperties": False,
        "properties": {**TEXT, "roles": ROLE_NAMES, "unit": UNIT_REFERENCE},
    },
    "UserDeactivate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "successor": {
                "type": "string",
                "nullable": True,
                "description": "The username of who takes over what they own.",
            }
        },
    },
    "OwnedRecord": OWNED,
    "UserDeactivation": {
        "allOf": [ref("User")],
        "properties": {"handed_over": {"type": "array", "items": ref("OwnedRecord")}},
    },
    "UserStillOwns": {
        "allOf": [ref("Error")],
        "properties": {"owns": {"type": "array", "items": ref("OwnedRecord")}},
    },
    "UserSyncItem": {
        "type": "object",
        "additionalProperties": False,
        "required": ["external_id", "username"],
        "properties": {
            "source": {"type": "string", "maxLength": 100},
            "external_id": {"type": "string", "minLength": 1, "maxLength": 200},
            **TEXT,
            "active": {"type": "boolean", "default": True},
            "roles": ROLE_NAMES,
            "unit": UNIT_REFERENCE,
        },
    },
    "UserSyncRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["source", "items"],
        "properties": {
            "source": {"type": "string", "minLength": 1, "maxLength": 100},
            "mode": {"type": "string", "enum": list(MODES), "default": "upsert"},
            "allow_mass_retire": {"type": "boolean", "default": False},
            "items": {"type": "array", "maxItems": MAX_ITEMS, "items": ref("UserSyncItem")},
        },
    },
    "UserSyncResult": {
        "allOf": [ref("SyncResult")],
        "properties": {
            "stranded": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer", "format": "int64"},
                        "username": {"type": "string"},
                        "external_id": {"type": "string"},
                        "owns": {"type": "array", "items": ref("OwnedRecord")},
                    },
                },
            }
        },
    },
    "UserSyncStranded": {
        "allOf": [ref("Error")],
        "properties": {"result": ref("UserSyncResult")},
    },
}


def add_components(result, generator, request, public):
    """drf-spectacular post-processing hook: the users API's components."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(COMPONENTS)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


list_users = extend_schema(
    operation_id="list_users",
    summary="List users",
    description="Ordered by id; follow `next`. Portfolio managers only.",
    parameters=[*filter_parameters(PersonFilterSet), *KEY_PARAMETERS, *PAGE_PARAMETERS],
    responses={200: ref("UserPage"), **errors(400, 401, 403)},
    tags=[TAG],
)
create_user = extend_schema(
    operation_id="create_user",
    summary="Create a user (without a password: they set one through the reset e-mail)",
    request={"application/json": ref("UserWrite")},
    parameters=[ETAG],
    responses={201: ref("User"), **errors(400, 401, 403, 415)},
    tags=[TAG],
)
get_user = extend_schema(
    operation_id="get_user",
    summary="One user",
    parameters=[ID, ETAG],
    responses={200: ref("User"), **errors(401, 403, 404)},
    tags=[TAG],
)
patch_user = extend_schema(
    operation_id="patch_user",
    summary="Change some fields of a user",
    request={"application/json": ref("PatchedUserWrite")},
    parameters=[ID, ETAG],
    responses={200: ref("User"), **errors(400, 401, 403, 404, 415)},
    tags=[TAG],
)
deactivate_user = extend_schema(
    operation_id="deactivate_user",
    summary="Deactivate a user, handing what they own over to a successor",
    description=(
        "Refused with 409 and the list of what they own (services, value streams, "
        "applications, contracts, customers in use) unless a successor is named."
    ),
    parameters=[ID],
    request={"application/json": ref("UserDeactivate")},
    responses={
        200: ref("UserDeactivation"),
        409: ref("UserStillOwns"),
        **errors(400, 401, 403, 404, 415),
    },
    tags=[TAG],
)
sync_users = extend_schema(
    operation_id="sync_users",
    summary="Sync users from a source in bulk",
    description=(
        f"Up to {MAX_ITEMS} items. `full` also deactivates the source's people not sent "
        "(refused with 409 when that is more than 20 % of them, unless `allow_mass_retire`); "
        "those who still own records in use stay active and are listed with a 409, the rest "
        "of the sync being written."
    ),
    request={"application/json": ref("UserSyncRequest")},
    responses={
        200: ref("UserSyncResult"),
        409: ref("UserSyncStranded"),
        **errors(400, 401, 403, 413, 415),
    },
    tags=["sync"],
)
