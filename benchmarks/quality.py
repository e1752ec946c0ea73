"""Data-quality scores of 10,000 services, each criterion computed by the database."""

import datetime
import statistics
import time

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from attestation import quality
from attestation.models import Attestation
from core import changelog
from core.choices import ChangeAction
from core.choices import Channel
from core.context import ChangeContext
from portfolio.generate import generate_portfolio
from portfolio.models import Service

TITLE = "Data-quality scores"
DESCRIPTION = (
    "A generated portfolio (`manage.py generate_portfolio`, seed 1) of 10,000 services with 5 "
    "specification items each, their creation in the change log and 12 monthly figures per "
    "functioning item. Four services in five are attested by their owner; one attested "
    "service in ten is then changed by a sync (a change record after the confirmation), so "
    "the check for a breaking change finds some. Timed: every service's score "
    "(`attestation.quality.service_scores`: the eight criteria, the attestation and the "
    "breaking change, in one query, rows read into Python), and the whole portfolio's score "
    "with the applications, contracts and value streams (`portfolio_score`, as the daily "
    "snapshot and the steward page compute it)."
)

SERVICES = 10_000
ITEMS_PER_SERVICE = 5
MONTHS = 12
SEED = 1
TARGET_S = 10.0
RUNS = 5


def run(bench) -> None:
    size = max(100, round(SERVICES * bench.scale))
    started = time.perf_counter()
    counts = generate_portfolio(
        services=size,
        items_per_service=ITEMS_PER_SERVICE,
        dependencies=size,
        seed=SEED,
        clear=True,
        history=True,
        measurement_months=MONTHS,
    )
    bench.figure(
        f"Generating {counts['services']:,} services and their figures",
        f"{time.perf_counter() - started:.1f} s",
    )
    attested, broken = attest_and_break()
    bench.note(f"{attested:,} services attested, {broken:,} of them changed since by a sync.")
    today = timezone.localdate()
    for label, compute in (
        (f"Scores of all {size:,} services", lambda: quality.service_scores(today)),
        ("The portfolio's score (every attested kind)", lambda: quality.portfolio_score(today)),
    ):
        compute()
        samples = []
        for _ in range(RUNS):
            begun = time.perf_counter()
            compute()
            samples.append(time.perf_counter() - begun)
        median = statistics.median(samples)
        bench.figure(
            label,
            f"median {median:.2f} s, slowest {max(samples):.2f} s ({RUNS} runs)",
            target=f"< {TARGET_S:g} s",
            met=median < TARGET_S,
        )


def attest_and_break() -> tuple[int, int]:
    """Attest four services in five (by their owner, a day ago) and record a sync's change
    of one in ten of those since."""
    content_type = ContentType.objects.get_for_model(Service)
    services = list(Service.objects.filter(owner__isnull=False).values_list("pk", "owner_id"))
    confirmed = [(pk, owner) for index, (pk, owner) in enumerate(services) if index % 5]
    yesterday = timezone.now() - datetime.timedelta(days=1)
    Attestation.objects.bulk_create(
        Attestation(
            content_type=content_type, object_id=pk, attested_at=yesterday, attested_by_id=owner
        )
        for pk, owner in confirmed
    )
    context = ChangeContext(user=None, channel=Channel.SYNC, source="bench-cmdb")
    now = timezone.now()
    changed = confirmed[::10]
    changelog.write_rows(
        [
            changelog.row(
                context,
                time=now,
                action=ChangeAction.UPDATE,
                content_type_id=content_type.pk,
                object_id=pk,
                object_repr=f"service {pk}",
                before={"summary": ""},
                after={"summary": "As the CMDB records it"},
            )
            for pk, _ in changed
        ]
    )
    return len(confirmed), len(changed)
