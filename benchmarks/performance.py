"""Measurements: bulk sync of figures against a raw PostgreSQL upsert, and the attention
list's first page on 10,000 services with a million figures."""

import json
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db import transaction

from core import roles
from core.api.tokens import issue_token
from performance.models import Measurement
from portfolio.choices import Dimension
from portfolio.generate import GENERATED
from portfolio.generate import generate_portfolio
from portfolio.models import SpecificationItem

TITLE = "Measurements and the attention list"
DESCRIPTION = (
    "A generated portfolio (`manage.py generate_portfolio`, seed 1) of 10,000 services with 5 "
    "specification items each and 50 monthly figures per functioning item "
    "(`--measurement-months 50`: about a million figures; one in ten missed, one item in 25 "
    "stale). The attention list's first page (items, then outcomes) is requested as a "
    "Portfolio manager; its queries are counted at 100 services and at the full size. Then "
    "10,000 new figures (for 2,500 items, four weeks each, items referenced by source and "
    "external id) are synced through `POST /api/v1/sync/measurements/` in batches of 1,000 "
    "(validation, reference resolution, the rules judging each figure, the upsert, the change "
    "log and the items' standing included), against the floor measured in the same run: the "
    "same number of rows straight into PostgreSQL with psycopg (`COPY` into a temporary "
    "table, then `INSERT … ON CONFLICT DO UPDATE`)."
)

SMALL_SERVICES = 100
FULL_SERVICES = 10_000
ITEMS_PER_SERVICE = 5
MONTHS = 50
SEED = 1
TARGET_MS = 150
RUNS = 40
SYNC_ITEMS = 2_500
WEEKS = 4
BATCH = 1_000
SYNC_SHARE = 0.10
SOURCE = "bench-monitoring"
RAW_SOURCE = "bench-raw"
PAGES = (
    ("Attention list, items, first page", "/performance/attention/"),
    ("Attention list, items, first page, status=stale", "/performance/attention/?status=stale"),
    ("Attention list, outcomes, first page", "/performance/attention/outcomes/"),
)


def run(bench) -> None:
    full_size = max(SMALL_SERVICES, round(FULL_SERVICES * bench.scale))
    user = portfolio_manager()
    client = bench.client(user)
    query_counts: dict[str, dict[str, int]] = {}
    for size in dict.fromkeys((SMALL_SERVICES, full_size)):
        started = time.perf_counter()
        counts = generate_portfolio(
            services=size,
            items_per_service=ITEMS_PER_SERVICE,
            dependencies=size,
            seed=SEED,
            clear=True,
            measurement_months=MONTHS,
        )
        seconds = time.perf_counter() - started
        for label, url in PAGES:
            query_counts.setdefault(label, {})[f"{size:,} services"] = bench.count_queries(
                lambda url=url: client.get(url)
            )
    bench.figure(
        f"Generating {counts['services']:,} services, {counts['specification items']:,} "
        f"items and {counts['measurements']:,} figures",
        f"{seconds:.1f} s",
    )
    for label, url in PAGES:
        bench.timed(label, lambda url=url: client.get(url), runs=RUNS, target_ms=TARGET_MS)
    for label, counts_by_size in query_counts.items():
        bench.query_counts(label, counts_by_size)

    items = list(
        SpecificationItem.objects.filter(source=GENERATED, dimension=Dimension.FUNCTIONING)
        .order_by("pk")
        .values_list("pk", "external_id")[: max(BATCH // WEEKS, round(SYNC_ITEMS * bench.scale))]
    )
    figures = [figure_item(external_id, week) for _, external_id in items for week in range(WEEKS)]
    raw_rate = raw_upsert(items)
    bench.figure(
        "Raw upsert of figures (COPY, then INSERT … ON CONFLICT)", f"{raw_rate:,.0f} rows/s"
    )
    _, token = issue_token(user=user, name="benchmark", write=True)
    rate = sync_all(bench.client(), figures, {"Authorization": f"Bearer {token}"})
    created = Measurement.objects.filter(source=SOURCE).count()
    if created != len(figures):
        raise RuntimeError(f"Expected {len(figures)} figures synced, found {created}.")
    bench.figure(
        f"Sync {len(figures):,} new figures in batches of {BATCH:,} (rules, change log and "
        "standing included)",
        f"{rate:,.0f} rows/s = {rate / raw_rate:.0%} of raw",
        target=f"≥ {SYNC_SHARE:.0%} of raw",
        met=rate >= SYNC_SHARE * raw_rate,
    )
    bench.note(
        f"{Measurement.objects.count():,} figures and "
        f"{SpecificationItem.objects.filter(dimension=Dimension.FUNCTIONING).count():,} "
        "functioning items in the database while timing. The attention list reads each item's "
        "stored standing (latest figure's end, met, next due day), kept by every write, so "
        "its first page does not read the figures at all."
    )


def portfolio_manager():
    user, _ = get_user_model().objects.get_or_create(username="bench-performance")
    user.groups.add(Group.objects.get(name=roles.PORTFOLIO_MANAGER))
    return user


def week_of(week: int, *, year: int) -> tuple[str, str]:
    return f"{year}-01-{1 + 7 * week:02d}", f"{year}-01-{7 + 7 * week:02d}"


def figure_item(item_external_id: str, week: int) -> dict:
    start, end = week_of(week, year=2030)
    return {
        "external_id": f"{item_external_id}-w{week}",
        "item": {"source": GENERATED, "external_id": item_external_id},
        "start": start,
        "end": end,
        "value": f"{99 + week / 10:.1f}",
        "note": "Weekly availability report",
    }


def sync_all(client, figures: list[dict], auth: dict) -> float:
    bodies = [
        json.dumps({"source": SOURCE, "mode": "upsert", "items": figures[i : i + BATCH]})
        for i in range(0, len(figures), BATCH)
    ]
    started = time.perf_counter()
    for body in bodies:
        response = client.post(
            "/api/v1/sync/measurements/", body, content_type="application/json", headers=auth
        )
        if response.status_code != 200:
            raise RuntimeError(f"Sync answered {response.status_code}: {response.content[:500]}")
    return len(figures) / (time.perf_counter() - started)


RAW_COLUMNS = (
    "created_at", "updated_at", "source", "external_id", "item_id", "start", '"end"', "value",
    "note", "met",
)  # fmt: skip


def raw_upsert(items: list[tuple[int, str]]) -> float:
    """The floor: the same number of rows straight into PostgreSQL, batch by batch (other
    days than the synced figures, so the two never meet)."""
    rows = [(pk, external_id, week) for pk, external_id in items for week in range(WEEKS)]
    columns = ", ".join(RAW_COLUMNS)
    table = Measurement._meta.db_table
    seconds = []
    for first in range(0, len(rows), BATCH):
        batch = rows[first : first + BATCH]
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            (now,) = cursor.fetchone()
            cursor.execute(
                f"CREATE TEMPORARY TABLE raw_figures ON COMMIT DROP AS "
                f"SELECT {columns} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY raw_figures ({columns}) FROM STDIN") as copy:
                for pk, external_id, week in batch:
                    start, end = week_of(week, year=2031)
                    copy.write_row(
                        (now, now, RAW_SOURCE, f"{external_id}-w{week}", pk, start, end,
                         f"{99 + week / 10:.1f}", "Weekly availability report", True)
                    )  # fmt: skip
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM raw_figures "
                "ON CONFLICT (source, external_id) WHERE external_id <> '' DO UPDATE SET "
                'value = EXCLUDED.value, note = EXCLUDED.note, "end" = EXCLUDED."end", '
                "updated_at = EXCLUDED.updated_at"
            )
        seconds.append(time.perf_counter() - started)
    return len(rows) / sum(seconds)
