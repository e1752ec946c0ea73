"""Writes about people and organisation units: the one place their rules live.

A person who leaves cannot strand what they own: ``deactivate_user`` refuses while the user
owns records in use, unless a successor is named, who then takes them over (each record's
change logged). The browser, the API, the sync and the sign-in backends all deactivate
through it.
"""

from collections.abc import Iterable
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core import changelog
from core import context
from core import permissions
from core import roles
from core import rules
from core.choices import ChangeAction
from core.choices import Channel
from core.forms import person_name
from core.rules import Change
from core.services import delete_or_retire
from core.slugs import generate_slugs
from people import selectors
from people.models import OrganisationUnit
from people.models import Profile
from people.selectors import Owned

NOT_A_PORTFOLIO_MANAGER = "Only a Portfolio manager manages people."


# --- Organisation units ----------------------------------------------------------------------

generate_slugs(OrganisationUnit, "name")


def unit_facts(changes: Sequence[Change]) -> dict[int, dict]:
    """Every unit's parent, by id (one query): the hierarchy a move must not loop in."""
    return dict(OrganisationUnit._base_manager.values_list("pk", "parent_id").order_by()) | {
        change.row["id"]: change.row["parent_id"] for change in changes if change.row.get("id")
    }


@rules.rule(OrganisationUnit, facts=unit_facts)
def unit_rule(change: Change, parents: dict) -> None:
    """A unit is not its own parent, nor below itself."""
    row = change.row
    pk, parent = row.get("id"), row["parent_id"]
    if pk is None or parent is None:
        return
    seen = set()
    while parent is not None and parent not in seen:
        if parent == pk:
            change.error("parent", "A unit cannot belong to itself or to a unit below it.")
            return
        seen.add(parent)
        parent = parents.get(parent)


def save_unit(*, unit: OrganisationUnit) -> OrganisationUnit:
    return rules.save_checked(unit)


def retire_unit(unit: OrganisationUnit) -> None:
    unit.retired_at = unit.retired_at or timezone.now()
    unit.save()


def remove_unit(*, unit: OrganisationUnit) -> str:
    """Delete a unit nothing belongs to; retire one with sub-units, members or records."""
    return delete_or_retire(unit, retire=retire_unit)


# --- Users -------------------------------------------------------------------------------------


def require_people_manager(user) -> None:
    """Only a Portfolio manager writes users (core.roles: the right to change every user)."""
    if not permissions.may_every(user, "change", get_user_model()):
        raise PermissionDenied(NOT_A_PORTFOLIO_MANAGER)


def user_snapshot(user) -> dict:
    """A user as the change log keeps them: never their password."""
    profile = getattr(user, "profile", None) if user.pk else None
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "roles": sorted(group.name for group in user.groups.all()) if user.pk else [],
        "unit_id": profile.unit_id if profile else None,
        "source": profile.source if profile else "",
        "external_id": profile.external_id if profile else "",
    }


def log_user(user, *, before: dict | None, after: dict) -> None:
    action = ChangeAction.CREATE if before is None else ChangeAction.UPDATE
    changelog.record(user, action=action, before=before, after=after)


def role_groups(names: Iterable[str]) -> list[Group]:
    """The role groups of ``names``; an unknown name is refused under ``roles``."""
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in roles.ROLES]
    if unknown:
        raise ValidationError(
            {"roles": f"Unknown role: {', '.join(unknown)}. Use one of: {', '.join(roles.ROLES)}."}
        )
    return list(Group.objects.filter(name__in=wanted))


def save_person(
    *,
    user,
    by,
    role_names: Iterable[str] | None = None,
    unit: OrganisationUnit | bool | None = False,
    source: str | None = None,
    external_id: str | None = None,
    channel: str = Channel.WEB,
):
    """Create or change an account: its names, e-mail, roles and unit (``unit=False`` keeps
    it). Deactivating goes through ``deactivate_user``, which guards what they own."""
    require_people_manager(by)
    User = get_user_model()
    stored = User.objects.filter(pk=user.pk).first() if user.pk else None
    if stored is not None and stored.is_active and not user.is_active:
        raise ValidationError({"is_active": "Deactivate a person with a hand-over."})
    before = user_snapshot(stored) if stored is not None else None
    user.username = user.username.strip()
    user.email = user.email.strip()
    if not user.username:
        raise ValidationError({"username": "Give the username."})
    taken = User.objects.filter(username__iexact=user.username).exclude(pk=user.pk).exists()
    if taken:
        raise ValidationError({"username": "Another person has this username."})
    groups = role_groups(role_names) if role_names is not None else None
    with transaction.atomic(), context.change_context(user=by, channel=channel):
        if user.pk is None:
            user.set_unusable_password()
        user.full_clean(exclude=["password", "username"])
        user.save()
        if groups is not None:
            user.groups.set(groups)
        profile, _ = Profile.objects.get_or_create(user=user)
        if unit is not False:
            profile.unit = unit or None
        if source is not None:
            profile.source = source
        if external_id is not None:
            profile.external_id = external_id
        profile.save()
        user.profile = profile
        log_user(user, before=before, after=user_snapshot(user))
    return user


def set_language(*, user, language: str) -> Profile:
    """The language ``user`` reads Portico in: one of PORTICO_LANGUAGES, or "" to follow the
    browser. Anyone chooses their own (the profile page); a language the deployment does not
    list is refused, naming it."""
    language = (language or "").strip()
    if language and language not in settings.PORTICO_LANGUAGES:
        listed = ", ".join(settings.PORTICO_LANGUAGES)
        raise ValidationError(
            {"language": f"{language!r} is not a language of this site (they are: {listed})."}
        )
    profile, _ = Profile.objects.get_or_create(user=user)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile


def invite_person(*, user, by, role_names: list[str], unit: OrganisationUnit | None, site: str):
    """Create an account without a usable password and e-mail its person a link to set one
    (Django's password-reset token: it stops working once the password is set). ``site``
    is the address the link starts with (``https://portico.example.org``)."""
    if not user.email.strip():
        raise ValidationError({"email": "Give the e-mail address the invitation goes to."})
    person = save_person(user=user, by=by, role_names=role_names, unit=unit)
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    link = site.rstrip("/") + reverse("password_reset_confirm", args=[uid, token])
    body = render_to_string(
        "people/invitation_email.txt",
        {"person": person, "by": by, "link": link, "role": " and ".join(role_names)},
    )
    message = EmailMessage(
        subject="You are invited to Portico",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[person.email],
    )
    transaction.on_commit(message.send)
    return person


class StrandedOwnership(ValidationError):
    """A deactivation refused: the user owns records in use and no successor was named."""

    def __init__(self, user, owned: list[Owned]):
        self.user = user
        self.owned = owned
        listed = "; ".join(
            f"{item.kind[:-1] if item.kind.endswith('s') else item.kind} “{item.name}”"
            for item in owned[:20]
        )
        more = f" and {len(owned) - 20} more" if len(owned) > 20 else ""
        super().__init__(
            {
                "successor": (
                    f"{person_name(user)} still owns {len(owned)} record"
                    f"{'' if len(owned) == 1 else 's'} in use ({listed}{more}): name a "
                    "successor to hand them over."
                )
            }
        )


def check_successor(user, successor, owned: list[Owned]) -> None:
    """The successor is another active person whose role may own every kind handed over."""
    if successor.pk == user.pk:
        raise ValidationError({"successor": "Name someone else as the successor."})
    if not successor.is_active:
        raise ValidationError({"successor": "The successor's account is not active."})
    held = set(successor.groups.values_list("name", flat=True))
    for kind in {item.kind for item in owned}:
        model = selectors.owned_model(kind)
        allowed = roles.owner_roles(model)
        if not held & set(allowed):
            raise ValidationError(
                {
                    "successor": f"{person_name(successor)} may not own {kind}: "
                    f"the successor needs one of the roles {', '.join(allowed)}."
                }
            )


def hand_over(user, successor, *, by) -> list[Owned]:
    """Move every record ``user`` owns in use to ``successor``, through each record's own
    rules; each move is change-logged (the records' signals). The caller holds the
    transaction and the change context."""
    moved = []
    for kind, records in selectors.owned_records(user).items():
        field = selectors.owner_field(kind)
        for record in records:
            setattr(record, field, successor)
            rules.save_checked(record, user=by)
            moved.append(Owned(kind=kind, id=record.pk, name=str(record)))
    return moved


def deactivate_user(user, *, by, successor=None, channel: str = Channel.WEB) -> list[Owned]:
    """Deactivate ``user``. Refused (StrandedOwnership, a ValidationError under
    ``successor`` listing what they own) while they own live services, value streams,
    applications, contracts or customers, unless ``successor`` is named: then ownership
    moves to the successor first, each record change-logged. ``by`` is who does it, a
    Portfolio manager (None: the system, a sign-in backend). Returns what was handed over."""
    if by is not None:
        require_people_manager(by)
    with transaction.atomic(), context.change_context(user=by, channel=channel):
        User = get_user_model()
        user = User.objects.select_for_update().get(pk=user.pk)
        owned = selectors.owned_by([user.pk]).get(user.pk, [])
        moved: list[Owned] = []
        if owned:
            if successor is None:
                raise StrandedOwnership(user, owned)
            check_successor(user, successor, owned)
            moved = hand_over(user, successor, by=by)
        if user.is_active:
            before = user_snapshot(user)
            user.is_active = False
            user.save(update_fields=["is_active"])
            log_user(user, before=before, after=user_snapshot(user))
    return moved


def deactivate_users(users, *, by, channel: str) -> tuple[list, dict[int, list[Owned]]]:
    """Deactivate those of ``users`` who own nothing in use; answer them and, by user id,
    what the others own (they stay active): a full sync's retirement of people."""
    ids = [user.pk for user in users]
    owned = selectors.owned_by(ids)
    done = []
    for user in users:
        if user.pk in owned:
            continue
        deactivate_user(user, by=by, channel=channel)
        done.append(user)
    return done, owned
