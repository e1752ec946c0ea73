"""Reads of the cloud bills: billing imports with their totals, a billing period's lines by
rule, the untagged bucket as the roll-up names it."""

from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.db.models import Sum

from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from core.money import to_cents
from finance.choices import UnallocatedReason


def imports_with_totals(queryset) -> list[Any]:
    """The billing imports, each with ``currency_totals``: (currency, effective, billed,
    allocated, untagged) as Decimals."""
    rows: list[Any] = list(queryset.select_related("account", "period"))
    for row in rows:
        row.currency_totals = [
            (currency, *(Decimal(values[name]) for name in ("effective", "billed", "allocated",
                                                             "untagged")))
            for currency, values in sorted(row.totals.items())
        ]  # fmt: skip
    return rows


def takes_by_rule(*, billing_import: BillingImport) -> list[dict]:
    """What each rule (None: untagged) took of the billing period, per currency, with the
    cost item it is booked in: one aggregate over the period's lines."""
    return list(
        FocusLine.objects.filter(billing_import=billing_import)
        .values("rule_id", "rule__name", "billing_currency", "cost_item_id")
        .annotate(lines=Count("id"), effective=Sum("effective_cost"), billed=Sum("billed_cost"))
        .order_by("rule__priority", "rule__name", "billing_currency")
    )


def untagged_explanations(period, pool_ids: set[int]) -> dict[int, tuple[str, str]]:
    """For the roll-up (finance.services.rollup.explain_dead_ends): the untagged pools among
    ``pool_ids``, each with its reason and the detail that names its provider, account and
    largest untagged resources in ``period``."""
    accounts = CloudAccount.objects.filter(untagged_pool_id__in=pool_ids)
    imports = {
        row.account_id: row
        for row in BillingImport.objects.filter(period=period, account__in=accounts)
    }
    answer = {}
    for account in accounts:
        detail = (
            f"Untagged spend of {account.provider_name} billing account "
            f"{account.billing_account_id} ({account.name})"
        )
        billing_import = imports.get(account.pk)
        if billing_import is not None and billing_import.top_untagged:
            largest = ", ".join(
                f"{row['resource_name'] or row['resource_id']} "
                f"({to_cents(Decimal(row['effective_cost']))} {row['currency']})"
                for row in billing_import.top_untagged[:3]
            )
            detail += f"; largest untagged resources: {largest}"
        answer[account.untagged_pool_id] = (UnallocatedReason.UNTAGGED.value, detail[:500])
    return answer
