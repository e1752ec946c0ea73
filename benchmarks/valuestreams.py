"""The value stream page and its map with 60 stages of 10 services each."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles
from core.choices import Channel
from core.context import change_context
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.models import Service
from valuestreams import services
from valuestreams.choices import TimeUnit
from valuestreams.choices import ValueClass
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream

TITLE = "Value streams"
DESCRIPTION = (
    "One value stream with 60 stages, each underpinned by 10 services (drawn from 200 live "
    "services), every third stage a Moment of Truth, with 5 processes and 12 improvements. "
    "The page (map, totals, stage list and the add-stage form, as its owner sees it) and the "
    "SVG download are requested as the value-stream owner. Query counts are taken at 6 and "
    "at 60 stages: they must not grow with the number of stages."
)

SOURCE = "benchmark"
STAGES = 60
FEW_STAGES = 6
SERVICES_PER_STAGE = 10
SERVICE_POOL = 200
TARGET_MS = 200
RUNS = 50


def run(bench) -> None:
    stages = max(FEW_STAGES, round(STAGES * bench.scale))
    owner = value_stream_owner()
    pool = service_pool()
    client = bench.client(owner)
    counts: dict[str, dict[str, int]] = {}
    for size in dict.fromkeys((FEW_STAGES, stages)):
        stream = build_stream(owner, pool, stages=size)
        for label, url in pages(stream):
            count = bench.count_queries(lambda url=url: client.get(url))
            counts.setdefault(label, {})[f"{size} stages"] = count
    for label, url in pages(stream):
        bench.timed(
            f"{label}, {stages} stages × {SERVICES_PER_STAGE} services",
            lambda url=url: client.get(url),
            runs=RUNS,
            target_ms=TARGET_MS,
        )
    for label, by_size in counts.items():
        bench.query_counts(label, by_size)
    body = client.get(stream.get_absolute_url()).content
    bench.note(
        f"The page is {len(body) / 1024:.0f} KiB of HTML with the map drawn inline as SVG "
        f"({stages} stages × {SERVICES_PER_STAGE} service names)."
    )


def pages(stream: ValueStream) -> list[tuple[str, str]]:
    return [
        ("Value stream page", stream.get_absolute_url()),
        (
            "Value stream map as SVG",
            reverse("valuestreams:valuestream_map_svg", args=[stream.slug]),
        ),
    ]


def value_stream_owner():
    user, _ = get_user_model().objects.get_or_create(
        username="benchmark-vso", defaults={"first_name": "Benchmark", "last_name": "Owner"}
    )
    user.groups.add(Group.objects.get(name=roles.VALUE_STREAM_OWNER))
    return user


def service_pool() -> list[Service]:
    existing = list(Service.objects.filter(source=SOURCE).order_by("pk"))
    if existing:
        return existing
    Service.objects.bulk_create(
        Service(
            source=SOURCE,
            external_id=f"service-{n}",
            name=f"Benchmark service {n:03d}",
            slug=f"benchmark-service-{n:03d}",
            kind=ServiceKind.SUPPORTING if n % 3 else ServiceKind.CUSTOMER_FACING,
            lifecycle=ServiceLifecycle.PIPELINE,
        )
        for n in range(SERVICE_POOL)
    )
    return list(Service.objects.filter(source=SOURCE).order_by("pk"))


def build_stream(owner, pool: list[Service], *, stages: int) -> ValueStream:
    """A stream of ``stages`` stages made through the services functions."""
    with change_context(channel=Channel.COMMAND, source=SOURCE):
        stream = services.save_value_stream(
            value_stream=ValueStream(
                source=SOURCE,
                external_id=f"stream-{stages}",
                name=f"Settle a claim, {stages} stages",
                owner=owner,
                segment="Retail policyholders",
                trigger="A policyholder reports a loss.",
                result="The policyholder is paid.",
            )
        )
        created = []
        for n in range(stages):
            stage = services.add_stage(
                stage=Stage(
                    value_stream=stream,
                    name=f"Handle step {n + 1} of the claim",
                    responsible_party=f"Team {n % 7 + 1}",
                    process_time_minutes=Decimal(15 + n % 4 * 15),
                    process_time_unit=TimeUnit.MINUTES,
                    lead_time_minutes=Decimal(480 * (1 + n % 3)),
                    lead_time_unit=TimeUnit.DAYS,
                    complete_accurate=Decimal(95 + n % 5),
                    value_class=list(ValueClass.values)[n % 3],
                    moment_of_truth=n % 3 == 0,
                ),
                services=[
                    pool[(n * SERVICES_PER_STAGE + k) % len(pool)]
                    for k in range(SERVICES_PER_STAGE)
                ],
            )
            created.append(stage)
        for n in range(5):
            services.save_process(
                process=Process(
                    name=f"Handle claims part {n + 1}",
                    value_stream=stream,
                    trigger="A policyholder reports a loss.",
                    result="The policyholder is paid.",
                    activities=[f"Do activity {n}-{k}" for k in range(4)],
                ),
                stages=created[n::5][:6],
            )
        for n in range(12):
            services.save_improvement(
                improvement=Improvement(
                    value_stream=stream,
                    stage=created[n % len(created)],
                    title=f"Shorten step {n + 1}",
                    suggested_by=owner,
                    benefit_metric="Lead time",
                    benefit_from=Decimal(3),
                    benefit_to=Decimal(1 + n % 2),
                    benefit_unit="days",
                )
            )
    return stream
