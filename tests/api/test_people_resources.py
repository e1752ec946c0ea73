"""The users and organisation-units resources: bulk sync of a whole organisation, the
mass-retire guard, retirement by deactivation that strands nothing, hand-over, and no
password hash in any answer."""

import pytest
from django.contrib.auth import get_user_model

from core import roles
from core.models import ObjectChange
from people.models import OrganisationUnit
from people.selectors import owned_by
from portfolio.choices import ServiceLifecycle
from portfolio.models import Service
from tests.api.helpers import changes_of
from tests.api.helpers import sync
from tests.factories import UserFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ValueStreamFactory

User = get_user_model()
SOURCE = "hr"
DIVISIONS, DEPARTMENTS, TEAMS = 10, 40, 150  # 200 units
PEOPLE = 2000
ROLE_CYCLE = (roles.SERVICE_OWNER, roles.VALUE_STREAM_OWNER, roles.FINANCE, roles.VIEWER)


def unit_items() -> list[list[dict]]:
    """The hierarchy, one batch per level (a parent is synced before its children)."""
    divisions = [
        {"external_id": f"div-{d}", "name": f"Division {d}", "kind": "division"}
        for d in range(DIVISIONS)
    ]
    departments = [
        {
            "external_id": f"dep-{d}",
            "name": f"Department {d}",
            "kind": "department",
            "parent": {"external_id": f"div-{d % DIVISIONS}"},
        }
        for d in range(DEPARTMENTS)
    ]
    teams = [
        {
            "external_id": f"team-{t}",
            "name": f"Team {t}",
            "kind": "team",
            "parent": {"external_id": f"dep-{t % DEPARTMENTS}"},
        }
        for t in range(TEAMS)
    ]
    return [divisions, departments, teams]


def person_item(n: int, **extra) -> dict:
    return {
        "external_id": f"emp-{n}",
        "username": f"person{n}",
        "first_name": "Person",
        "last_name": f"Number {n}",
        "email": f"person{n}@example.org",
        "roles": [ROLE_CYCLE[n % len(ROLE_CYCLE)]],
        "unit": {"external_id": f"team-{n % TEAMS}"},
        **extra,
    }


@pytest.fixture
def organisation(pm_api):
    """200 units and 2,000 people synced from the HR source."""
    for batch in unit_items():
        response = sync(pm_api, "organisation-units", batch, source=SOURCE)
        assert response.status_code == 200, response.json()
    people = [person_item(n) for n in range(PEOPLE)]
    response = sync(pm_api, "users", people, source=SOURCE)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == PEOPLE
    return people


@pytest.mark.django_db
def test_sync_users_creates_the_people_with_their_roles_units_and_change_records(
    pm_api, organisation
):
    assert OrganisationUnit.objects.filter(source=SOURCE).count() == 200
    synced = User.objects.filter(profile__source=SOURCE)
    assert synced.count() == PEOPLE
    person = synced.get(username="person6")
    assert person.get_full_name() == "Person Number 6"
    assert list(person.groups.values_list("name", flat=True)) == [roles.FINANCE]
    assert person.profile.unit.external_id == "team-6"
    assert not person.has_usable_password()
    assert changes_of(User, action="create", channel="sync").count() == PEOPLE
    # Sent again unchanged: nothing written, nothing logged.
    again = sync(pm_api, "users", organisation, source=SOURCE)
    assert again.json()["unchanged"] == PEOPLE
    assert changes_of(User).count() == PEOPLE


@pytest.mark.django_db
def test_full_sync_without_ten_people_retires_only_those_who_strand_nothing(pm_api, organisation):
    left_out = [f"person{n}" for n in range(100, 110)]
    by_name = {u.username: u for u in User.objects.filter(username__in=left_out)}
    successor = UserFactory(username="successor", role=roles.PORTFOLIO_MANAGER)
    owned_service = ServiceFactory(
        owner=by_name["person100"], lifecycle=ServiceLifecycle.LIVE, name="Claims intake"
    )
    ValueStreamFactory(owner=by_name["person101"], name="Settle a claim")
    ApplicationFactory(owner=by_name["person102"], name="Policy admin")
    ContractFactory(owner=by_name["person103"], title="Hosting")
    CustomerFactory(relationship_manager=by_name["person104"], name="Retail division")
    # A retired service strands nothing: its owner may go.
    ServiceFactory(owner=by_name["person105"], lifecycle=ServiceLifecycle.RETIRED)
    kept = [item for item in organisation if item["username"] not in left_out]

    response = sync(pm_api, "users", kept, source=SOURCE, mode="full")

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "stranded_ownership"
    assert set(body["errors"]) == {f"users.person{n}" for n in range(100, 105)}
    assert "Claims intake" in body["errors"]["users.person100"][0]
    stranded = {s["username"]: s["owns"] for s in body["result"]["stranded"]}
    assert stranded["person101"] == [
        {"kind": "value streams", "id": stranded["person101"][0]["id"], "name": "Settle a claim"}
    ]
    assert body["result"]["retired"] == 5
    active = dict(User.objects.filter(username__in=left_out).values_list("username", "is_active"))
    assert active == {name: name in {f"person{n}" for n in range(100, 105)} for name in left_out}
    assert User.objects.filter(profile__source=SOURCE, is_active=True).count() == PEOPLE - 5
    deactivations = changes_of(User, channel="sync", action="update")
    assert {c.object_repr for c in deactivations} == {f"person{n}" for n in range(105, 110)}
    assert all(c.before["is_active"] and not c.after["is_active"] for c in deactivations)

    # Handed over, the last five may go.
    for n in range(100, 105):
        handed = pm_api.post(
            f"/api/v1/users/{by_name[f'person{n}'].pk}/deactivate/",
            {"successor": successor.username},
        )
        assert handed.status_code == 200, handed.json()
        assert not handed.json()["active"]
    owned_service.refresh_from_db()
    assert owned_service.owner == successor
    assert owned_by([u.pk for u in by_name.values()]) == {}
    again = sync(pm_api, "users", kept, source=SOURCE, mode="full")
    assert again.status_code == 200, again.json()
    assert again.json()["retired"] == 0


@pytest.mark.django_db
def test_full_sync_that_would_retire_more_than_a_fifth_is_refused(pm_api, organisation):
    response = sync(pm_api, "users", organisation[:1500], source=SOURCE, mode="full")
    assert response.status_code == 409
    assert response.json()["code"] == "mass_retire"
    assert User.objects.filter(profile__source=SOURCE, is_active=True).count() == PEOPLE


@pytest.mark.django_db
def test_deactivation_is_refused_with_the_list_of_what_they_own(pm_api):
    owner = UserFactory(username="leaver", role=roles.SERVICE_OWNER)
    service = ServiceFactory(owner=owner, lifecycle=ServiceLifecycle.LIVE, name="Payments")
    response = pm_api.post(f"/api/v1/users/{owner.pk}/deactivate/", {})
    assert response.status_code == 409
    assert response.json()["owns"] == [{"kind": "services", "id": service.pk, "name": "Payments"}]
    owner.refresh_from_db()
    assert owner.is_active


@pytest.mark.django_db
def test_hand_over_moves_ownership_and_logs_each_record(pm_api, portfolio_manager):
    leaver = UserFactory(username="leaver", role=roles.SERVICE_OWNER)
    successor = UserFactory(username="heir", role=roles.SERVICE_OWNER)
    services = [ServiceFactory(owner=leaver, lifecycle=ServiceLifecycle.LIVE) for _ in range(3)]
    application = ApplicationFactory(owner=leaver)
    response = pm_api.post(f"/api/v1/users/{leaver.pk}/deactivate/", {"successor": "heir"})
    assert response.status_code == 200, response.json()
    assert len(response.json()["handed_over"]) == 4
    for service in services:
        service.refresh_from_db()
        assert service.owner == successor
        (change,) = changes_of(Service, object_id=str(service.pk), action="update")
        assert (change.before["owner_id"], change.after["owner_id"]) == (leaver.pk, successor.pk)
        assert (change.channel, change.user) == ("api", portfolio_manager)
    application.refresh_from_db()
    assert application.owner == successor
    leaver.refresh_from_db()
    assert not leaver.is_active


@pytest.mark.django_db
def test_hand_over_refuses_a_successor_whose_role_may_not_own_it(pm_api):
    leaver = UserFactory(username="leaver", role=roles.VALUE_STREAM_OWNER)
    ValueStreamFactory(owner=leaver)
    UserFactory(username="looker", role=roles.VIEWER)
    response = pm_api.post(f"/api/v1/users/{leaver.pk}/deactivate/", {"successor": "looker"})
    assert response.status_code == 400
    assert "may not own value streams" in response.json()["errors"]["successor"][0]
    leaver.refresh_from_db()
    assert leaver.is_active


@pytest.mark.django_db
def test_only_portfolio_managers_write_or_read_users(api_for, service_owner, viewer):
    for user in (service_owner, viewer):
        api = api_for(user)
        assert api.get("/api/v1/users/").status_code == 403
        created = api.post("/api/v1/users/", {"username": "intruder"})
        assert created.status_code == 403
        assert sync(api, "users", [person_item(1)], source=SOURCE).status_code == 403
    assert not User.objects.filter(username__in=["intruder", "person1"]).exists()


@pytest.mark.django_db
def test_users_api_never_shows_a_password_hash(pm_api, portfolio_manager):
    UserFactory(username="holder", role=roles.VIEWER)
    listed = pm_api.get("/api/v1/users/")
    one = pm_api.get(f"/api/v1/users/{portfolio_manager.pk}/")
    changes = pm_api.post("/api/v1/users/", {"username": "new", "roles": [roles.VIEWER]})
    feed = pm_api.get("/api/v1/changes/")
    for response in (listed, one, changes, feed):
        assert response.status_code in (200, 201), response.content
        text = response.content.decode()
        assert "password" not in text
        assert "pbkdf2" not in text and "argon2" not in text and "$" not in text
    assert {row["username"] for row in listed.json()["results"]} >= {"pm", "holder"}
    assert changes.json()["roles"] == [roles.VIEWER]
    assert not ObjectChange.objects.filter(after__has_key="password").exists()


@pytest.mark.django_db
def test_create_and_change_a_user_with_role_and_unit(pm_api):
    unit = OrganisationUnitFactory(name="Claims IT")
    created = pm_api.post(
        "/api/v1/users/",
        {
            "username": "nadia",
            "first_name": "Nadia",
            "last_name": "Novak",
            "email": "nadia@example.org",
            "roles": [roles.SERVICE_OWNER],
            "unit": unit.pk,
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["name"] == "Nadia Novak"
    assert created.json()["unit"]["slug"] == "claims-it"
    pk = created.json()["id"]
    changed = pm_api.patch(f"/api/v1/users/{pk}/", {"roles": [roles.FINANCE], "unit": None})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["roles"] == [roles.FINANCE] and changed.json()["unit"] is None
    refused = pm_api.patch(f"/api/v1/users/{pk}/", {"roles": ["Boss"], "active": False})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"active", "roles"}


@pytest.mark.django_db
def test_sync_reports_every_bad_item_by_index_and_field(pm_api):
    response = sync(
        pm_api,
        "users",
        [
            person_item(1, roles=["Boss"], unit=None),
            person_item(2, email="not-an-address", unit={"external_id": "nowhere"}),
            person_item(3, username="person1", unit=None),
            {"username": "no-key"},
        ],
        source=SOURCE,
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "items.0.roles",
        "items.1.email",
        "items.1.unit",
        "items.2.username",
        "items.3.external_id",
    }
    assert not User.objects.filter(username__startswith="person").exists()


@pytest.mark.django_db
def test_change_feed_follows_synced_people_and_their_retirement(pm_api, viewer):
    sync(pm_api, "users", [person_item(1, unit=None), person_item(2, unit=None)], source=SOURCE)
    sync(
        pm_api,
        "users",
        [person_item(1, unit=None)],
        source=SOURCE,
        mode="full",
        allow_mass_retire=True,
    )
    feed = pm_api.get("/api/v1/changes/", resource="users", source=SOURCE)
    assert feed.status_code == 200, feed.json()
    events = [(row["record"]["external_id"], row["event"]) for row in feed.json()["results"]]
    assert events == [("emp-1", "created"), ("emp-2", "created"), ("emp-2", "retired")]
    assert all(row["channel"] == "sync" for row in feed.json()["results"])


@pytest.mark.django_db
def test_users_list_query_count_does_not_grow_with_the_page(
    pm_api, django_assert_max_num_queries, django_assert_num_queries
):
    pm_api.get("/api/v1/users/")  # the token's first use is recorded once
    with django_assert_max_num_queries(8) as one:
        response = pm_api.get("/api/v1/users/")
    assert response.status_code == 200
    for n in range(12):
        UserFactory(username=f"many{n}", role=roles.VIEWER)
    with django_assert_num_queries(len(one.captured_queries)):
        response = pm_api.get("/api/v1/users/", page_size=13)
    assert len(response.json()["results"]) == 13
