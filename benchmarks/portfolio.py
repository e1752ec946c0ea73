"""The service list and the service page on a generated portfolio of 10,000 services."""

import datetime
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from benchmarks.harness import Timing
from core import roles
from core.choices import Channel
from core.context import change_context
from core.ordering import natural
from performance.models import Measurement
from performance.services import save_measurement
from portfolio.choices import Comparator
from portfolio.choices import Criticality
from portfolio.choices import Dimension
from portfolio.choices import MeasurementWindow
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.filtersets import ServiceFilterSet
from portfolio.generate import GENERATED
from portfolio.generate import generate_portfolio
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.selectors import QUADRANTS
from portfolio.services import add_specification_item
from portfolio.services import save_dependency
from portfolio.services import save_service

TITLE = "Service portfolio"
DESCRIPTION = (
    "A generated portfolio (`manage.py generate_portfolio`, seed 1) of 10,000 services with 5 "
    "specification items each and 3 end-to-end dependencies per service, plus one service "
    "with 20 items (5 per quadrant) and 50 dependencies (30 providers, 20 consumers). Pages "
    "are requested as a Portfolio manager, who sees every service and every edit control. "
    "Query counts are taken at 100 services and at the full size: they must not grow with "
    "the data."
)

SMALL_SERVICES = 100
FULL_SERVICES = 10_000
ITEMS_PER_SERVICE = 5
DEPENDENCIES_PER_SERVICE = 3
SEED = 1
TARGET_MS = 150
GENERATION_TARGET_S = 60
RUNS = 60

SEARCH_TERM = "claims"
SEARCH_TARGET_MS = 30

SHOWCASE_SLUG = "benchmark-showcase"
SHOWCASE_ITEMS_PER_QUADRANT = 5
SHOWCASE_PROVIDERS = 30
SHOWCASE_CONSUMERS = 20


def run(bench) -> None:
    full_size = max(SMALL_SERVICES, round(FULL_SERVICES * bench.scale))
    client = bench.client(portfolio_manager())
    query_counts: dict[str, dict[str, int]] = {}
    for size in dict.fromkeys((SMALL_SERVICES, full_size)):
        started = time.perf_counter()
        counts = generate_portfolio(
            services=size,
            items_per_service=ITEMS_PER_SERVICE,
            dependencies=size * DEPENDENCIES_PER_SERVICE,
            seed=SEED,
            clear=True,
        )
        seconds = time.perf_counter() - started
        if size == full_size:
            bench.figure(
                f"Generating {counts['services']:,} services, "
                f"{counts['specification items']:,} items, "
                f"{counts['service dependencies']:,} dependencies",
                f"{seconds:.1f} s",
                target=f"< {GENERATION_TARGET_S} s",
                met=seconds < GENERATION_TARGET_S,
            )
        # Statistics of the freshly generated tables, as autovacuum would soon gather them:
        # otherwise the plans depend on whether it has run yet.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        pages = measured_pages(create_showcase())
        for label, url in pages:
            count = bench.count_queries(lambda url=url: client.get(url))
            query_counts.setdefault(label, {})[f"{size:,} services"] = count

    for label, url in pages:
        bench.timed(label, lambda url=url: client.get(url), runs=RUNS, target_ms=TARGET_MS)
    for label, counts in query_counts.items():
        bench.query_counts(label, counts)
    measure_search(bench, full_size)


def measure_search(bench, size: int) -> None:
    """The services list's search by itself: the first page of 50 by name and the count of
    matches, as the list asks them, and whether PostgreSQL reads the trigram index."""
    searched = ServiceFilterSet({"q": SEARCH_TERM}, queryset=Service.objects.all()).qs
    by_name = searched.order_by(natural("name"), "pk")  # as the list sorts (core.tables)

    def search():
        return list(by_name[:50]), searched.count()

    for _ in range(5):  # warm-up, not measured
        search()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        search()
        samples.append((time.perf_counter() - started) * 1000)
    timing = Timing("search", tuple(samples), SEARCH_TARGET_MS)
    # Indexed: neither the page (PostgreSQL may walk the index of names in natural order when
    # many match)
    # nor the count reads the whole table.
    plans = []
    for queryset in (by_name[:50], searched.values("pk")):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    indexed = not any("Seq Scan on portfolio_service" in plan for plan in plans)
    reads = "the trigram index" if "service_search" in plans[1] else "an index"
    bench.figure(
        f"Search q={SEARCH_TERM} at {size:,} services (first 50 by name and the count)",
        f"median {timing.median_ms:.1f} ms, p90 {timing.p90_ms:.1f} ms ({RUNS} runs); "
        + (f"page and count read {reads}" if indexed else "a sequential scan"),
        target=f"indexed, median < {SEARCH_TARGET_MS} ms",
        met=indexed and bool(timing.met),
        summary="search q= on lists",
    )


def measured_pages(showcase: Service) -> list[tuple[str, str]]:
    services = reverse("portfolio:service_list")
    return [
        # The first page as the pager links to it.
        ("Service list, first page, unfiltered (page=1)", f"{services}?page=1"),
        (
            "Service list, first page, kind=customer_facing & lifecycle=live",
            f"{services}?kind=customer_facing&lifecycle=live",
        ),
        ("Service list, first page, search q=claims", f"{services}?q=claims"),
        ("Service page with 20 items and 50 dependencies", showcase.get_absolute_url()),
    ]


def portfolio_manager():
    user, _ = get_user_model().objects.get_or_create(
        username="benchmark-manager", defaults={"first_name": "Benchmark", "last_name": "Manager"}
    )
    user.groups.add(Group.objects.get(name=roles.PORTFOLIO_MANAGER))
    return user


def create_showcase() -> Service:
    """One live customer-facing service with 20 items and 50 dependencies, made through the
    services functions; keyed as generated data so the next --clear removes it too."""
    generated = Service.objects.filter(source=GENERATED).order_by("pk")
    providers = list(generated.filter(kind=ServiceKind.SUPPORTING)[:SHOWCASE_PROVIDERS])
    consumers = list(generated.exclude(kind=ServiceKind.SUPPORTING)[:SHOWCASE_CONSUMERS])
    if len(providers) < SHOWCASE_PROVIDERS or len(consumers) < SHOWCASE_CONSUMERS:
        raise RuntimeError("Too few generated services for the showcase service.")
    owner = generated.exclude(owner=None).values_list("owner", flat=True).first()

    with change_context(channel=Channel.COMMAND, source=GENERATED):
        showcase = save_service(
            service=Service(
                source=GENERATED,
                external_id=SHOWCASE_SLUG,
                name="Benchmark Showcase",
                slug=SHOWCASE_SLUG,
                summary="The service the service-page benchmark opens.",
                kind=ServiceKind.CUSTOMER_FACING,
                lifecycle=ServiceLifecycle.LIVE,
                criticality=Criticality.HIGH,
                owner_id=owner,
            )
        )
        for aspect, dimension in QUADRANTS:
            for n in range(1, SHOWCASE_ITEMS_PER_QUADRANT + 1):
                item = SpecificationItem(
                    service=showcase,
                    aspect=aspect,
                    dimension=dimension,
                    title=f"{aspect.capitalize()} {dimension} {n}",
                    description="Benchmark item.",
                )
                if dimension == Dimension.FUNCTIONING:
                    item.metric, item.comparator = "Availability", Comparator.AT_LEAST
                    item.target, item.unit = Decimal("99.9"), "%"
                    item.window = MeasurementWindow.MONTH
                add_specification_item(item=item)
                if dimension == Dimension.FUNCTIONING and n % 2:
                    value = Decimal("99.8") + Decimal(n) / 100
                    # A generated service's start is unknown: its figures end today.
                    end = datetime.date.today()
                    save_measurement(
                        measurement=Measurement(
                            item=item, start=end.replace(day=1), end=end, value=value
                        )
                    )
        for provider in providers:
            save_dependency(dependency=ServiceDependency(consumer=showcase, provider=provider))
        for consumer in consumers:
            save_dependency(dependency=ServiceDependency(consumer=consumer, provider=showcase))
    return showcase
