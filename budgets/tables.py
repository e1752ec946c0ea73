import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from core.tables import MoneyColumn
from core.tables import NameColumn


class BudgetVersionTable(tables.Table):
    name = NameColumn(linkify=lambda record: record.get_absolute_url())
    kept_total = MoneyColumn(verbose_name="Budgeted TCO")

    class Meta:
        model = BudgetVersion
        fields = ("fiscal_year", "name", "status", "based_on", "built_at", "kept_total")
        order_by = ("-fiscal_year", "name")


class MonthColumn(tables.Column):
    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Month")
        super().__init__(accessor="serial", **kwargs)

    def render(self, record):
        return record.month

    def value(self, record):
        return record.month


class BudgetLineTable(tables.Table):
    month = MonthColumn()
    target = tables.Column(accessor="pk", verbose_name="For", orderable=False)
    amount = MoneyColumn()
    edit = tables.Column(accessor="pk", verbose_name="", orderable=False, exclude_from_export=True)

    class Meta:
        model = BudgetLine
        fields = (
            "month",
            "target",
            "origin",
            "category",
            "expenditure",
            "spread_months",
            "amount",
            "currency",
            "note",
        )
        order_by = ("month", "origin")

    def render_target(self, record):
        target = record.target
        if target is None:
            return "—"
        kind = record._meta.get_field(record.target_kind).verbose_name
        url = target.get_absolute_url() if hasattr(target, "get_absolute_url") else ""
        if url:
            return format_html('{}: <a href="{}">{}</a>', kind.capitalize(), url, target)
        return f"{kind.capitalize()}: {target}"

    def render_edit(self, record):
        return format_html(
            '<a href="{}" aria-label="Edit the line of {}">Edit</a>',
            reverse("budgets:line_edit", args=[record.pk]),
            record.month,
        )
