"""The REST API: bulk sync of services against a raw PostgreSQL upsert, and listing."""

import json
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db import transaction

from core import roles
from core.api.resources import autodiscover
from core.api.sync import sync
from core.api.tokens import issue_token
from core.models import ObjectChange
from portfolio.models import Service

TITLE = "REST API"
DESCRIPTION = (
    "10,000 new services are synced through `POST /api/v1/sync/services/` in batches of "
    "5,000 (validation, reference resolution, the upsert and the change log included), then "
    "the same 10,000 are sent again (all unchanged: nothing written, nothing logged). A full "
    "sync of another source that sends none of its 2,000 services then retires them all "
    "(rules, rights, one UPDATE and one COPY of change records); the statements of such a "
    "request are counted at 10 and 1,000 retirements. Last, 12,000 new services of a third "
    "source are sent through a sync session (three batches of 4,000, then the commit, in "
    "full mode). The reference is a raw psycopg upsert of the same rows measured in the same "
    "run: `COPY` into a temporary table, then `INSERT … ON CONFLICT DO UPDATE`, once for new "
    "rows and once for the same rows again; each API figure is compared with its raw "
    "counterpart. Timings are of the in-process request (JSON parsing, rendering and the "
    "database included), as a Portfolio manager with a write token."
)


SERVICES = 10_000
BATCH = 5_000
LEFT_OUT = 2_000
SESSION = 12_000
SESSION_BATCH = 4_000
CREATE_SHARE = 0.10
SESSION_SHARE = 0.10
RESEND_SHARE = 0.20
LIST_RUNS = 40
SOURCE = "bench-cmdb"
RAW_SOURCE = "bench-raw"


def run(bench) -> None:
    total = max(BATCH, round(SERVICES * bench.scale / BATCH) * BATCH)
    user = portfolio_manager()
    Service.objects.filter(source__in=(SOURCE, RAW_SOURCE)).delete()  # a kept database
    _, token = issue_token(user=user, name="benchmark", write=True)
    client = bench.client()
    auth = {"Authorization": f"Bearer {token}"}

    # Owners exist, so items can name them: the engine resolves them in bulk.
    owners = [f"bench-owner-{n}" for n in range(20)]
    for username in owners:
        get_user_model().objects.get_or_create(username=username)
    items = [service_item(n, owners[n % len(owners)]) for n in range(total)]
    bodies = [
        json.dumps({"source": SOURCE, "mode": "upsert", "items": items[i : i + BATCH]})
        for i in range(0, total, BATCH)
    ]

    raw_new = raw_upsert(items, RAW_SOURCE)
    raw_again = raw_upsert(items, RAW_SOURCE)
    bench.figure("Raw upsert, new rows", f"{raw_new:,.0f} rows/s")
    bench.figure("Raw upsert, the same rows again", f"{raw_again:,.0f} rows/s")

    changes_before = ObjectChange.objects.count()
    created_rate, outcomes = sync_all(client, bodies, auth)
    logged = ObjectChange.objects.count() - changes_before
    if outcomes != {"created": total} or logged != total:
        raise RuntimeError(f"Expected {total} created and logged, got {outcomes}, {logged} logged.")
    bench.figure(
        f"Sync {total:,} new services in batches of {BATCH:,} (change log included)",
        f"{created_rate:,.0f} rows/s = {created_rate / raw_new:.0%} of raw",
        target=f"≥ {CREATE_SHARE:.0%} of raw",
        met=created_rate >= CREATE_SHARE * raw_new,
    )

    changes_before = ObjectChange.objects.count()
    resend_rate, outcomes = sync_all(client, bodies, auth)
    logged = ObjectChange.objects.count() - changes_before
    if outcomes != {"unchanged": total} or logged:
        raise RuntimeError(f"Expected {total} unchanged and none logged: {outcomes}, {logged}.")
    bench.figure(
        f"Send the same {total:,} again (all unchanged, nothing written)",
        f"{resend_rate:,.0f} rows/s = {resend_rate / raw_again:.0%} of raw "
        f"({resend_rate / raw_new:.0%} of the raw insert)",
        target=f"≥ {RESEND_SHARE:.0%} of raw",
        met=resend_rate >= RESEND_SHARE * raw_again,
    )

    retire_and_session(bench, client, auth, scale=total / SERVICES)

    list_url = "/api/v1/services/"
    bench.timed(
        "List 1,000 services in one page",
        lambda: client.get(list_url, {"page_size": 1000}, headers=auth),
        runs=LIST_RUNS,
        target_ms=100,
    )
    bench.timed(
        "List 50 services",
        lambda: client.get(list_url, {"page_size": 50}, headers=auth),
        runs=LIST_RUNS * 2,
        target_ms=15,
    )
    bench.query_counts(
        "Service list",
        {
            f"{size} per page": bench.count_queries(
                lambda size=size: client.get(list_url, {"page_size": size}, headers=auth)
            )
            for size in (1, 50, 1000)
        },
    )
    bench.note(
        f"{Service.objects.count():,} services in the database while listing. The change log "
        f"holds {ObjectChange.objects.count():,} records."
    )


def retire_and_session(bench, client, auth: dict, *, scale: float) -> None:
    """A full sync's retirement rate and statement count, and a session's commit against
    the raw upsert of the same rows."""
    left_out = max(10, round(LEFT_OUT * scale))
    post = lambda body: check(  # noqa: E731
        client.post("/api/v1/sync/services/", body, "application/json", headers=auth)
    )
    source = "bench-retire"
    post(
        {
            "source": source,
            "items": [service_item(n, "bench-owner-0", name="Gone") for n in range(left_out)],
        }
    )
    started = time.perf_counter()
    answer = post({"source": source, "mode": "full", "allow_mass_retire": True, "items": []})
    seconds = time.perf_counter() - started
    if answer.json()["retired"] != left_out:
        raise RuntimeError(f"Expected {left_out} retired: {answer.json()['retired']}.")
    bench.figure(
        f"Full sync retiring {left_out:,} services (rules, rights, change log)",
        f"{left_out / seconds:,.0f} records/s ({seconds * 1000:,.0f} ms)",
    )
    statements = {}
    resources, user = autodiscover(), portfolio_manager()
    # The first run warms the caches (content types, rights): counted apart, and left out.
    for count, label in ((10, ""), (10, "10 retired"), (1000, "1,000 retired")):
        source = f"bench-retire-{count}-{label[:2]}"
        items = [service_item(n, "bench-owner-0", name=f"Gone {count}") for n in range(count)]
        post({"source": source, "items": items})
        # The engine itself: a request also updates its token's last use once a minute.
        statements[label] = bench.count_queries(
            lambda source=source: sync(
                resources["services"],
                user=user,
                source=source,
                mode="full",
                items=[],
                allow_mass_retire=True,
            )
        )
    statements.pop("")
    bench.query_counts("Full sync retirement", statements)

    total = max(SESSION_BATCH, round(SESSION * scale))
    # Names of their own: new services whose names are taken get numbered slugs, a cost of
    # its own (core.slugs) that the first figure does not have either.
    items = [service_item(n, f"bench-owner-{n % 20}", name="Session service") for n in range(total)]
    raw_rate = raw_upsert(items, RAW_SOURCE + "-session")
    started = time.perf_counter()
    answer = commit_session(client, auth, items, source="bench-session")
    rate = total / (time.perf_counter() - started)
    if answer["created"] != total:
        raise RuntimeError(f"Expected {total} created: {answer['created']}.")
    bench.figure(
        f"Sync session of {total:,} new services, full mode: {total // SESSION_BATCH} batches "
        f"of {SESSION_BATCH:,}, then the commit (change log included)",
        f"{rate:,.0f} rows/s = {rate / raw_rate:.0%} of raw ({raw_rate:,.0f} rows/s)",
        target=f"≥ {SESSION_SHARE:.0%} of raw",
        met=rate >= SESSION_SHARE * raw_rate,
    )


def check(response):
    if response.status_code != 200:
        raise RuntimeError(f"Sync answered {response.status_code}: {response.content[:500]}")
    return response


def commit_session(client, auth: dict, items: list[dict], *, source: str) -> dict:
    opened = client.post(
        "/api/v1/sync-sessions/",
        {"resource": "services", "source": source, "mode": "full"},
        "application/json",
        headers=auth,
    )
    if opened.status_code != 201:
        raise RuntimeError(f"Opening a session answered {opened.status_code}: {opened.content}")
    path = f"/api/v1/sync-sessions/{opened.json()['id']}/"
    for start in range(0, len(items), SESSION_BATCH):
        body = json.dumps({"items": items[start : start + SESSION_BATCH]})
        check(client.post(path + "batches/", body, "application/json", headers=auth))
    body = json.dumps({})
    return check(client.post(path + "commit/", body, "application/json", headers=auth)).json()


def portfolio_manager():
    user, _ = get_user_model().objects.get_or_create(username="bench-api")
    user.groups.add(Group.objects.get(name=roles.PORTFOLIO_MANAGER))
    return user


def service_item(n: int, owner: str, *, name: str = "Benchmark service") -> dict:
    return {
        "external_id": f"svc-{n:06d}",
        "name": f"{name} {n:06d}",
        "summary": "A service the CMDB knows about.",
        "kind": ("customer_facing", "supporting", "internal")[n % 3],
        "lifecycle": "live" if n % 2 else "pipeline",
        "criticality": ("low", "medium", "high", "critical")[n % 4],
        "owner": owner,
    }


def sync_all(client, bodies: list[str], auth: dict) -> tuple[float, dict]:
    outcomes: dict[str, int] = {}
    count = 0
    started = time.perf_counter()
    for body in bodies:
        response = client.post(
            "/api/v1/sync/services/", body, content_type="application/json", headers=auth
        )
        if response.status_code != 200:
            raise RuntimeError(f"Sync answered {response.status_code}: {response.content[:500]}")
        for item in response.json()["items"]:
            outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
            count += 1
    seconds = time.perf_counter() - started
    return count / seconds, outcomes


RAW_COLUMNS = (
    "source",
    "external_id",
    "name",
    "slug",
    "summary",
    "kind",
    "lifecycle",
    "criticality",
    "owner_id",
    "custom_fields",
    "translations",
    "created_at",
    "updated_at",
)


def raw_upsert(items: list[dict], source: str) -> float:
    """The reference: the same rows straight into PostgreSQL with psycopg, batch by batch."""
    owner_ids = dict(get_user_model().objects.values_list("username", "pk"))
    columns = ", ".join(RAW_COLUMNS)
    updates = ", ".join(
        f"{c} = EXCLUDED.{c}"
        for c in RAW_COLUMNS
        if c not in ("source", "external_id", "created_at")
    )
    table = Service._meta.db_table
    seconds = []
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            (now,) = cursor.fetchone()
            cursor.execute(
                f"CREATE TEMPORARY TABLE raw_services ON COMMIT DROP AS "
                f"SELECT {columns} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY raw_services ({columns}) FROM STDIN") as copy:
                for item in batch:
                    copy.write_row(
                        (
                            source,
                            item["external_id"],
                            item["name"],
                            f"{source}-{item['external_id']}",
                            item["summary"],
                            item["kind"],
                            item["lifecycle"],
                            item["criticality"],
                            owner_ids[item["owner"]],
                            "{}",
                            "{}",
                            now,
                            now,
                        )
                    )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM raw_services "
                f"ON CONFLICT (source, external_id) WHERE external_id <> '' DO UPDATE SET {updates}"
            )
        seconds.append(time.perf_counter() - started)
    return len(items) / sum(seconds)
