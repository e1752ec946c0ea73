"""Writes of cost data: cost items, pools and their allocations, exchange rates, periods.

Each model's write rules are written once, over rows (core.rules): the functions below apply
them to one record, and the sync engine applies the same rules to a batch.
"""

import datetime
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from core import changelog
from core import rules
from core.choices import ChangeAction
from core.rules import Change
from core.rules import first_with
from core.rules import pair_taken
from core.rules import stored_pairs
from core.rules import values_by_id
from core.services import change_edge_from_month
from core.services import delete_or_retire
from core.slugs import generate_slugs
from finance.choices import Expenditure
from finance.choices import PeriodStatus
from finance.models import CostItem
from finance.models import CostPool
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import month_serial
from finance.models import parse_label
from finance.models import serial_label
from finance.services.recompute import request_recompute
from portfolio.models import Service
from portfolio.services import service_is_retired

OPEN_PERIODS_SQL = """
    INSERT INTO {table} (year, month, serial, status, current_version, created_at, updated_at)
    SELECT year, month, year * 12 + month - 1, %(status)s, 1, %(now)s, %(now)s
      FROM unnest(%(years)s::integer[], %(months)s::integer[]) AS wanted(year, month)
    ON CONFLICT (year, month) DO NOTHING
    RETURNING id
"""


def period_window(today: datetime.date | None = None) -> tuple[int, int]:
    """The first and last month (as serials) in which a new period may be opened: from
    PORTICO_PERIOD_YEARS_BACK years before the current month to PORTICO_PERIOD_YEARS_AHEAD
    years after it."""
    today = today or timezone.localdate()
    current = month_serial(today.year, today.month)
    return (
        current - 12 * settings.PORTICO_PERIOD_YEARS_BACK,
        current + 12 * settings.PORTICO_PERIOD_YEARS_AHEAD,
    )


def period_outside_window(year: int, month: int, today: datetime.date | None = None) -> str:
    """Why the month (year, month) may not be opened as a new period, or "" when it may: a
    month far before or after today is more likely a mistyped year (1900-01) than a ledger's
    month. A period that exists already is not affected."""
    first, last = period_window(today)
    serial = month_serial(year, month)
    if first <= serial <= last:
        return ""
    if serial < first:
        years, side = settings.PORTICO_PERIOD_YEARS_BACK, "before"
    else:
        years, side = settings.PORTICO_PERIOD_YEARS_AHEAD, "after"
    return (
        f"{serial_label(serial)} is more than {years} years {side} the current month: a new "
        f"period is opened from {serial_label(first)} to {serial_label(last)}."
    )


def open_periods(months: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Open a period for each month (year, month) that has none yet, each with its change
    record, in three queries whatever their number (another writer opening the same month
    meanwhile is harmless). A period is opened by the first cost booked in it. A month
    outside the window (period_window) is not opened: the answer maps each such month to
    the reason (an empty answer: every month is open now)."""
    if not months:
        return {}
    today = timezone.localdate()
    refused = {
        (year, month): reason
        for year, month in months
        if (reason := period_outside_window(year, month, today))
    }
    months = [wanted for wanted in months if wanted not in refused]
    if not months:
        return refused
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
        changelog.record_created(Period.objects.filter(pk__in=created))
    return refused


def period_for(label: str, *, create: bool = False, field: str = "period") -> Period:
    """The period ``YYYY-MM``; opened when ``create`` and it does not exist yet (a month
    outside period_window is refused, under ``field``)."""
    year, month = parse_label(label)
    period = Period.objects.filter(year=year, month=month).first()
    if period is None and create:
        refused = open_periods([(year, month)])
        if refused:
            raise ValidationError({field: refused[(year, month)]})
        period = Period.objects.filter(year=year, month=month).first()
    if period is None:
        raise ValidationError(f"There is no period {label}.")
    return period


def _newly(change: Change, attname: str) -> bool:
    return change.is_new or change.moved(attname)


def retired_pools(changes: list[Change]) -> set[int]:
    """The retired pools among those the changes newly book a cost item on."""
    wanted = {c.row["pool_id"] for c in changes if c.row["pool_id"] and _newly(c, "pool_id")}
    pools = values_by_id(CostPool, wanted, "retired_at")
    return {pk for pk, row in pools.items() if row["retired_at"] is not None}


@rules.rule(CostItem, facts=retired_pools)
def cost_item_rule(change: Change, facts: set[int]) -> None:
    """Opex is booked in its own month (spread over one month); no new cost is booked on a
    retired pool."""
    if change.row["expenditure"] == Expenditure.OPEX:
        change.row["spread_months"] = 1
    if change.row["pool_id"] in facts and _newly(change, "pool_id"):
        change.error("pool", "This cost pool is retired: it takes no new costs.")


def save_cost_item(*, item: CostItem) -> CostItem:
    return rules.save_checked(item)


def remove_cost_item(*, item: CostItem) -> str:
    item.delete()
    return "deleted"


# Checked by clean_fields in Python; the references are the import's own (read or made in
# its transaction), so asking the database whether each exists is left out.
COST_ITEM_REFERENCES = ["period", "service", "application", "contract", "pool"]


def book_cost_items(
    *, source: str, prefix: str, period: Period, wanted: dict[str, dict]
) -> dict[str, int]:
    """Book a file import's cost items of one period in bulk: ``wanted`` maps each item's
    external id (of ``source``, starting with ``prefix``) to its values by attname; stored
    items under the prefix that ``wanted`` leaves out are removed. External id -> cost item
    id.

    The same checks as ``save_cost_item``, for the batch at once: the cost items' rules
    (core.rules, facts read once), each new or changed item's fields and ``clean()``; a
    refusal raises ValidationError. New items are written with one INSERT, changed ones with
    one UPDATE, their change records with one COPY, and the recomputation of the months they
    touch is requested as their saves would; an unchanged item writes nothing."""
    stored = {
        item.external_id: item
        for item in CostItem.objects.filter(source=source, external_id__startswith=prefix)
    }
    ids: dict[str, int] = {}
    new: list[CostItem] = []
    changed: list[tuple[CostItem, dict]] = []
    for external_id, values in wanted.items():
        item = stored.pop(external_id, None)
        if item is None:
            new.append(CostItem(source=source, external_id=external_id, period=period, **values))
            continue
        if all(getattr(item, name) == value for name, value in values.items()):
            ids[external_id] = item.pk
            continue
        before = rules.row_of(item)
        for name, value in values.items():
            setattr(item, name, value)
        changed.append((item, before))
    writes = [(item, None) for item in new] + changed
    checks = [Change(row=rules.row_of(item), before=before) for item, before in writes]
    rules.apply(CostItem, checks)
    for (item, _), check in zip(writes, checks, strict=True):
        if check.refused:
            raise ValidationError(check.errors)
        for attname, value in check.row.items():
            setattr(item, attname, value)
        item.clean_fields(exclude=COST_ITEM_REFERENCES)
        item.clean()
    CostItem.objects.bulk_create(new)
    if changed:
        now = timezone.now()
        moved = {"updated_at"}
        for item, before in changed:
            item.updated_at = now
            moved |= {name for name, value in rules.row_of(item).items() if before[name] != value}
        CostItem.objects.bulk_update(
            [item for item, _ in changed],
            [f.name for f in CostItem._meta.concrete_fields if f.attname in moved],
        )
    records = [
        changelog.build(
            item, action=ChangeAction.CREATE, before=None, after=item.changelog_snapshot()
        )
        for item in new
    ]
    for item, _ in changed:
        after = item.changelog_snapshot()
        records.append(
            changelog.build(
                item, action=ChangeAction.UPDATE, before=item._loaded_snapshot, after=after
            )
        )
        item._loaded_snapshot = after
    changelog.record_many(records)
    for item, _ in writes:
        request_recompute(period_id=item.period_id, months=item.spread_months)
        ids[item.external_id] = item.pk
    if stored:
        # Deleted one by one, as remove_cost_item does: their lines let go of them
        # (SET_NULL) and each leaves its change record and its recomputation.
        CostItem.objects.filter(pk__in=[item.pk for item in stored.values()]).delete()
    return ids


generate_slugs(CostPool, "name")


def save_pool(*, pool: CostPool) -> CostPool:
    return rules.save_checked(pool)


def remove_pool(*, pool: CostPool) -> str:
    """Delete a pool nothing refers to; retire one with cost items (its allocations are
    parts of it)."""
    return delete_or_retire(pool, parts=(PoolAllocation,))


# A pool is allocated to a service once for any day.
rules.effective_dated(
    PoolAllocation, "pool_id", "service_id", "This pool is already allocated to this service"
)


# A pool's services share its cost all by weight or all by one driver's quantities.
rules.one_driver_per_source(PoolAllocation, "pool_id", "pool")


def retired_services(changes: list[Change]) -> set[int]:
    """The retired services among those the changes newly allocate a pool to."""
    wanted = {c.row["service_id"] for c in changes if _newly(c, "service_id")}
    services = values_by_id(Service, wanted, "lifecycle")
    return {pk for pk, row in services.items() if service_is_retired(row)}


@rules.rule(PoolAllocation, facts=retired_services)
def allocation_rule(change: Change, facts: set[int]) -> None:
    """A pool is newly allocated to services in use only (a retired service bears no cost)."""
    if change.row["service_id"] in facts and _newly(change, "service_id"):
        change.error("service", "This service is retired: no pool is newly allocated to it.")


def save_allocation(*, allocation: PoolAllocation) -> PoolAllocation:
    return rules.save_checked(allocation, validate_unique=False)


def change_allocation_from_month(
    *, allocation: PoolAllocation, month: date, weight: Decimal, user
) -> PoolAllocation:
    """End the allocation with the month before ``month`` and carry on from ``month`` with
    ``weight`` (core.services.change_edge_from_month)."""
    return change_edge_from_month(
        allocation,
        month=month,
        weight=weight,
        user=user,
        save=lambda edge: save_allocation(allocation=edge),
    )


def rate_facts(changes: list[Change]) -> tuple[dict, dict]:
    """The first rate of the batch for each (period, currency), and the stored ones."""
    first = first_with(changes, lambda c: (c.row["period_id"], c.row["currency"]))
    return first, stored_pairs(ExchangeRate, changes, "period_id", "currency")


@rules.rule(ExchangeRate, facts=rate_facts)
def rate_rule(change: Change, facts: tuple[dict, dict]) -> None:
    """One rate per currency and period."""
    first, stored = facts
    earlier = first[(change.row["period_id"], change.row["currency"])]
    if earlier is not change:
        change.error("currency", f"Item {earlier.index} has the same currency.")
    elif pair_taken(change, stored, "period_id", "currency"):
        change.error("currency", f"{change.row['currency']} already has a rate in this period.")


def remove_allocation(*, allocation: PoolAllocation) -> None:
    allocation.delete()


def remove_rate(*, rate: ExchangeRate) -> None:
    rate.delete()


def save_rate(*, rate: ExchangeRate) -> ExchangeRate:
    return rules.save_checked(rate, validate_unique=False)


def create_period(*, label: str) -> Period:
    year, month = parse_label(label)
    if Period.objects.filter(year=year, month=month).exists():
        raise ValidationError({"label": f"The period {label} exists already."})
    return period_for(label, create=True, field="label")
