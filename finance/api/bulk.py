"""The rules of finance.services in bulk form, for the sync engine (core.api.sync).

As in portfolio.api.bulk: each ``prepare_*`` function applies to a whole batch what the
matching ``save_*`` function does to one record, with a constant number of queries; the
model's own ``clean()`` (exactly one target, opex not spread, no rate for the reporting
currency) runs afterwards on every new or changed row. Keep each in step with its services.py
function (tests/api/test_finance_resources.py sends the same bad record both ways).
"""

from django.db import connection
from django.utils import timezone

from core import changelog
from core.choices import ChangeAction
from finance.choices import Expenditure, PeriodStatus
from finance.models import ExchangeRate, Period


def prepare_cost_items(batch) -> None:
    """save_cost_item: opex is booked in its own month (spread over one month)."""
    for entry in batch.valid_entries():
        if entry.row["expenditure"] == Expenditure.OPEX:
            entry.row["spread_months"] = 1


def prepare_rates(batch) -> None:
    """save_rate: one rate per currency and period (in the batch and beside the stored
    ones)."""
    entries = batch.valid_entries()
    seen = {}
    for entry in entries:
        pair = (entry.row["period_id"], entry.row["currency"])
        if pair in seen:
            batch.error(entry, "currency", f"Item {seen[pair].index} has the same currency.")
        else:
            seen[pair] = entry
    if not seen:
        return
    stored = ExchangeRate.objects.filter(
        period_id__in={p for p, _ in seen}, currency__in={c for _, c in seen}
    ).values_list("pk", "period_id", "currency")
    for pk, period_id, currency in stored:
        entry = seen.get((period_id, currency))
        if entry is not None and (entry.existing is None or entry.existing["id"] != pk):
            batch.error(entry, "currency", f"{currency} already has a rate in this period.")


OPEN_PERIODS_SQL = """
    INSERT INTO {table} (year, month, serial, status, current_version, created_at, updated_at)
    SELECT year, month, year * 12 + month - 1, %(status)s, 1, %(now)s, %(now)s
      FROM unnest(%(years)s::integer[], %(months)s::integer[]) AS wanted(year, month)
    ON CONFLICT (year, month) DO NOTHING
    RETURNING id
"""


def open_periods(months: list[tuple[int, int]]) -> None:
    """services.period_for(label, create=True) for many months at once: the months that
    have no period yet get an open one, each with its change record, in three queries
    whatever their number (another writer opening the same month meanwhile is harmless)."""
    if not months:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            OPEN_PERIODS_SQL.format(table=Period._meta.db_table),
            {
                "status": PeriodStatus.OPEN.value,
                "now": timezone.now(),
                "years": [year for year, _ in months],
                "months": [month for _, month in months],
            },
        )
        created = [pk for (pk,) in cursor.fetchall()]
    if created:
        changelog.record_many(
            [
                changelog.build(
                    period,
                    action=ChangeAction.CREATE,
                    before=None,
                    after=period.changelog_snapshot(),
                )
                for period in Period.objects.filter(pk__in=created)
            ]
        )
