"""The ``users`` API: accounts with their names, e-mail, roles and organisation unit.

``/api/v1/users/`` (list, create), ``/api/v1/users/<id>/`` (read, change),
``/api/v1/users/<id>/deactivate/`` (deactivate, with a successor for what they own) and
``/api/v1/sync/users/`` (bulk sync, people.sync). Only a Portfolio manager reads or writes
them, and no answer ever carries a password or its hash: rows are read column by column.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import OuterRef
from django.urls import path
from django.urls import reverse
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.errors import Conflict
from core.api.errors import Invalid
from core.api.errors import body
from core.api.fields import MAX_ID
from core.api.fields import json_value
from core.api.pagination import PARAMETERS as PAGE_PARAMETERS
from core.api.pagination import KeysetPage
from core.api.sync import MODES
from core.api.sync import UPSERT
from core.api.views import ENVELOPE
from core.api.views import ApiView
from core.api.views import etag_of
from core.api.views import refuse_unknown
from core.api.views import text_parameter
from core.choices import Channel
from core.roles import ROLES
from people import services
from people import sync
from people.api import schema
from people.filtersets import PersonFilterSet
from people.models import OrganisationUnit

COLUMNS = (
    "id",
    "profile__source",
    "profile__external_id",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "role_names",
    "profile__unit_id",
    "profile__unit__source",
    "profile__unit__external_id",
    "profile__unit__slug",
    "last_login",
    "date_joined",
)
WRITABLE = frozenset({"username", "first_name", "last_name", "email", "roles", "unit"})
FILTERS = frozenset(PersonFilterSet.base_filters) | {"source", "external_id"}


def user_rows(queryset) -> list[dict]:
    """Users as the API shows them: one query, named columns only (never the password)."""
    roles = Group.objects.filter(user=OuterRef("pk")).order_by("name").values("name")
    out = []
    for row in queryset.annotate(role_names=ArraySubquery(roles)).values_list(*COLUMNS):
        (pk, source, external_id, username, first, last, email, active, role_names) = row[:9]
        unit_id, unit_source, unit_external_id, unit_slug, last_login, joined = row[9:]
        out.append(
            {
                "id": pk,
                "source": source or "",
                "external_id": external_id or "",
                "username": username,
                "first_name": first,
                "last_name": last,
                "name": f"{first} {last}".strip() or username,
                "email": email,
                "active": active,
                "roles": role_names,
                "unit": None
                if unit_id is None
                else {
                    "id": unit_id,
                    "source": unit_source,
                    "external_id": unit_external_id,
                    "slug": unit_slug,
                },
                "last_login": json_value(last_login) if last_login else None,
                "date_joined": json_value(joined),
            }
        )
    return out


def readable(request):
    services.require_people_manager(request.user)
    return get_user_model().objects.all()


@extend_schema_view(get=schema.list_users, post=schema.create_user)
class UserListView(ApiView):
    def get(self, request):
        queryset = readable(request)
        params = request.query_params
        refuse_unknown(params, FILTERS | set(PAGE_PARAMETERS))
        filter_data = {k: v for k, v in params.items() if k in PersonFilterSet.base_filters}
        if filter_data:
            filterset = PersonFilterSet(filter_data, queryset=queryset, request=request)
            if not filterset.is_valid():
                raise Invalid(errors={k: list(v) for k, v in filterset.errors.items()})
            queryset = filterset.qs
        for name in ("source", "external_id"):
            value = text_parameter(params, name)
            if value is not None:
                queryset = queryset.filter(**{f"profile__{name}": value})
        page = KeysetPage(request, queryset, time_field=None, time_key="")
        return Response(page.paginate(user_rows(page.queryset)))

    def post(self, request):
        services.require_people_manager(request.user)
        user = get_user_model()(is_active=True)
        saved = write(request, user, partial=False)
        data = user_rows(get_user_model().objects.filter(pk=saved.pk))[0]
        location = reverse("api:users-detail", args=[saved.pk])
        return Response(
            data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_of(data), "Location": location},
        )


def _one(request, id):
    if id > MAX_ID:
        raise NotFound()
    rows = user_rows(readable(request).filter(pk=id))
    if not rows:
        raise NotFound()
    return rows[0]


@extend_schema_view(get=schema.get_user, patch=schema.patch_user)
class UserDetailView(ApiView):
    def get(self, request, id):
        data = _one(request, id)
        return Response(data, headers={"ETag": etag_of(data)})

    def patch(self, request, id):
        _one(request, id)
        with transaction.atomic():
            user = get_user_model().objects.select_for_update().get(pk=id)
            write(request, user, partial=True)
        data = _one(request, id)
        return Response(data, headers={"ETag": etag_of(data)})


def write(request, user, *, partial: bool):
    """Apply the body's fields to ``user`` and save through people.services."""
    data = request.data
    if not isinstance(data, dict):
        raise Invalid(errors={"non_field_errors": ["Expected a JSON object."]})
    errors = {name: ["Unknown field."] for name in sorted(set(data) - WRITABLE - {"active"})}
    if "active" in data:
        errors["active"] = [
            "Deactivate with POST …/deactivate/ (naming a successor for what they own); "
            "activate by a sync or on the people page."
        ]
    if not partial and "username" not in data:
        errors["username"] = ["This field is required."]
    for name in ("username", "first_name", "last_name", "email"):
        if name in data:
            if not isinstance(data[name], str) or "\x00" in data[name]:
                errors[name] = ["Expected a string."]
            else:
                setattr(user, name, data[name])
    role_names = None
    if "roles" in data:
        names = data["roles"]
        if not isinstance(names, list) or not all(isinstance(r, str) for r in names):
            errors["roles"] = ["Give the roles as a list of role names."]
        elif unknown := [name for name in names if name not in ROLES]:
            errors["roles"] = [
                f"Unknown role: {', '.join(unknown)}. Use one of: {', '.join(ROLES)}."
            ]
        else:
            role_names = names
    unit: OrganisationUnit | bool | None = False
    if "unit" in data:
        try:
            key = sync.unit_key(data["unit"], "")
        except ValueError:
            errors["unit"] = [sync.UNIT_REFERENCE]
        else:
            if key is None:
                unit = None
            elif key[0] == "id":
                unit = OrganisationUnit.objects.filter(pk=key[1]).first()
            else:
                unit = OrganisationUnit.objects.filter(source=key[1], external_id=key[2]).first()
            if unit is None and key is not None:
                errors["unit"] = ["No organisation unit has this key."]
    if errors:
        raise Invalid(errors=errors)
    return services.save_person(
        user=user, by=request.user, role_names=role_names, unit=unit, channel=Channel.API
    )


@extend_schema_view(post=schema.deactivate_user)
class UserDeactivateView(ApiView):
    """``POST {"successor": "<username>"}`` (or none): deactivate, handing over what they
    own; refused with 409 and the list while they own records in use and no one is named."""

    def post(self, request, id):
        _one(request, id)
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise Invalid(errors={"non_field_errors": ["Expected a JSON object."]})
        errors = {name: ["Unknown field."] for name in sorted(set(data) - {"successor"})}
        successor = None
        name = data.get("successor")
        if name is not None:
            if not isinstance(name, str):
                errors["successor"] = ["Expected a username."]
            else:
                successor = get_user_model().objects.filter(username=name).first()
                if successor is None:
                    errors["successor"] = ["No user has this username."]
        if errors:
            raise Invalid(errors=errors)
        user = get_user_model().objects.get(pk=id)
        try:
            moved = services.deactivate_user(
                user, by=request.user, successor=successor, channel=Channel.API
            )
        except services.StrandedOwnership as exc:
            return Response(
                {
                    **body(409, "stranded_ownership", exc.messages[0], {"successor": exc.messages}),
                    "owns": [item.as_dict() for item in exc.owned],
                },
                status=409,
            )
        data = _one(request, id)
        return Response({**data, "handed_over": [item.as_dict() for item in moved]})


@extend_schema_view(post=schema.sync_users)
class UserSyncView(ApiView):
    def post(self, request):
        services.require_people_manager(request.user)
        data = request.data
        if not isinstance(data, dict):
            raise Invalid(errors={"non_field_errors": ["Expected a JSON object."]})
        errors = {name: ["Unknown field."] for name in sorted(set(data) - ENVELOPE - {"adopt"})}
        source = data.get("source")
        if not isinstance(source, str) or not source.strip() or len(source) > 100:
            errors["source"] = ["Name the source: a non-empty string of up to 100 characters."]
        elif "\x00" in source:
            errors["source"] = ["Null characters are not allowed."]
        mode = data.get("mode", UPSERT)
        if mode not in MODES:
            errors["mode"] = [f"Use one of: {', '.join(MODES)}."]
        allow = data.get("allow_mass_retire", False)
        if not isinstance(allow, bool):
            errors["allow_mass_retire"] = ["Expected true or false."]
        items = data.get("items")
        if not isinstance(items, list):
            errors["items"] = ["Give the items as a list."]
        if errors:
            raise Invalid(errors=errors)
        assert isinstance(source, str) and isinstance(items, list)  # both checked above
        result, stranded = sync.sync_users(
            by=request.user, source=source.strip(), mode=mode, items=items, allow_mass_retire=allow
        )
        if not stranded:
            return Response(result)
        conflict = Conflict(
            f"{len(stranded)} people left out or sent inactive still own records in use and "
            "stay active: hand their records over (POST /api/v1/users/<id>/deactivate/ with a "
            "successor). The rest of the sync was written.",
            code="stranded_ownership",
        )
        return Response(
            {
                **body(
                    409,
                    conflict.default_code,
                    str(conflict.detail),
                    {f"users.{s.username}": [sync.owns_text(s.owns)] for s in stranded},
                ),
                "result": result,
            },
            status=409,
        )


urlpatterns = [
    path("users/", UserListView.as_view(), name="users-list"),
    path("users/<int:id>/", UserDetailView.as_view(), name="users-detail"),
    path("users/<int:id>/deactivate/", UserDeactivateView.as_view(), name="users-deactivate"),
    path("sync/users/", UserSyncView.as_view(), name="sync-users"),
]
