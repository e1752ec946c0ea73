"""People and organisation units: a whole organisation synced from an HR source, a full sync
that leaves people out, and the people page."""

import json
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from core.api.tokens import issue_token
from portfolio.models import Service

TITLE = "People and organisation units"
DESCRIPTION = (
    "200 organisation units (10 divisions, 40 departments, 150 teams) are synced through "
    "`POST /api/v1/sync/organisation-units/`, one batch per level, then 2,000 people with "
    "their role and team through `POST /api/v1/sync/users/` in one batch; the same 2,000 are "
    "sent again (all unchanged), then a full sync leaves 10 out, 5 of whom own a live "
    "service (they stay active and are reported with 409; the other 5 are deactivated). "
    "Timings are of the in-process request, as a Portfolio manager with a write token; the "
    "people page is read with a session, 50 people a page."
)

UNITS = (10, 40, 150)
PEOPLE = 2_000
LEFT_OUT = 10
SOURCE = "bench-hr"
ROLES = (roles.SERVICE_OWNER, roles.VALUE_STREAM_OWNER, roles.FINANCE, roles.VIEWER)


def run(bench) -> None:
    people = max(100, round(PEOPLE * bench.scale))
    manager, _ = get_user_model().objects.get_or_create(username="bench-people")
    manager.groups.add(Group.objects.get(name=roles.PORTFOLIO_MANAGER))
    _, token = issue_token(user=manager, name="benchmark", write=True)
    client = bench.client()
    auth = {"Authorization": f"Bearer {token}"}

    def sync(resource: str, items: list, **envelope):
        body = json.dumps({"source": SOURCE, "items": items, **envelope})
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/sync/{resource}/", body, content_type="application/json", headers=auth
        )
        return response, time.perf_counter() - started

    seconds = 0.0
    for level in unit_batches():
        response, took = sync("organisation-units", level)
        expect(response, 200)
        seconds += took
    bench.figure("Sync 200 organisation units (three batches, one per level)", f"{seconds:.2f} s")

    items = [person(n) for n in range(people)]
    response, took = sync("users", items)
    expect(response, 200)
    bench.figure(
        f"Sync {people:,} new people in one batch (roles, units, change log)",
        f"{took:.2f} s = {people / took:,.0f} people/s",
        target="< 10 s",
        met=took < 10,
    )
    response, took = sync("users", items)
    expect(response, 200)
    if response.json()["unchanged"] != people:
        raise RuntimeError(f"Expected {people} unchanged: {response.json()['unchanged']}.")
    bench.figure(
        f"Send the same {people:,} again (all unchanged)",
        f"{took:.2f} s = {people / took:,.0f} people/s",
        target="< 5 s",
        met=took < 5,
    )

    User = get_user_model()
    owners = User.objects.filter(username__in=[f"bench-person{n}" for n in range(LEFT_OUT // 2)])
    for n, owner in enumerate(owners):
        Service.objects.create(
            name=f"Bench owned {n}", slug=f"bench-owned-{n}", lifecycle="live", owner=owner
        )
    response, took = sync("users", items[LEFT_OUT:], mode="full")
    expect(response, 409)
    stranded = len(response.json()["result"]["stranded"])
    retired = response.json()["result"]["retired"]
    if (stranded, retired) != (LEFT_OUT // 2, LEFT_OUT - LEFT_OUT // 2):
        raise RuntimeError(f"Expected 5 stranded and 5 retired: {stranded}, {retired}.")
    bench.figure(
        f"Full sync of {people - LEFT_OUT:,} leaving {LEFT_OUT} out (5 reported, 5 deactivated)",
        f"{took:.2f} s",
        target="< 5 s",
        met=took < 5,
    )

    browser = bench.client(manager)
    bench.timed(
        f"People page with {people:,} people (first page)",
        lambda: browser.get("/people/"),
        runs=30,
        target_ms=150,
    )
    bench.timed(
        "Users API, 1,000 in one page",
        lambda: client.get("/api/v1/users/", {"page_size": 1000}, headers=auth),
        runs=20,
        target_ms=200,
    )
    bench.query_counts(
        "People page",
        {
            f"{size} per page": bench.count_queries(
                lambda size=size: browser.get("/people/", {"per_page": size})
            )
            for size in (10, 50, 100)
        },
    )


def unit_batches() -> list[list[dict]]:
    divisions, departments, teams = UNITS
    return [
        [
            {"external_id": f"div-{d}", "name": f"Division {d}", "kind": "division"}
            for d in range(divisions)
        ],
        [
            {
                "external_id": f"dep-{d}",
                "name": f"Department {d}",
                "kind": "department",
                "parent": {"external_id": f"div-{d % divisions}"},
            }
            for d in range(departments)
        ],
        [
            {
                "external_id": f"team-{t}",
                "name": f"Team {t}",
                "kind": "team",
                "parent": {"external_id": f"dep-{t % departments}"},
            }
            for t in range(teams)
        ],
    ]


def person(n: int) -> dict:
    return {
        "external_id": f"emp-{n:05d}",
        "username": f"bench-person{n}",
        "first_name": "Bench",
        "last_name": f"Person {n}",
        "email": f"bench-person{n}@example.org",
        "roles": [ROLES[n % len(ROLES)]],
        "unit": {"external_id": f"team-{n % UNITS[2]}"},
    }


def expect(response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"Answered {response.status_code}, not {status}: {response.content[:500]}"
        )
