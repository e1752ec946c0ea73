import django_tables2 as tables
from django.urls import reverse

from core.tables import MoneyColumn
from core.tables import NameColumn
from core.tables import NumberColumn
from finance.tables import PeriodColumn
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule


class LedgerImportTable(tables.Table):
    period = PeriodColumn(linkify=lambda record: record.get_absolute_url())
    line_count = NumberColumn(verbose_name="Lines")
    unmapped_count = NumberColumn(verbose_name="Unmapped lines")
    file_name = tables.Column(verbose_name="File")
    imported_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta:
        model = LedgerImport
        fields = ("period", "line_count", "unmapped_count", "file_name", "imported_at")
        order_by = ("-period",)


def _criterion(record, name: str) -> str:
    value = getattr(record, name)
    if not value:
        return "any"
    return f"{getattr(record, f'get_{name}_match_display')().lower()} {value}"


class LedgerRuleTable(tables.Table):
    priority = NumberColumn()
    name = NameColumn(linkify=lambda record: record.get_absolute_url())
    account = tables.Column(empty_values=())
    cost_centre = tables.Column(empty_values=())
    vendor = tables.Column(empty_values=())
    target = tables.Column(accessor="pk", verbose_name="Maps to", orderable=False)

    class Meta:
        model = LedgerRule
        fields = ("priority", "name", "account", "cost_centre", "vendor", "target", "category",
                  "expenditure", "pool_type")  # fmt: skip
        order_by = ("priority", "name")

    def render_account(self, record):
        return _criterion(record, "account")

    def value_account(self, record):
        return _criterion(record, "account")

    def render_cost_centre(self, record):
        return _criterion(record, "cost_centre")

    def value_cost_centre(self, record):
        return _criterion(record, "cost_centre")

    def render_vendor(self, record):
        return _criterion(record, "vendor")

    def value_vendor(self, record):
        return _criterion(record, "vendor")

    def render_target(self, record):
        return str(record.target)

    def value_target(self, record):
        return str(record.target)


class LedgerLineTable(tables.Table):
    ledger_import = tables.Column(
        accessor="ledger_import__period__serial",
        verbose_name="Period",
        linkify=lambda record: reverse(
            "ledger:ledgerimport_detail", args=[record.ledger_import_id]
        ),
    )
    row_number = NumberColumn(verbose_name="Row")
    amount = MoneyColumn()
    rule = NameColumn(accessor="rule__name", default="unmapped", verbose_name="Ledger rule")

    class Meta:
        model = LedgerLine
        fields = ("ledger_import", "row_number", "account", "cost_centre", "vendor",
                  "description", "amount", "currency", "posting_date", "rule")  # fmt: skip
        order_by = ("ledger_import", "row_number")

    def render_ledger_import(self, record):
        return record.ledger_import.period.label

    def value_ledger_import(self, record):
        return record.ledger_import.period.label
