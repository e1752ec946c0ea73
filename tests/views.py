"""Declarative view tests: one spec per model generates its permission matrix and query counts.

After NetBox's ``utilities/testing/views.py``. A ``ViewSpec`` names how to make a record owned
by someone, the role that owns records of its kind, what owners may do with their own, and
which roles grant each right; each of its ``Action``s (list, detail, add, edit, delete, or a
view of its own such as "move up") names a URL, the right it needs and, for a write, the data
posted and what must have happened. ``view_tests(spec)`` turns that into one test case per
action and person:

- anonymous: sent to the log-in page, nothing written;
- signed in without a role: 403 (for the lists that filter rows by right, a list without the
  record);
- a Viewer, a Portfolio manager and the spec's ``other_roles``: allowed where its ``grants``
  says so (the page 200, the record shown, the write done), else 403 and nothing written;
- the record's owner: allowed what its role allows, and ``owner_may`` on its own record;
- the owner of another record: only what its role allows;

plus, for the list and detail views named in ``queries``, the queries at one record and at many
(the count at one is the bound at many). An action's ``expect`` names an outcome its rules do
not give, such as a form whose choices refuse another owner's post (422).

A write is checked both ways: when allowed, its ``done`` check must pass; when refused, every
row of the watched models (all their fields) must be as before. A write that has a page of its
own (a form or a confirmation) is first asked for that page; one that is only posted answers
405 to a GET.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import slugify

from core import roles
from tests.factories import UserFactory

ANONYMOUS = "anonymous"
NO_ROLE = "no-role"
OWNER = "owner"
OTHER_OWNER = "other-owner"

# What a person gets from an action.
LOGIN = "sent to log in"
REFUSED = "refused"
ALLOWED = "allowed"
EMPTY = "shown no rows"  # a list that filters rows by right: 200, without the record
INVALID = "refused by the form"  # may open the form, but its choices refuse the post: 422

HTMX = {"HTTP_HX_REQUEST": "true"}
READ = "view"
# Most pages: every role reads, Portfolio managers write.
GRANTS = {
    "view": roles.ROLES,
    "add": (roles.PORTFOLIO_MANAGER,),
    "change": (roles.PORTFOLIO_MANAGER,),
    "delete": (roles.PORTFOLIO_MANAGER,),
}


def role_persona(role: str) -> str:
    return f"role-{slugify(role)}"


@dataclasses.dataclass(frozen=True)
class Action:
    """One view of a spec, and the right it needs (``view``, ``add``, ``change``, ``delete``)."""

    url_name: str
    needs: str
    # The URL's arguments from the record; None: the spec's url_args (no arguments for list).
    args: Callable[[Any], Iterable] | None = None
    query: str = ""
    # A write posts data(record) and then done(record), or done(record, user, response) with
    # the user who wrote and the answer, must hold; a read has no data.
    data: Callable[[Any], dict] | None = None
    done: Callable[[Any], None] | None = None
    # A write with a page of its own (form, confirmation) answers 200 to a GET when allowed.
    page: bool = True
    htmx: bool = False
    success: int = 302
    without_role: str = REFUSED
    # Outcomes that the spec's rules do not give, by person.
    expect: dict = dataclasses.field(default_factory=dict)
    # What an allowed read shows of the record (default: the spec's label); "" checks nothing.
    shows: Callable[[Any], str] | None = None
    # Models whose rows a refused write must leave as they were (default: the spec's model).
    watch: tuple = ()

    @property
    def is_write(self) -> bool:
        return self.data is not None


def read(url_name: str, **options) -> Action:
    return Action(url_name, READ, success=200, **options)


def listing(url_name: str, **options) -> Action:
    """A list of records, filtered by what the user may see (no role: no rows)."""
    options = {"args": lambda record: [], "without_role": EMPTY, **options}
    return read(url_name, **options)


def add(url_name: str, *, data, done, needs: str = "add", **options) -> Action:
    """Create a record: ``done(record)`` finds what was created (``record`` is the spec's
    record, for a child row its parent's place)."""
    options.setdefault("args", lambda record: [])
    return Action(url_name, needs, data=data, done=done, **options)


def edit(url_name: str, *, data, done, **options) -> Action:
    return Action(url_name, "change", data=data, done=done, **options)


def delete(url_name: str, *, done=None, **options) -> Action:
    return Action(url_name, "delete", data=lambda record: {}, done=done or gone, **options)


def post(url_name: str, *, needs: str = "change", done, data=None, **options) -> Action:
    """A write that is only posted (a button): move, close, remove a row..."""
    return Action(
        url_name, needs, data=data or (lambda record: {}), done=done, page=False, **options
    )


def fresh(record):
    """``record`` as stored now."""
    return type(record).objects.get(pk=record.pk)


def changed_from_april(edge) -> None:
    """An effective-dated edge changed from April 2025 with the weight 3: it ends with March,
    and its successor carries 3 from April."""
    assert fresh(edge).valid_to == datetime.date(2025, 3, 31)
    successor = type(edge).objects.exclude(pk=edge.pk).get(valid_from=datetime.date(2025, 4, 1))
    assert successor.weight == 3 and successor.valid_to is None


def gone(record) -> None:
    assert not type(record)._base_manager.filter(pk=record.pk).exists(), f"{record!r} remains"


@dataclasses.dataclass(frozen=True)
class Queries:
    """Queries of a page at one record and at many: at one under ``bound``, at many no more
    than at one (exactly as many with ``exact``). ``populate(record, owner)`` adds the many;
    ``count(response)`` must then equal ``rows``, when given. With ``htmx``, the htmx partial
    (asked with ``htmx_query``) is counted the same way. ``make`` makes the one record when the
    spec's own would leave out rows the page reads (so the count at one reads them too)."""

    bound: int
    populate: Callable[[Any, Any], None]
    make: Callable[[Any], Any] | None = None
    rows: int | None = None
    count: Callable[[Any], int] | None = None
    # Further checks of the page at one record and at many.
    check_one: Callable[[Any], None] | None = None
    check_many: Callable[[Any], None] | None = None
    persona: str = role_persona(roles.VIEWER)
    exact: bool = False
    htmx: bool = False
    htmx_query: dict = dataclasses.field(default_factory=dict)


def table_rows(response) -> int:
    """Rows of the list's table on the page shown."""
    table = response.context["table"]
    page = getattr(table, "page", None)
    return len(page.object_list) if page is not None else len(table.rows)


@dataclasses.dataclass(frozen=True)
class ViewSpec:
    """The views of one model. ``make(owner)`` makes a record owned by ``owner`` (a user with
    ``owner_role``, or None when records of this kind have no owner). ``grants`` says which
    roles grant each right; the people tried are a Viewer, a Portfolio manager, one of each of
    ``other_roles``, and the owners."""

    name: str
    make: Callable[[Any], Any]
    actions: dict[str, Action]
    url_args: Callable[[Any], Iterable] = lambda record: [record.pk]
    owner_role: str | None = None
    owner_may: tuple[str, ...] = ("change", "delete")
    grants: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=lambda: GRANTS)
    # Roles tried besides Viewer (who reads) and Portfolio manager (who does everything).
    other_roles: tuple[str, ...] = ()
    label: Callable[[Any], str] = str
    queries: dict[str, Queries] = dataclasses.field(default_factory=dict)

    def personas(self) -> list[str]:
        tried = dict.fromkeys((roles.VIEWER, roles.PORTFOLIO_MANAGER, *self.other_roles))
        people = [ANONYMOUS, NO_ROLE]
        people += [role_persona(role) for role in tried if role != self.owner_role]
        if self.owner_role:
            people += [OWNER, OTHER_OWNER]
        return people

    def expected(self, action: Action, persona: str) -> str:
        if persona in action.expect:
            return action.expect[persona]
        grants = self.grants.get(action.needs, ())
        if persona == ANONYMOUS:
            return LOGIN
        if persona == NO_ROLE:
            return action.without_role
        if persona == OWNER:
            mine = action.needs in self.owner_may
            return ALLOWED if mine or self.owner_role in grants else REFUSED
        if persona == OTHER_OWNER:
            return ALLOWED if self.owner_role in grants else REFUSED
        role = next(r for r in roles.ROLES if role_persona(r) == persona)
        return ALLOWED if role in grants else REFUSED


class People:
    """Everyone the view tests act as, signed in once: one user without a role, one of each
    role, and an owner and another owner of each role."""

    def __init__(self):
        self.users = {NO_ROLE: UserFactory(username=NO_ROLE)}
        for role in roles.ROLES:
            for persona in (role_persona(role), OWNER, OTHER_OWNER):
                username = persona if persona.startswith("role-") else f"{persona}-{slugify(role)}"
                self.users[persona, role] = UserFactory(username=username, role=role)
        self.sessions = {}
        for user in self.users.values():
            client = Client()
            client.force_login(user)
            self.sessions[user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value

    def user(self, persona: str, spec: ViewSpec):
        """The user acting as ``persona`` for ``spec`` (None for anonymous)."""
        if persona == ANONYMOUS:
            return None
        if persona == NO_ROLE:
            return self.users[NO_ROLE]
        if persona in (OWNER, OTHER_OWNER):
            return self.users[persona, spec.owner_role]
        role = next(r for r in roles.ROLES if role_persona(r) == persona)
        return self.users[persona, role]

    def sign_in(self, client, user) -> None:
        """What ``client.force_login(user)`` does, with the session made once."""
        client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[user.pk]


@pytest.fixture(scope="module")
def view_people(django_db_setup, django_db_blocker) -> People:
    """The people of a module's view tests, made and signed in once, in a transaction rolled
    back after the module's last test; each test still runs in its own savepoint. Making a
    user and signing in for each of hundreds of cases took a quarter of their time."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield People()
        transaction.set_rollback(True)


@dataclasses.dataclass(frozen=True)
class Case:
    spec: ViewSpec
    action_name: str
    persona: str

    @property
    def id(self) -> str:
        return f"{self.action_name}-{self.persona}"

    def run(self, client, people: People) -> None:
        spec, action = self.spec, self.spec.actions[self.action_name]
        owner = people.user(OWNER, spec) if spec.owner_role else None
        record = spec.make(owner)
        user = people.user(self.persona, spec)
        if self.persona == OTHER_OWNER:
            spec.make(user)  # the other owner owns a record too
        if user is not None:
            people.sign_in(client, user)
        expected = spec.expected(action, self.persona)
        url = address(spec, action, record)
        if action.is_write:
            check_write(client, spec, action, record, url, expected, user=user)
        else:
            check_read(client, spec, action, record, url, expected)


@dataclasses.dataclass(frozen=True)
class QueryCase:
    spec: ViewSpec
    action_name: str

    @property
    def id(self) -> str:
        return f"{self.action_name}-queries"

    def run(
        self, client, people: People, *, django_assert_max_num_queries, django_assert_num_queries
    ) -> None:
        spec, action = self.spec, self.spec.actions[self.action_name]
        queries = spec.queries[self.action_name]
        owner = people.user(OWNER, spec) if spec.owner_role else None
        record = (queries.make or spec.make)(owner)
        people.sign_in(client, people.user(queries.persona, spec))
        url = address(spec, action, record)
        variants = [({}, {})] + ([(queries.htmx_query, HTMX)] if queries.htmx else [])
        at_one = []
        for params, headers in variants:
            client.get(url, params, **headers)  # warm-up: caches filled once per process
            with django_assert_max_num_queries(queries.bound) as captured:
                response = client.get(url, params, **headers)
            assert response.status_code == 200
            if queries.check_one and not headers:
                queries.check_one(response)
            at_one.append(len(captured.captured_queries))
        queries.populate(record, owner)
        for (params, headers), one in zip(variants, at_one, strict=True):
            check = django_assert_num_queries if queries.exact else django_assert_max_num_queries
            with check(one):
                response = client.get(url, params, **headers)
            assert response.status_code == 200
            if queries.rows is not None and not headers:
                assert (queries.count or table_rows)(response) == queries.rows
            if queries.check_many and not headers:
                queries.check_many(response)


def address(spec: ViewSpec, action: Action, record) -> str:
    args = (action.args or spec.url_args)(record)
    url = reverse(action.url_name, args=list(args))
    return f"{url}?{action.query}" if action.query else url


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def assert_outcome(response, expected: str, *, success: int, what: str) -> None:
    status = response.status_code
    if expected == LOGIN:
        assert status == 302, f"{what}: {status}, not a redirect to log in"
        assert response["Location"].startswith(login_url()), response["Location"]
    elif expected == REFUSED:
        assert status == 403, f"{what}: {status}, not 403"
    else:
        assert status == success, f"{what}: {status}, not {success}"


def check_read(client, spec: ViewSpec, action: Action, record, url: str, expected: str) -> None:
    response = client.get(url)
    assert_outcome(response, expected, success=action.success, what=f"GET {url}")
    if expected in (ALLOWED, EMPTY) and record is not None:
        label = (action.shows or spec.label)(record)
        if label:
            shown = escape(label) in response.content.decode()
            assert shown == (expected == ALLOWED), f"{label!r} {'not ' * shown}shown at {url}"


def snapshot(models) -> dict:
    """Every row of ``models`` with all its fields."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values()) for model in models
    }


def check_write(
    client, spec: ViewSpec, action: Action, record, url: str, expected: str, *, user
) -> None:
    data = action.data(record)  # first: making the data may add rows (a record to link)
    watched = action.watch or (type(record),)
    before = snapshot(watched)
    response = client.get(url)
    if action.page:
        page = ALLOWED if expected == INVALID else expected
        assert_outcome(response, page, success=200, what=f"GET {url}")
    elif expected == LOGIN:
        assert_outcome(response, LOGIN, success=0, what=f"GET {url}")
    else:
        assert response.status_code == 405, f"GET {url}: {response.status_code}, not 405"
    headers = HTMX if action.htmx else {}
    response = client.post(url, data, **headers)
    success = 422 if expected == INVALID else action.success
    assert_outcome(response, expected, success=success, what=f"POST {url}")
    if expected == ALLOWED:
        arguments = (record, user, response)
        action.done(*arguments[: len(inspect.signature(action.done).parameters)])
    else:
        assert snapshot(watched) == before, f"a refused POST {url} changed data"


def view_tests(spec: ViewSpec):
    """The test function of every case of ``spec``; assign it to a ``test_`` name."""
    cases = [Case(spec, name, persona) for name in spec.actions for persona in spec.personas()] + [
        QueryCase(spec, name) for name in spec.queries
    ]

    @pytest.mark.django_db
    @pytest.mark.parametrize("case", cases, ids=lambda case: case.id)
    def test_views(
        case, client, view_people, django_assert_max_num_queries, django_assert_num_queries
    ):
        if isinstance(case, QueryCase):
            case.run(
                client,
                view_people,
                django_assert_max_num_queries=django_assert_max_num_queries,
                django_assert_num_queries=django_assert_num_queries,
            )
        else:
            case.run(client, view_people)

    test_views.__doc__ = f"The views of {spec.name}: who may do what, and their queries."
    return test_views
