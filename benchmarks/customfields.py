"""Custom-field filters on 10,000 services: the list page and the API list."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from core import roles
from core.api.tokens import issue_token
from customfields.choices import FieldType
from customfields.models import CustomField
from portfolio.models import Service

TITLE = "Custom fields"
DESCRIPTION = (
    "10,000 services, each with four custom-field values: a choice among 100 regions, a "
    "decimal fee, a text code and a yes-or-no flag (the flag's filter matches half the "
    "services, the region's 1 in 100). The list page (`/services/?cf_region=…`, 50 rows a "
    "page, as a Portfolio manager) and the API list (`/api/v1/services/?cf_region=…`, 50 a "
    "page, with a token) are timed with an indexed equality filter (GIN, `jsonb_path_ops`, "
    "`custom_fields @> {…}`), and the list page with a non-indexed range filter "
    "(`cf_fee__min`, which reads each row's value) for comparison."
)

SERVICES = 10_000
REGIONS = 100
TARGET_MS = 150
RUNS = 40
PREFIX = "bench-cf-"


def run(bench) -> None:
    total = max(1_000, round(SERVICES * bench.scale))
    define()
    Service.objects.filter(slug__startswith=PREFIX).delete()  # a kept database
    Service.objects.bulk_create(
        [
            Service(
                name=f"Custom-field service {n:05d}",
                slug=f"{PREFIX}{n:05d}",
                kind=("customer_facing", "supporting", "internal")[n % 3],
                custom_fields={
                    "region": f"region-{n % REGIONS:03d}",
                    "fee": str(n % 997 + 0.5),
                    "code": f"SVC-{n:05d}",
                    "hosted": n % 2 == 0,
                },
            )
            for n in range(total)
        ],
        batch_size=2_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portfolio_service")
    manager = portfolio_manager()
    client = bench.client(manager)
    _, token = issue_token(user=manager, name="benchmark", write=False)
    api = bench.client()
    auth = {"Authorization": f"Bearer {token}"}
    page_url = reverse("portfolio:service_list")

    bench.timed(
        f"Service list page filtered on a choice (1 in {REGIONS} of {total:,})",
        lambda: client.get(page_url, {"cf_region": "region-042"}),
        runs=RUNS,
        target_ms=TARGET_MS,
    )
    bench.timed(
        f"Service list page filtered on yes or no (half of {total:,})",
        lambda: client.get(page_url, {"cf_hosted": "true"}),
        runs=RUNS,
        target_ms=TARGET_MS,
    )
    bench.timed(
        f"API list filtered on a choice (1 in {REGIONS} of {total:,}, 50 a page)",
        lambda: api.get("/api/v1/services/", {"cf_region": "region-042"}, headers=auth),
        runs=RUNS,
        target_ms=TARGET_MS,
    )
    bench.timed(
        f"API list filtered on a text value (1 of {total:,})",
        lambda: api.get("/api/v1/services/", {"cf_code": "SVC-04242"}, headers=auth),
        runs=RUNS,
        target_ms=TARGET_MS,
    )
    bench.timed(
        "Service list page, range filter on the fee (not indexed)",
        lambda: client.get(page_url, {"cf_fee__min": "990"}),
        runs=RUNS,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM portfolio_service WHERE custom_fields @> %s::jsonb",
            ['{"region": "region-042"}'],
        )
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
    bench.note(
        f"{Service.objects.count():,} services in the database. PostgreSQL's plan of the "
        f"indexed filter:\n\n{plan}"
    )


def define() -> None:
    for name, kind, extra in (
        (
            "region",
            FieldType.CHOICE,
            {"choices": "\n".join(f"region-{n:03d}" for n in range(REGIONS))},
        ),
        ("fee", FieldType.DECIMAL, {}),
        ("code", FieldType.TEXT, {}),
        ("hosted", FieldType.BOOLEAN, {}),
    ):
        CustomField.objects.update_or_create(
            model="portfolio.service",
            name=name,
            defaults={"label": name.capitalize(), "type": kind, **extra},
        )


def portfolio_manager():
    user, _ = get_user_model().objects.get_or_create(username="bench-custom-fields")
    user.groups.add(Group.objects.get(name=roles.PORTFOLIO_MANAGER))
    return user
