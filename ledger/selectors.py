"""Reads of the general ledger: imports with their totals, a period's lines by rule, and the
unmapped bucket as the roll-up names it."""

from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.db.models import Sum

from core.money import to_cents
from finance.choices import UnallocatedReason
from finance.models import CostPool
from ledger.models import LedgerImport
from ledger.models import LedgerLine

TOTAL_NAMES = ("total", "mapped", "unmapped")


def imports_with_totals(queryset) -> list[Any]:
    """The ledger imports, each with ``currency_totals``: (currency, total, mapped, unmapped)
    as Decimals."""
    rows: list[Any] = list(queryset.select_related("period"))
    for row in rows:
        row.currency_totals = [
            (currency, *(Decimal(values[name]) for name in TOTAL_NAMES))
            for currency, values in sorted(row.totals.items())
        ]
    return rows


def takes_by_rule(*, ledger_import: LedgerImport) -> list[dict]:
    """What each rule (None: unmapped) took of the period, per currency, with the cost item
    it is booked in: one aggregate over the period's lines."""
    return list(
        LedgerLine.objects.filter(ledger_import=ledger_import)
        .values("rule_id", "rule__name", "currency", "cost_item_id")
        .annotate(lines=Count("id"), amount=Sum("amount"))
        .order_by("rule__priority", "rule__name", "currency")
    )


def unmapped_explanations(period, pool_ids: set[int]) -> dict[int, tuple[str, str]]:
    """For the roll-up (finance.services.rollup.explain_dead_ends): the unmapped pool, when
    among ``pool_ids``, with its reason and the detail that names the period's largest
    unmapped accounts."""
    from ledger.services import SOURCE
    from ledger.services import UNMAPPED_POOL_ID

    pool = CostPool.objects.filter(
        pk__in=pool_ids, source=SOURCE, external_id=UNMAPPED_POOL_ID
    ).first()
    if pool is None:
        return {}
    detail = "General-ledger lines no ledger rule maps"
    ledger_import = LedgerImport.objects.filter(period=period).first()
    if ledger_import is not None:
        detail += f": {ledger_import.unmapped_count} of {ledger_import.line_count} lines"
        if ledger_import.top_unmapped:
            largest = ", ".join(
                "/".join(part for part in (row["account"], row["cost_centre"], row["vendor"])
                         if part)
                + f" ({to_cents(Decimal(row['amount']))} {row['currency']})"
                for row in ledger_import.top_unmapped[:3]
            )  # fmt: skip
            detail += f"; largest: {largest}"
    return {pool.pk: (UnallocatedReason.UNMAPPED.value, detail[:500])}
