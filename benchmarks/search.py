"""The header's search (core.finder) over 10,000 services and the other kinds."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from core import finder
from core import roles
from finance.models import CostPool
from portfolio.models import Application
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import Supplier

TITLE = "Global search"
DESCRIPTION = (
    "10,000 services (names of two words out of 40 × 250, with a summary), 2,000 applications, "
    "1,000 customers, 500 suppliers and 200 cost pools. The results page (`/search/?q=…`, "
    "the best 10 of each kind the user may see and their counts, as a Portfolio manager) and "
    "the header's suggestions (the same address asked by htmx, the best 5 of each) are timed "
    "for a rare word, a common one (1 service in 20), a two-word prefix, a single letter (a "
    "whole word, as a prefix it would match nearly everything) and the worst case, a "
    "two-letter prefix that begins a word of every record (the benchmark's slugs). One query "
    "answers each: a `UNION ALL` of a branch per kind, each on its GIN full-text index "
    "(a stored `tsvector` column), ranked by `ts_rank`; its SQL is compiled once per set of kinds."
)

SERVICES = 10_000
TARGET_MS = 100
RUNS = 40
PREFIX = "bench-search-"
FIRST = (
    "billing",
    "payroll",
    "claims",
    "harbour",
    "ledger",
    "portal",
    "archive",
    "backup",
    "catalogue",
    "delivery",
    "exchange",
    "fleet",
    "gateway",
    "hosting",
    "identity",
    "journal",
    "kiosk",
    "logistics",
    "mailing",
    "network",
    "ordering",
    "printing",
    "quoting",
    "records",
    "scheduling",
    "ticketing",
    "uploads",
    "vouchers",
    "warehouse",
    "yield",
    "zoning",
    "analytics",
    "booking",
    "census",
    "dispatch",
    "estates",
    "finance",
    "grants",
    "housing",
    "intake",
)


def second_word(n: int) -> str:
    return f"w{n % 250:03d}x"


def run(bench) -> None:
    total = max(1_000, round(SERVICES * bench.scale))
    clear()
    Service.objects.bulk_create(
        [
            Service(
                name=f"{FIRST[n % len(FIRST)].capitalize()} {second_word(n // len(FIRST))}",
                slug=f"{PREFIX}{n:05d}",
                summary=f"Service number {n}, with {FIRST[(n * 7) % 40]}.",
                kind=("customer_facing", "supporting", "internal")[n % 3],
            )
            for n in range(total)
        ],
        batch_size=2_000,
    )
    Application.objects.bulk_create(
        [
            Application(name=f"{FIRST[n % 40].capitalize()} app {n}", slug=f"{PREFIX}{n:05d}")
            for n in range(total // 5)
        ],
        batch_size=2_000,
    )
    Customer.objects.bulk_create(
        [
            Customer(
                name=f"{FIRST[n % 40].capitalize()} customer {n}",
                slug=f"{PREFIX}{n:05d}",
                kind="external",
            )
            for n in range(total // 10)
        ]
    )
    Supplier.objects.bulk_create(
        [
            Supplier(name=f"{FIRST[n % 40].capitalize()} supplies {n}", slug=f"{PREFIX}{n:05d}")
            for n in range(total // 20)
        ]
    )
    CostPool.objects.bulk_create(
        [
            CostPool(name=f"{FIRST[n % 40].capitalize()} pool {n}", slug=f"{PREFIX}{n:05d}")
            for n in range(total // 50)
        ]
    )
    with connection.cursor() as cursor:
        for table in ("portfolio_service", "portfolio_application", "portfolio_customer"):
            cursor.execute(f"ANALYZE {table}")
    client = bench.client(portfolio_manager())
    url = reverse("search")
    htmx = {"HX-Request": "true"}
    for label, query in (
        ("a rare word (1 service)", second_word(42) + " " + FIRST[2]),
        ("a common word (1 service in 20)", "harbour"),
        ("a two-word prefix", "harb w04"),
        ("a single letter (a whole word: no prefix)", "b"),
        ("a two-letter prefix every record matches (its slug)", "be"),
    ):
        bench.timed(
            f"Results page, {label}",
            lambda query=query: client.get(url, {"q": query}),
            runs=RUNS,
            target_ms=TARGET_MS,
            summary="Global search at 10,000 services" if label.startswith("a common") else "",
        )
        bench.timed(
            f"Header suggestions, {label}",
            lambda query=query: client.get(url, {"q": query}, headers=htmx),
            runs=RUNS,
            target_ms=TARGET_MS,
        )
    counts = {}
    for label, query in (("1 match", second_word(42) + " " + FIRST[2]), ("every record", "be")):
        counts[label] = bench.count_queries(lambda query=query: client.get(url, {"q": query}))
    bench.query_counts("Results page", counts)
    with connection.cursor() as cursor:
        sql, params = (
            Service.objects.alias(found=finder.search.stored_words())
            .filter(found=finder.search.prefix_query("harbour"))
            .values("pk")
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
    bench.note(
        f"{Service.objects.count():,} services in the database. PostgreSQL's plan of the "
        f"services' branch:\n\n{plan}"
    )


def clear() -> None:
    """A kept database: the records of an earlier run go first."""
    for model in (Service, Application, Customer, Supplier, CostPool):
        model._base_manager.filter(slug__startswith=PREFIX).delete()


def portfolio_manager():
    user, _ = get_user_model().objects.get_or_create(username="bench-search")
    user.groups.add(Group.objects.get(name=roles.PORTFOLIO_MANAGER))
    return user
