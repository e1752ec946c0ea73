"""Who may do what on the people and organisation pages, and their queries (tests/views.py
turns each spec into its cases). Everyone reads the organisation units; only Portfolio
managers change them, and only they see and manage people."""

from django.contrib.auth import get_user_model

from core import roles
from core.permissions import ACTIONS
from people.models import OrganisationUnit
from people.models import Profile
from tests.factories import UserFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import ServiceFactory
from tests.views import REFUSED
from tests.views import Action
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import listing
from tests.views import read
from tests.views import role_persona
from tests.views import view_tests

User = get_user_model()
PORTFOLIO_MANAGER = role_persona(roles.PORTFOLIO_MANAGER)
ONLY_PORTFOLIO_MANAGERS = dict.fromkeys(ACTIONS, (roles.PORTFOLIO_MANAGER,))


# --- Organisation units --------------------------------------------------------------------------


def make_unit(owner):
    division = OrganisationUnitFactory(name="Claims division", kind="division")
    return OrganisationUnitFactory(name="Claims IT", parent=division)


def unit_added(_unit):
    added = OrganisationUnit.objects.get(name="Fraud IT")
    assert (added.kind, added.parent.name) == ("team", "Claims division")


def unit_changed(unit):
    changed = fresh(unit)
    assert (changed.name, changed.kind, changed.level) == ("Claims IT services", "other", "Squad")


def more_units(unit, owner):
    """Twenty more teams beside the unit, each with a manager and two people."""
    manager = UserFactory(username="unit-manager", first_name="Mona", last_name="Manager")
    for n in range(20):
        team = OrganisationUnitFactory(parent=unit.parent, manager=manager)
        for m in range(2):
            Profile.objects.create(user=UserFactory(username=f"member-{n}-{m}"), unit=team)


UNIT = ViewSpec(
    name="organisation units",
    make=make_unit,
    url_args=lambda unit: [unit.slug],
    label=lambda unit: unit.name,
    actions={
        "list": listing("people:unit_list"),
        "detail": read("people:unit_detail"),
        "add": add(
            "people:unit_add",
            data=lambda unit: {"name": "Fraud IT", "kind": "team", "parent": unit.parent_id},
            done=unit_added,
        ),
        "edit": edit(
            "people:unit_edit",
            data=lambda unit: {
                "name": "Claims IT services",
                "kind": "other",
                "level": "Squad",
                "parent": unit.parent_id,
            },
            done=unit_changed,
        ),
        "delete": delete("people:unit_delete"),
    },
    queries={
        "list": Queries(bound=10, populate=more_units, rows=22, persona=PORTFOLIO_MANAGER),
        "detail": Queries(bound=20, populate=more_units),
    },
)
test_unit_views = view_tests(UNIT)


# --- People --------------------------------------------------------------------------------------


def make_person(owner):
    person = UserFactory(
        username="subject", first_name="Sam", last_name="Subject", role=roles.SERVICE_OWNER
    )
    return person


def person_data(person) -> dict:
    return {
        "first_name": "Samuel",
        "last_name": "Subject",
        "username": person.username,
        "email": "samuel@example.org",
        "role": roles.FINANCE,
        "unit": OrganisationUnitFactory(name="Finance office").pk,
    }


def person_changed(person):
    changed = fresh(person)
    assert (changed.first_name, changed.email) == ("Samuel", "samuel@example.org")
    assert list(changed.groups.values_list("name", flat=True)) == [roles.FINANCE]
    assert changed.profile.unit.name == "Finance office"


def person_invited(_person):
    invited = User.objects.get(username="nadia")
    assert invited.get_full_name() == "Nadia Novak" and not invited.has_usable_password()
    assert list(invited.groups.values_list("name", flat=True)) == [roles.SERVICE_OWNER]


def deactivated(person):
    assert not fresh(person).is_active


def more_people(person, owner):
    unit = OrganisationUnitFactory()
    for n in range(20):
        someone = UserFactory(username=f"someone{n}", role=roles.SERVICE_OWNER)
        ServiceFactory(owner=someone, lifecycle="live")
        Profile.objects.create(user=someone, unit=unit)


PERSON = ViewSpec(
    name="people",
    make=make_person,
    label=lambda person: person.get_full_name(),
    grants=ONLY_PORTFOLIO_MANAGERS,
    other_roles=(roles.SERVICE_OWNER, roles.FINANCE),
    actions={
        "list": listing("people:person_list", without_role=REFUSED),
        "detail": read("people:person_detail"),
        "add": add(
            "people:person_add",
            data=lambda person: {
                "first_name": "Nadia",
                "last_name": "Novak",
                "username": "nadia",
                "email": "nadia@example.org",
                "role": roles.SERVICE_OWNER,
                "unit": "",
            },
            done=person_invited,
            watch=(User,),
        ),
        "edit": edit("people:person_edit", data=person_data, done=person_changed),
        "deactivate": Action(
            "people:person_deactivate",
            "change",
            data=lambda person: {"successor": ""},
            done=deactivated,
        ),
    },
    queries={
        "list": Queries(bound=12, populate=more_people, persona=PORTFOLIO_MANAGER),
        "detail": Queries(bound=15, populate=more_people, persona=PORTFOLIO_MANAGER),
    },
)
test_person_views = view_tests(PERSON)
