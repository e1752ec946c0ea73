"""The TCO roll-up of one period on a generated portfolio, at a quarter, half and full size."""

import os
import resource
import statistics
import time
import tracemalloc
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db import reset_queries
from django.db import transaction
from django.db.models.functions import Mod
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import slugify

from core import roles
from finance import services
from finance.generate import clear_showback
from finance.models import CostItem
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import TcoResult
from finance.models import ValueStreamCost
from portfolio.generate import GENERATED
from portfolio.generate import generate_portfolio
from portfolio.models import ApplicationSupport
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import Subscription
from valuestreams.models import StageService

TITLE = "Total cost of ownership"
DESCRIPTION = (
    "`manage.py generate_portfolio` (seed 1) at full size: 5,000 services with 20,000 "
    "end-to-end dependencies (some services support each other in cycles), 2,000 "
    "applications, 500 contracts, 50 cost pools and 200,000 cost items in one period (a tenth "
    "of them capex, a tenth in USD, GBP or a currency without a rate), 2,000 customers with "
    "1-4 subscriptions each in unlike units, and 200 value streams of 3-8 stages on 1-5 "
    "services each (every tenth with a future state). The full roll-up "
    "(`finance.services.recompute_tco`: set-based inputs, the exact allocation, rounding, "
    "upsert of the results, customer statements and value-stream costs) is timed three times "
    "after a first run, beside a plain SQL "
    "`GROUP BY` sum of the same cost items in the same run, at a quarter, half and full size. "
    "Peak memory is measured on a separate run with tracemalloc (Python allocations), and the "
    "process's peak resident size is reported too. At full size the roll-up is timed once more "
    "without the customers and value streams: the difference is what computing and writing the "
    "statements and stream costs adds. The driven variant then makes every pool allocation, "
    "every application support and the dependencies of every other provider driven (three "
    "drivers, each service's quantity of each one in the period, every tenth service without "
    "quantities) and times the same roll-up again. At full size, one cost edit on each kind "
    "of target (a service, an application, a contract, a pool), twice, is timed from its "
    "commit until the incremental run (`finance.services.recompute_changed_periods`, the "
    "task's work) has stored the service's new TCO, the coalescing wait added; the figures "
    "are then checked against a full roll-up's."
)

FULL = {
    "services": 5_000,
    "dependencies": 20_000,
    "applications": 2_000,
    "contracts": 500,
    "cost_pools": 50,
    "cost_items": 200_000,
    "customers": 2_000,
    "value_streams": 200,
}
TARGET_SHOWBACK_ADDED = 0.30  # statements and stream costs add at most 30 % to the roll-up
FRACTIONS = (0.25, 0.5, 1.0)
PERIOD = "2030-01"
SEED = 1
ROLLUP_RUNS = 3
GROUP_BY_RUNS = 7
TARGET_SECONDS = 10
TARGET_RATIO = 50
TARGET_MEMORY_MB = 1024
# Linear growth allows 4x from a quarter to the full size; the margin absorbs noise.
GROWTH_TOLERANCE = 1.25

GROUP_BY_SQL = """
    SELECT service_id, application_id, contract_id, pool_id, category, expenditure,
           SUM(amount)
      FROM {items}
     WHERE period_id = %s
     GROUP BY service_id, application_id, contract_id, pool_id, category, expenditure
"""


def run(bench) -> None:
    rollups: dict[float, float] = {}
    group_bys: dict[float, float] = {}
    query_counts: dict[str, int] = {}
    page_queries: dict[str, int] = {}
    client = bench.client(finance_user())
    loads = []
    for fraction in FRACTIONS:
        sizes = {
            name: max(1, round(value * fraction * bench.scale)) for name, value in FULL.items()
        }
        label = f"{sizes['services']:,} services, {sizes['cost_items']:,} cost items"
        started = time.perf_counter()
        generate_portfolio(
            services=sizes["services"],
            items_per_service=1,
            dependencies=sizes["dependencies"],
            seed=SEED,
            clear=True,
            applications=sizes["applications"],
            contracts=sizes["contracts"],
            cost_pools=sizes["cost_pools"],
            cost_items=sizes["cost_items"],
            cost_period=PERIOD,
            customers=sizes["customers"],
            value_streams=sizes["value_streams"],
        )
        generated = time.perf_counter() - started
        # Statistics of the freshly generated tables, as autovacuum would soon gather them:
        # otherwise the first timed runs plan against empty tables and the later ones do not.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        period = Period.objects.get(year=int(PERIOD[:4]), month=int(PERIOD[5:]))
        services.recompute_tco(period=period)  # the first run inserts; the timed ones upsert

        with CaptureQueriesContext(connection) as captured:
            services.recompute_tco(period=period)
        query_counts[label] = len(captured)

        walls, cpus = [], []
        for _ in range(ROLLUP_RUNS):
            loads.append(os.getloadavg()[0])
            wall, cpu = time.perf_counter(), time.process_time()
            services.recompute_tco(period=period)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        group_by = plain_group_by(period)
        rollups[fraction], group_bys[fraction] = statistics.median(walls), group_by
        ratio = rollups[fraction] / group_by
        bench.figure(
            f"Roll-up, {label} ({fraction:g} of full size)",
            f"median {rollups[fraction]:.2f} s wall, {statistics.median(cpus):.2f} s CPU in "
            f"Python; GROUP BY sum {group_by * 1000:.0f} ms; {ratio:.1f}× "
            f"(generated in {generated:.0f} s)",
            target=f"< {TARGET_SECONDS} s and ≤ {TARGET_RATIO}×" if fraction == 1 else "",
            met=(rollups[fraction] < TARGET_SECONDS and ratio <= TARGET_RATIO)
            if fraction == 1
            else None,
        )
        url = reverse("finance:overview") + f"?period={PERIOD}"
        page_queries[label] = bench.count_queries(lambda url=url: client.get(url))
        if fraction == 1:
            bench.figure(
                "Roll-up / plain GROUP BY sum, full size",
                f"{rollups[1.0] / group_bys[1.0]:.1f}×",
                target=f"≤ {TARGET_RATIO}×",
                met=rollups[1.0] / group_bys[1.0] <= TARGET_RATIO,
            )
            measure_edit(bench, period)
            measure_memory(bench, period)
            bench.timed(
                "Fund services page, full size", lambda url=url: client.get(url), runs=5, warmup=1
            )
            busiest = (
                TcoResult.objects.filter(period=period, passed_on=0)
                .order_by("-tco")
                .select_related("service")
                .first()
            )
            if busiest is not None:
                lineage = (
                    reverse("finance:service_lineage", args=[busiest.service.slug])
                    + f"?period={PERIOD}"
                )
                bench.timed(
                    f"Lineage drill-down of the costliest service ({busiest.service.name})",
                    lambda lineage=lineage: client.get(lineage),
                    runs=3,
                    warmup=1,
                )

            measure_driven(bench, period, rollups[1.0], statistics.median(cpus))
            measure_showback(bench, period, rollups[1.0], statistics.median(cpus))

    quarter, half, full = (rollups[f] for f in FRACTIONS)
    bench.figure(
        "Roll-up at a quarter, half and full size",
        f"{quarter:.2f} s, {half:.2f} s, {full:.2f} s "
        f"(×{half / quarter:.1f}, ×{full / quarter:.1f})",
        target="no worse than linear (×2, ×4)",
        met=half / quarter <= 2 * GROWTH_TOLERANCE and full / quarter <= 4 * GROWTH_TOLERANCE,
    )
    bench.query_counts("Roll-up (queries per run)", query_counts)
    bench.query_counts("Fund services page", page_queries)
    bench.note(
        f"Load average while the roll-ups ran: {min(loads):.1f} to {max(loads):.1f} on "
        f"{os.cpu_count()} cores. Other work on the machine slows wall-clock times; the CPU "
        "time is the roll-up's own Python work, the rest of the wall time is PostgreSQL "
        "(the grouping query, COPY and the upsert) and waiting for a core."
    )
    reset_queries()


def plain_group_by(period: Period) -> float:
    """The median time of a plain GROUP BY sum of the period's cost items."""
    sql = GROUP_BY_SQL.format(items=CostItem._meta.db_table)
    times = []
    with connection.cursor() as cursor:
        for _ in range(GROUP_BY_RUNS):
            started = time.perf_counter()
            cursor.execute(sql, [period.pk])
            cursor.fetchall()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_showback(bench, period: Period, wall_with: float, cpu_with: float) -> None:
    """The full roll-up again without the generated customers and value streams (so with no
    statement or stream cost to compute), against the medians with them: wall time, and the
    CPU time of the roll-up's own Python work, which other load on the machine moves less."""
    counts = {
        "subscriptions": Subscription.objects.filter(source=GENERATED).count(),
        "stage links": StageService.objects.filter(source=GENERATED).count(),
        "statements": CustomerStatement.objects.filter(period=period).count(),
        "stream costs": ValueStreamCost.objects.filter(period=period).count(),
    }
    clear_showback()
    services.recompute_tco(period=period)
    walls, cpus = [], []
    for _ in range(ROLLUP_RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        services.recompute_tco(period=period)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    wall_without, cpu_without = statistics.median(walls), statistics.median(cpus)
    added = cpu_with / cpu_without - 1
    bench.figure(
        "Roll-up at full size without customers or value streams (before)",
        f"median {wall_without:.2f} s wall, {cpu_without:.2f} s CPU in Python",
    )
    bench.figure(
        "Roll-up at full size with them (after: statements and stream costs computed)",
        f"median {wall_with:.2f} s wall, {cpu_with:.2f} s CPU in Python "
        f"({counts['subscriptions']:,} subscriptions, {counts['statements']:,} statements, "
        f"{counts['stage links']:,} stage links, {counts['stream costs']:,} stream costs)",
    )
    bench.figure(
        "Added by customer statements and value-stream costs (CPU after / before)",
        f"{added * 100:+.0f} % CPU in Python ({wall_with / wall_without * 100 - 100:+.0f} % wall)",
        target=f"≤ +{TARGET_SHOWBACK_ADDED * 100:.0f} %",
        met=added <= TARGET_SHOWBACK_ADDED,
    )


def drive_edges(period: Period) -> dict[str, int]:
    """Make the generated edges driven: every pool allocation, every application support and
    the dependencies of every other provider (whole sources, so none mixes weights and
    drivers), with a quantity of each driver for nine services in ten. Written in bulk."""
    drivers = [
        Driver.objects.create(name=name, slug=slugify(name), unit=unit, source=GENERATED)
        for name, unit in (("Sites", "site"), ("Tickets", "ticket"), ("VM-hours", "VM-hour"))
    ]
    sites, tickets, vm_hours = drivers
    edges = PoolAllocation.objects.update(driver=sites)
    edges += ApplicationSupport.objects.update(driver=tickets)
    edges += (
        ServiceDependency.objects.annotate(odd=Mod("provider_id", 2))
        .filter(odd=0)
        .update(driver=vm_hours)
    )
    quantities = [
        DriverQuantity(
            driver=driver,
            period=period,
            service_id=pk,
            quantity=Decimal(1 + (pk * (number + 7)) % 97),
            source=GENERATED,
            external_id=f"{driver.slug}:{pk}",
        )
        for pk in Service.objects.values_list("pk", flat=True)
        if pk % 10
        for number, driver in enumerate(drivers)
    ]
    DriverQuantity.objects.bulk_create(quantities, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"edges": edges, "quantities": len(quantities)}


def undrive_edges() -> None:
    PoolAllocation.objects.update(driver=None)
    ApplicationSupport.objects.update(driver=None)
    ServiceDependency.objects.update(driver=None)
    DriverQuantity.objects.all().delete()
    Driver.objects.filter(source=GENERATED).delete()


def measure_driven(bench, period: Period, wall_weighted: float, cpu_weighted: float) -> None:
    """The full roll-up with driven edges, against the weighted one's medians."""
    counts = drive_edges(period)
    try:
        services.recompute_tco(period=period)
        walls, cpus = [], []
        for _ in range(ROLLUP_RUNS):
            wall, cpu = time.perf_counter(), time.process_time()
            services.recompute_tco(period=period)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        bench.figure(
            "Roll-up at full size with driven edges",
            f"median {wall:.2f} s wall, {cpu:.2f} s CPU in Python ({counts['edges']:,} driven "
            f"edges, {counts['quantities']:,} quantities; weighted: {wall_weighted:.2f} s wall, "
            f"{cpu_weighted:.2f} s CPU)",
            target=f"< {TARGET_SECONDS} s",
            met=wall < TARGET_SECONDS,
        )
    finally:
        undrive_edges()
        services.recompute_tco(period=period)


EDIT_TARGET_SECONDS = 1
# One edit of cost booked on each kind of node: a service, an application, a contract and a
# pool (which reaches the most services), twice over.
EDITED_TARGETS = ("service", "application", "contract", "pool") * 2


def measure_edit(bench, period: Period) -> None:
    """One cost edit until it is visible in the service's TCO: the edit committed and its
    period marked dirty with the node it touched (what the commit hook does, the task
    being run here instead of enqueued), then the task's work, an incremental run from the
    figures of the run before. The coalescing wait before the task is added to the figure.
    The stored figures are then checked against a full roll-up's, to the cent."""
    items = []
    for target in EDITED_TARGETS:
        candidates = CostItem.objects.filter(
            period=period, spread_months=1, currency="EUR", **{f"{target}__isnull": False}
        ).exclude(pk__in=[item.pk for item in items])
        item = candidates.order_by("pk").first()
        if item is not None:
            items.append(item)
    services.discard_scheduled_recompute()  # the set-up's changes: computed in full here
    services.recompute_open_periods()  # nightly: the figures the first edit starts from
    walls, notes = [], []
    for number, item in enumerate(items, start=1):
        started = time.perf_counter()
        with transaction.atomic():
            item.amount += Decimal("12.34")
            services.save_cost_item(item=item)
            (pending,) = [
                waiting
                for waiting in services.waiting_for_commit(services.PendingRecompute)
                if not waiting.done
            ]
            pending.done = True  # marked below, the task run in this process instead
        services.mark_dirty(pending)
        (run,) = services.recompute_changed_periods()
        walls.append(time.perf_counter() - started + pending.countdown)
        if not run.note.startswith("Incremental"):
            raise AssertionError(f"edit {number} was not computed incrementally: {run.note!r}")
        notes.append(run.note)
    fields = ("service_id", "tco", "kept", "passed_on", "unallocated", "breakdown")
    incremental = sorted(TcoResult.objects.filter(period=period).values_list(*fields))
    services.recompute_tco(period=period)
    if sorted(TcoResult.objects.filter(period=period).values_list(*fields)) != incremental:
        raise AssertionError("the incremental figures differ from the full roll-up's")
    median = statistics.median(walls)
    bench.figure(
        "One cost edit → visible in the service's TCO, full size",
        f"median {median:.2f} s, at most {max(walls):.2f} s over {len(walls)} edits (one of "
        f"each kind of target, twice; the {services.QUICK_COALESCE_SECONDS:g} s coalescing "
        "wait included); the same figures as the full roll-up",
        target=f"< {EDIT_TARGET_SECONDS} s",
        met=max(walls) < EDIT_TARGET_SECONDS,
    )
    bench.note("Incremental runs of the edits: " + "; ".join(notes))


def measure_memory(bench, period: Period) -> None:
    tracemalloc.start()
    try:
        services.recompute_tco(period=period)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    peak_mb = peak / 1024**2
    bench.figure(
        "Peak memory of the full roll-up (tracemalloc)",
        f"{peak_mb:.0f} MB",
        target=f"< {TARGET_MEMORY_MB / 1024:g} GB",
        met=peak_mb < TARGET_MEMORY_MB,
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bench.figure(
        "Peak resident size of the benchmark process (generation included)",
        f"{rss_mb:.0f} MB",
        target=f"< {TARGET_MEMORY_MB / 1024:g} GB",
        met=rss_mb < TARGET_MEMORY_MB,
    )


def finance_user():
    user, _ = get_user_model().objects.get_or_create(
        username="benchmark-finance", defaults={"first_name": "Benchmark", "last_name": "Finance"}
    )
    user.groups.add(Group.objects.get(name=roles.FINANCE))
    return user
