"""Writes of cost data: cost items, pools and their allocations, exchange rates, periods."""

from django.core.exceptions import ValidationError

from core.services import delete_or_retire
from core.slugs import unique_slug
from finance.choices import Expenditure
from finance.models import CostItem, CostPool, ExchangeRate, Period, PoolAllocation, parse_label


def period_for(label: str, *, create: bool = False) -> Period:
    """The period ``YYYY-MM``; made (open) when ``create`` and it does not exist yet."""
    year, month = parse_label(label)
    period = Period.objects.filter(year=year, month=month).first()
    if period is None:
        if not create:
            raise ValidationError(f"There is no period {label}.")
        period = Period(year=year, month=month)
        period.full_clean()
        period.save()
    return period


def save_cost_item(*, item: CostItem) -> CostItem:
    if item.expenditure == Expenditure.OPEX:
        item.spread_months = 1
    item.full_clean()
    item.save()
    return item


def remove_cost_item(*, item: CostItem) -> str:
    item.delete()
    return "deleted"


def save_pool(*, pool: CostPool) -> CostPool:
    if not pool.slug:
        pool.slug = unique_slug(CostPool, pool.name, instance_pk=pool.pk)
    pool.full_clean()
    pool.save()
    return pool


def remove_pool(*, pool: CostPool) -> str:
    """Delete a pool nothing refers to; retire one with cost items (its allocations are
    parts of it)."""
    return delete_or_retire(pool, parts=(PoolAllocation,))


def save_allocation(*, allocation: PoolAllocation) -> PoolAllocation:
    duplicate = PoolAllocation.objects.filter(
        pool_id=allocation.pool_id, service_id=allocation.service_id
    ).exclude(pk=allocation.pk)
    if duplicate.exists():
        raise ValidationError({"service": "This pool is already allocated to this service."})
    allocation.full_clean(validate_unique=False)
    allocation.save()
    return allocation


def save_rate(*, rate: ExchangeRate) -> ExchangeRate:
    duplicate = ExchangeRate.objects.filter(
        period_id=rate.period_id, currency=rate.currency
    ).exclude(pk=rate.pk)
    if duplicate.exists():
        raise ValidationError({"currency": f"{rate.currency} already has a rate in this period."})
    rate.full_clean(validate_unique=False)
    rate.save()
    return rate


def create_period(*, label: str) -> Period:
    year, month = parse_label(label)
    if Period.objects.filter(year=year, month=month).exists():
        raise ValidationError({"label": f"The period {label} exists already."})
    return period_for(label, create=True)
