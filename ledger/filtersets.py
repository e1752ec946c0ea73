import django_filters

from core.filtersets import AlwaysBoundFilterSet
from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from core.filtersets import yes_no_filter
from finance.filtersets import PeriodLabelFilter
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule


class LedgerImportFilterSet(SearchFilterSet):
    search_fields = ("file_name",)

    period = PeriodLabelFilter(field_name="period")

    class Meta:
        model = LedgerImport
        fields = ["q", "period"]


class LedgerRuleFilterSet(SearchFilterSet):
    search_fields = ("name", "account", "cost_centre", "vendor")

    class Meta:
        model = LedgerRule
        fields = ["q", "category", "expenditure", "pool_type"]


class LedgerLineFilterSet(AlwaysBoundFilterSet):
    search_fields = ("account", "cost_centre", "vendor", "description")

    ledger_import = id_filter("ledger_import", "Ledger import (id)")
    period = PeriodLabelFilter(field_name="ledger_import__period")
    rule = id_filter("rule", "Ledger rule (id)")
    cost_item = id_filter("cost_item", "Cost item (id)")
    unmapped = yes_no_filter(label="Unmapped")
    account = django_filters.CharFilter(label="Account")
    cost_centre = django_filters.CharFilter(label="Cost centre")
    vendor = django_filters.CharFilter(label="Vendor")
    currency = django_filters.CharFilter(label="Currency")

    class Meta:
        model = LedgerLine
        fields = [
            "q", "period", "ledger_import", "rule", "cost_item", "unmapped", "account",
            "cost_centre", "vendor", "currency",
        ]  # fmt: skip
