"""Synthetic figures for benchmarks and load tests, a generator of ``manage.py
generate_portfolio`` (registered with portfolio.generate; see its docstring):

    python manage.py generate_portfolio --services 10000 --items-per-service 5 \\
        --measurement-months 50 --clear

Every functioning item of the generated services gets one figure a month for the last
``--measurement-months`` full months (10,000 services with five items each have some 20,000
functioning items: 50 months make a million figures), written by PostgreSQL itself (INSERT …
SELECT over generate_series, a million rows in seconds). About one figure in ten misses its
target; about one item in 25 has its last three months missing, so it reads stale. The items'
standing is then refreshed in one statement, as after any write.
"""

from django.db import connection
from django.utils import timezone

from performance.models import Measurement
from performance.services import refresh_standing
from portfolio.choices import Dimension
from portfolio.generate import GENERATED
from portfolio.generate import GenerationRun
from portfolio.generate import Option
from portfolio.generate import delete_rows
from portfolio.generate import register
from portfolio.models import SpecificationItem

STALE_EVERY = 25
STALE_MONTHS = 3
MISS_EVERY = 10

INSERT = f"""
INSERT INTO performance_measurement
    (created_at, updated_at, source, external_id, item_id, start, "end", value, note, met)
SELECT now(), now(), %(source)s, 'figure-' || i.id || '-' || m, i.id,
       (%(first)s::date - make_interval(months => m + 1))::date,
       (%(first)s::date - make_interval(months => m) - interval '1 day')::date,
       CASE WHEN miss = (i.comparator = 'at_least') THEN i.target - 0.5 ELSE i.target + 0.5 END,
       '', NOT miss
FROM portfolio_specificationitem AS i
CROSS JOIN LATERAL generate_series(
    CASE WHEN abs(hashint8(i.id + %(seed)s)) %% {STALE_EVERY} = 0 THEN {STALE_MONTHS} ELSE 0 END,
    %(months)s - 1
) AS m
CROSS JOIN LATERAL (
    SELECT abs(hashint8(i.id * 1000 + m + %(seed)s)) %% {MISS_EVERY} = 0 AS miss
) AS judged
WHERE i.source = %(source)s AND i.dimension = %(functioning)s
"""


def clear_measurements() -> dict[str, int]:
    return {"measurements": delete_rows(Measurement.objects.filter(source=GENERATED))}


@register(
    "measurements",
    order=30,
    clear=clear_measurements,
    exists=lambda: Measurement.objects.filter(source=GENERATED).exists(),
    options=[Option("measurement_months", int, 0, "monthly figures per functioning item")],
)
def generate_measurements(run: GenerationRun) -> dict[str, int]:
    months = run.options["measurement_months"]
    if not months:
        return {}
    # The current month's first day: the figures end with the last full month.
    first = timezone.localdate().replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            {
                "source": GENERATED,
                "first": first,
                "months": months,
                "seed": run.seed % 1000,
                "functioning": Dimension.FUNCTIONING,
            },
        )
        made = cursor.rowcount
    items = SpecificationItem.objects.filter(source=GENERATED, dimension=Dimension.FUNCTIONING)
    refresh_standing(item_ids=list(items.values_list("pk", flat=True)))
    run.written.update({Measurement, SpecificationItem})
    return {"measurements": made}
