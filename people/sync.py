"""Users synced in bulk from a source (an HR system, the identity provider):
``POST /api/v1/sync/users/``.

A user is Django's account, its roles are groups and its unit and sync key are on its
profile, so the generic engine (core.api.sync), which writes one table, cannot write them;
this follows its contract instead: the same envelope, item checks listing every bad item by
index and field, references resolved in one query, one transaction, the change log written
with one COPY (core.changelog), and a full sync that retires (deactivates) what the source no
longer sends, under the same mass-retire guard (core.api.sync.MASS_RETIRE_SHARE).

Deactivation goes through people.services: a person left out by a full sync who still owns
records in use is not deactivated but reported with what they own; the others are.
"""

from dataclasses import dataclass
from dataclasses import field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import changelog
from core import context
from core import roles
from core.api.errors import Conflict
from core.api.errors import Invalid
from core.api.errors import PayloadTooLarge
from core.api.sync import FULL
from core.api.sync import MASS_RETIRE_SHARE
from core.api.sync import MAX_ITEMS
from core.choices import ChangeAction
from core.choices import Channel
from people import services
from people.models import OrganisationUnit
from people.models import Profile
from people.selectors import Owned

CREATED, UPDATED, UNCHANGED, RETIRED = "created", "updated", "unchanged", "retired"
TEXT_LIMITS = {"external_id": 200, "username": 150, "first_name": 150, "last_name": 150}
ITEM_FIELDS = frozenset(
    {"source", "external_id", "username", "first_name", "last_name", "email", "active"}
    | {"roles", "unit"}
)


@dataclass
class Item:
    index: int
    values: dict
    unit_ref: object = None
    unit_given: bool = False
    roles_given: bool = False
    user_id: int | None = None
    before: dict | None = None
    after: dict = field(default_factory=dict)
    outcome: str = ""


@dataclass
class Stranded:
    """A person a full sync left out who still owns records in use: kept active."""

    user_id: int
    username: str
    external_id: str
    owns: list[Owned]

    def as_dict(self) -> dict:
        return {
            "id": self.user_id,
            "username": self.username,
            "external_id": self.external_id,
            "owns": [item.as_dict() for item in self.owns],
        }


@dataclass
class UserSyncResult:
    source: str
    mode: str
    items: list
    retirements: list
    counts: dict
    stranded: list[Stranded]

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "mode": self.mode,
            **self.counts,
            "items": self.items,
            "retirements": self.retirements,
            "stranded": [each.as_dict() for each in self.stranded],
        }


def _text(item: dict, name: str, errors: dict, prefix: str, *, required: bool) -> str | None:
    if name not in item:
        if required:
            errors[f"{prefix}{name}"] = ["This field is required."]
        return None
    value = item[name]
    if not isinstance(value, str):
        errors[f"{prefix}{name}"] = ["Expected a string."]
        return None
    value = value.strip()
    if "\x00" in value:
        errors[f"{prefix}{name}"] = ["Null characters are not allowed."]
        return None
    if required and not value:
        errors[f"{prefix}{name}"] = ["This field may not be blank."]
        return None
    limit = TEXT_LIMITS.get(name)
    if limit and len(value) > limit:
        errors[f"{prefix}{name}"] = [f"At most {limit} characters."]
        return None
    return value


def parse_items(items: list, source: str) -> tuple[list[Item], dict]:
    """Each item read against the users' fields; errors by ``items.<index>.<field>``."""
    errors: dict[str, list[str]] = {}
    parsed: list[Item] = []
    username_field = get_user_model()._meta.get_field("username")
    for index, item in enumerate(items):
        prefix = f"items.{index}."
        if not isinstance(item, dict):
            errors[f"items.{index}"] = ["Expected an object."]
            continue
        for name in sorted(set(item) - ITEM_FIELDS):
            errors[f"{prefix}{name}"] = ["Unknown field."]
        if "source" in item and item["source"] != source:
            errors[f"{prefix}source"] = ["Items carry the payload's source (or none)."]
        values: dict = {}
        values["external_id"] = _text(item, "external_id", errors, prefix, required=True)
        values["username"] = _text(item, "username", errors, prefix, required=True)
        if values["username"]:
            try:
                for validator in username_field.validators:
                    validator(values["username"])
            except ValidationError as exc:
                errors[f"{prefix}username"] = exc.messages
        for name in ("first_name", "last_name", "email"):
            value = _text(item, name, errors, prefix, required=False)
            values[name] = value if value is not None else ""
        if values["email"]:
            try:
                validate_email(values["email"])
            except ValidationError:
                errors[f"{prefix}email"] = ["Enter a valid e-mail address."]
        active = item.get("active", True)
        if not isinstance(active, bool):
            errors[f"{prefix}active"] = ["Expected true or false."]
        values["is_active"] = active
        entry = Item(index=index, values=values)
        if "roles" in item:
            entry.roles_given = True
            names = item["roles"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                errors[f"{prefix}roles"] = ["Give the roles as a list of role names."]
            elif unknown := [n for n in names if n not in roles.ROLES]:
                errors[f"{prefix}roles"] = [
                    f"Unknown role: {', '.join(unknown)}. Use one of: {', '.join(roles.ROLES)}."
                ]
            else:
                values["roles"] = sorted(set(names))
        if "unit" in item:
            entry.unit_given = True
            entry.unit_ref = item["unit"]
        parsed.append(entry)
    seen_ids: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for entry in parsed:
        prefix = f"items.{entry.index}."
        external_id, username = entry.values["external_id"], entry.values["username"]
        if external_id:
            if external_id in seen_ids:
                errors[f"{prefix}external_id"] = [
                    f"Item {seen_ids[external_id]} has the same key: send each once."
                ]
            seen_ids.setdefault(external_id, entry.index)
        if username:
            if username.lower() in seen_names:
                errors[f"{prefix}username"] = [
                    f"Item {seen_names[username.lower()]} has the same username."
                ]
            seen_names.setdefault(username.lower(), entry.index)
    return parsed, errors


def unit_key(ref, source: str):
    """A unit reference as ("id", n) or ("key", source, external_id); None if it is null;
    raises ValueError saying what is wrong."""
    if ref is None:
        return None
    if isinstance(ref, bool):
        raise ValueError
    if isinstance(ref, int):
        return ("id", ref)
    if isinstance(ref, dict):
        if set(ref) == {"id"} and isinstance(ref["id"], int) and not isinstance(ref["id"], bool):
            return ("id", ref["id"])
        external_id, ref_source = ref.get("external_id"), ref.get("source", source)
        if (
            set(ref) <= {"external_id", "source"}
            and isinstance(external_id, str)
            and external_id
            and isinstance(ref_source, str)
        ):
            return ("key", ref_source, external_id)
    raise ValueError


UNIT_REFERENCE = 'Give a unit id, {"id": …} or {"external_id": …, "source": …}, or null.'


def resolve_units(parsed: list[Item], source: str, errors: dict) -> None:
    """Each item's unit as an id, with one query for the whole batch."""
    keys = {}
    for entry in parsed:
        if not entry.unit_given:
            continue
        try:
            keys[entry.index] = unit_key(entry.unit_ref, source)
        except ValueError:
            errors[f"items.{entry.index}.unit"] = [UNIT_REFERENCE]
    ids = {key[1] for key in keys.values() if key and key[0] == "id"}
    pairs = {(key[1], key[2]) for key in keys.values() if key and key[0] == "key"}
    found_ids, found_pairs = set(), {}
    if ids or pairs:
        condition = Q(pk__in=ids)
        for ref_source, external_id in pairs:
            condition |= Q(source=ref_source, external_id=external_id)
        for pk, ref_source, external_id in OrganisationUnit.objects.filter(condition).values_list(
            "pk", "source", "external_id"
        ):
            found_ids.add(pk)
            found_pairs[(ref_source, external_id)] = pk
    for entry in parsed:
        if entry.index not in keys:
            continue
        key = keys[entry.index]
        if key is None:
            entry.values["unit_id"] = None
        elif key[0] == "id" and key[1] in found_ids:
            entry.values["unit_id"] = key[1]
        elif key[0] == "key" and (key[1], key[2]) in found_pairs:
            entry.values["unit_id"] = found_pairs[(key[1], key[2])]
        else:
            errors[f"items.{entry.index}.unit"] = ["No organisation unit has this key."]


def _stored(source: str, parsed: list[Item]) -> dict[int, dict]:
    """The stored accounts the items may match, by user id, as snapshots: those of the
    source, and those with an item's username (one query, and one for their roles)."""
    User = get_user_model()
    usernames = [e.values["username"] for e in parsed if e.values["username"]]
    rows = (
        User.objects.filter(Q(profile__source=source) | Q(username__in=usernames))
        .values(
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "profile__unit_id",
            "profile__source",
            "profile__external_id",
        )
        .order_by()
    )
    stored = {}
    for row in rows:
        stored[row["id"]] = {
            "username": row["username"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "email": row["email"],
            "is_active": row["is_active"],
            "roles": [],
            "unit_id": row["profile__unit_id"],
            "source": row["profile__source"] or "",
            "external_id": row["profile__external_id"] or "",
        }
    through = User.groups.through
    for user_id, name in (
        through.objects.filter(user_id__in=list(stored))
        .values_list("user_id", "group__name")
        .order_by("group__name")
    ):
        stored[user_id]["roles"].append(name)
    return stored


def sync_users(
    *, by, source: str, mode: str, items: list, allow_mass_retire: bool = False
) -> tuple[dict, list[Stranded]]:
    """Sync a batch of users from ``source``; answers the result and, after a full sync,
    the people left out who own records in use (kept active; the caller answers 409)."""
    services.require_people_manager(by)
    if len(items) > MAX_ITEMS:
        raise PayloadTooLarge(
            f"A batch holds at most {MAX_ITEMS} items; this one has {len(items)}. "
            "Send it in several upsert batches.",
            code="too_many_items",
        )
    with (
        transaction.atomic(),
        context.change_context(user=by, channel=Channel.SYNC, source=source),
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"portico-sync:users:{source}"]
            )
        parsed, errors = parse_items(items, source)
        resolve_units(parsed, source, errors)
        stored = _stored(source, parsed)
        by_key = {
            row["external_id"]: pk
            for pk, row in stored.items()
            if row["source"] == source and row["external_id"]
        }
        by_name = {row["username"].lower(): pk for pk, row in stored.items()}
        for entry in parsed:
            values = entry.values
            if not values["external_id"] or not values["username"]:
                continue
            pk = by_key.get(values["external_id"])
            holder = by_name.get(values["username"].lower())
            if pk is None and holder is not None:
                held = stored[holder]
                if held["external_id"] and (held["source"], held["external_id"]) != (
                    source,
                    values["external_id"],
                ):
                    errors[f"items.{entry.index}.username"] = [
                        f"Another person, synced from “{held['source']}”, has this username."
                    ]
                    continue
                pk = holder  # an account made by hand: the source adopts it
            elif pk is not None and holder is not None and holder != pk:
                errors[f"items.{entry.index}.username"] = ["Another person has this username."]
                continue
            entry.user_id = pk
        if errors:
            bad = len({path.split(".")[1] for path in errors})
            raise Invalid(
                f"{bad} of {len(items)} items {'is' if bad == 1 else 'are'} invalid; "
                "nothing was written.",
                errors=errors,
            )
        now = timezone.now()
        deactivating: list[Item] = []
        for entry in parsed:
            before = stored.get(entry.user_id) if entry.user_id else None
            entry.before = before
            after = dict(before) if before else {"roles": [], "unit_id": None}
            values = entry.values
            for name in ("username", "first_name", "last_name", "email", "is_active"):
                after[name] = values[name]
            if entry.roles_given:
                after["roles"] = values["roles"]
            if entry.unit_given:
                after["unit_id"] = values["unit_id"]
            after["source"], after["external_id"] = source, values["external_id"]
            if before is not None and before["is_active"] and not after["is_active"]:
                after["is_active"] = True  # deactivated below, through the hand-over rule
                deactivating.append(entry)
            entry.after = after
            entry.outcome = CREATED if before is None else UPDATED if after != before else UNCHANGED
        _write(parsed, now)
        # Sent inactive: deactivated through the hand-over rule, or kept and reported.
        stranded = _deactivate(by, [e.user_id for e in deactivating], stored)
        kept = {each.user_id for each in stranded}
        for entry in deactivating:
            if entry.user_id not in kept:
                entry.outcome = UPDATED
        retirements = []
        if mode == FULL:
            matched = {e.user_id for e in parsed if e.user_id}
            active = [
                pk for pk, row in stored.items() if row["source"] == source and row["is_active"]
            ]
            leaving = [pk for pk in active if pk not in matched]
            if leaving and not allow_mass_retire and len(leaving) > MASS_RETIRE_SHARE * len(active):
                raise Conflict(
                    f"This full sync would retire {len(leaving)} of the {len(active)} records of "
                    f"source “{source}” (more than {int(MASS_RETIRE_SHARE * 100)} %). If the "
                    'export is complete, send it again with "allow_mass_retire": true.',
                    errors={
                        "items": [f"{len(leaving)} of {len(active)} records would be retired."]
                    },
                    code="mass_retire",
                )
            left_stranded = _deactivate(by, leaving, stored)
            kept = {each.user_id for each in left_stranded}
            retirements = [
                {
                    "id": pk,
                    "key": {"source": source, "external_id": stored[pk]["external_id"]},
                    "outcome": RETIRED,
                }
                for pk in leaving
                if pk not in kept
            ]
            stranded += left_stranded
        counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0, RETIRED: len(retirements), "deleted": 0}
        for entry in parsed:
            counts[entry.outcome] += 1
        result = UserSyncResult(
            source=source,
            mode=mode,
            items=[
                {
                    "index": e.index,
                    "key": {"source": source, "external_id": e.values["external_id"]},
                    "id": e.user_id,
                    "outcome": e.outcome,
                }
                for e in parsed
            ],
            retirements=retirements,
            counts=counts,
            stranded=stranded,
        )
        return result.as_dict(), stranded


def owns_text(owned: list[Owned]) -> str:
    listed = "; ".join(f"{item.kind}: {item.name}" for item in owned[:20])
    more = f" and {len(owned) - 20} more" if len(owned) > 20 else ""
    return f"Still owns {listed}{more}."


def _deactivate(by, user_ids: list[int], stored: dict[int, dict]) -> list[Stranded]:
    """Deactivate (people.services) those who own nothing in use; report the others."""
    if not user_ids:
        return []
    User = get_user_model()
    users = list(User.objects.filter(pk__in=user_ids).order_by("pk"))
    _done, owned = services.deactivate_users(users, by=by, channel=Channel.SYNC)
    return [
        Stranded(
            user_id=user.pk,
            username=user.username,
            external_id=stored[user.pk]["external_id"] if user.pk in stored else "",
            owns=owned[user.pk],
        )
        for user in users
        if user.pk in owned
    ]


def _write(parsed: list[Item], now) -> None:
    """New and changed accounts, their profiles and roles, in bulk; their change records by
    one COPY."""
    User = get_user_model()
    new = [e for e in parsed if e.outcome == CREATED]
    changed = [e for e in parsed if e.outcome == UPDATED]
    if not new and not changed:
        return
    unusable = make_password(None)
    created = User.objects.bulk_create(
        [
            User(
                username=e.after["username"],
                first_name=e.after["first_name"],
                last_name=e.after["last_name"],
                email=e.after["email"],
                is_active=e.after["is_active"],
                password=unusable,
                date_joined=now,
            )
            for e in new
        ]
    )
    for entry, user in zip(new, created, strict=True):
        entry.user_id = user.pk
    if changed:
        users = User.objects.in_bulk([e.user_id for e in changed])
        for entry in changed:
            user = users[entry.user_id]
            for name in ("username", "first_name", "last_name", "email", "is_active"):
                setattr(user, name, entry.after[name])
        User.objects.bulk_update(
            list(users.values()), ["username", "first_name", "last_name", "email", "is_active"]
        )
    touched = [*new, *changed]
    profiles = {
        p.user_id: p for p in Profile.objects.filter(user_id__in=[e.user_id for e in touched])
    }
    missing = []
    for entry in touched:
        profile = profiles.get(entry.user_id) or Profile(user_id=entry.user_id)
        profile.unit_id = entry.after["unit_id"]
        profile.source = entry.after["source"]
        profile.external_id = entry.after["external_id"]
        if profile.pk is None:
            missing.append(profile)
    Profile.objects.bulk_create(missing)
    Profile.objects.bulk_update(list(profiles.values()), ["unit_id", "source", "external_id"])
    groups = dict(Group.objects.filter(name__in=roles.ROLES).values_list("name", "pk"))
    through = User.groups.through
    moved = [e for e in touched if e.before is None or e.after["roles"] != e.before["roles"]]
    through.objects.filter(user_id__in=[e.user_id for e in moved]).delete()
    through.objects.bulk_create(
        [
            through(user_id=e.user_id, group_id=groups[name])
            for e in moved
            for name in e.after["roles"]
        ]
    )
    ctx = context.current()
    content_type = ContentType.objects.get_for_model(User).pk
    changelog.write_rows(
        [
            changelog.row(
                ctx,
                time=now,
                action=ChangeAction.CREATE if e.before is None else ChangeAction.UPDATE,
                content_type_id=content_type,
                object_id=e.user_id,
                object_repr=e.after["username"],
                before=e.before,
                after=e.after,
            )
            for e in touched
        ]
    )
