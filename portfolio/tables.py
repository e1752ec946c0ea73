from datetime import timedelta

import django_tables2 as tables
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.text import format_lazy

from core.money import reporting_currency
from core.tables import MoneyColumn
from core.tables import NameColumn
from core.tables import NumberColumn
from core.tables import PersonColumn
from core.tables import TranslatedColumn
from customfields.tables import CustomFieldColumnsMixin
from portfolio import selectors
from portfolio.models import Application
from portfolio.models import Contract
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import Supplier


class CompletenessColumn(tables.BooleanColumn):
    """Shown as a badge by the services table's template; exported as a word."""

    def value(self, value, **kwargs):
        return "complete" if value else "incomplete"


class ServiceTable(CustomFieldColumnsMixin, tables.Table):
    """The columns make the headers, the sorting and the exports; the table's template writes
    the rows out with the cells the columns render: django-tables2's work for each cell was
    most of the services page's time, fifty rows of seven."""

    name = TranslatedColumn(linkify=True)
    owner = PersonColumn("owner")
    # Empty for a service live (or retired) since a date nobody recorded: "unknown"
    live_on = tables.DateColumn(format="Y-m-d", verbose_name="Live since", default="unknown")
    is_complete = CompletenessColumn(verbose_name="Specification")
    updated_at = tables.DateTimeColumn(format="Y-m-d", verbose_name="Updated")

    class Meta:
        model = Service
        fields = (
            "name",
            "kind",
            "lifecycle",
            "live_on",
            "criticality",
            "owner",
            "is_complete",
            "updated_at",
        )
        order_by = ("name",)
        template_name = "portfolio/service_list_table.html"


# --- Customers, suppliers and contracts, applications -----------------------------------------


def in_reporting_currency(label: str):
    return format_lazy("{} ({})", label, lazy(reporting_currency, str)())


class DayColumn(tables.Column):
    """A date shown as YYYY-MM-DD and exported as a date (a real date in XLSX)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "nowrap"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return value.isoformat()

    def value(self, value):
        return value


class YesNoColumn(tables.BooleanColumn):
    def render(self, value, record, bound_column):
        return "yes" if value else "no"

    def value(self, value):
        return bool(value)


class StatusColumn(tables.Column):
    """Retired or in use, from ``retired_at``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("accessor", "retired_at")
        kwargs.setdefault("order_by", ("retired_at",))
        kwargs.setdefault("verbose_name", "Status")
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def render(self, value):
        return format_html('<span class="badge">{}</span>', "Retired") if value else ""

    def value(self, value):
        return "retired" if value else "in use"


class CustomerTable(CustomFieldColumnsMixin, tables.Table):
    name = TranslatedColumn(linkify=True)
    relationship_manager = PersonColumn("relationship_manager")
    subscription_count = NumberColumn(verbose_name="Subscriptions")
    annual_revenue = MoneyColumn(verbose_name=in_reporting_currency("Annual revenue"))
    status = StatusColumn()

    class Meta:
        model = Customer
        fields = (
            "name",
            "kind",
            "segment",
            "relationship_manager",
            "subscription_count",
            "annual_revenue",
        )
        order_by = ("name",)


class SupplierTable(CustomFieldColumnsMixin, tables.Table):
    name = NameColumn(linkify=True)
    website = tables.Column(default="")
    owner = PersonColumn("owner")
    contract_count = NumberColumn(verbose_name="Live contracts")
    annual_value = MoneyColumn(verbose_name=in_reporting_currency("Annual value"))
    status = StatusColumn()

    class Meta:
        model = Supplier
        fields = ("name", "website", "owner", "contract_count", "annual_value")
        order_by = ("name",)


class NoticeDeadlineColumn(DayColumn):
    """The notice deadline, flagged when it falls within the horizon or has passed."""

    def render(self, value, record):
        if record.retired_at:
            return value.isoformat()
        today = timezone.localdate()
        if value < today:
            return format_html('{} <span class="badge">passed</span>', value.isoformat())
        if value <= today + timedelta(days=selectors.NOTICE_HORIZON_DAYS):
            return format_html('{} <span class="badge warn">act now</span>', value.isoformat())
        return value.isoformat()


class ContractTable(CustomFieldColumnsMixin, tables.Table):
    reference = NameColumn(linkify=True)
    title = NameColumn(linkify=True)
    supplier = NameColumn(linkify=True, order_by=("supplier__name",))
    owner = PersonColumn("owner")
    end_date = DayColumn(verbose_name="End", default="")
    renewal_date = DayColumn(verbose_name="Renewal", default="")
    notice_deadline = NoticeDeadlineColumn(verbose_name="Notice by", default="")
    auto_renewal = YesNoColumn(verbose_name="Auto-renews")
    annual_value = MoneyColumn(verbose_name="Annual value")
    currency = tables.Column()
    status = StatusColumn()

    class Meta:
        model = Contract
        fields = (
            "reference",
            "title",
            "supplier",
            "owner",
            "end_date",
            "renewal_date",
            "notice_deadline",
            "auto_renewal",
            "annual_value",
            "currency",
        )
        order_by = ("notice_deadline",)


class ApplicationTable(CustomFieldColumnsMixin, tables.Table):
    name = TranslatedColumn(linkify=True)
    disposition = tables.Column(verbose_name="TIME", default="—")
    vendor = NameColumn(linkify=True, default="—", order_by=("vendor__name",))
    owner = PersonColumn("owner")
    support_count = NumberColumn(verbose_name="Services supported")
    status = StatusColumn()

    class Meta:
        model = Application
        fields = (
            "name",
            "lifecycle",
            "disposition",
            "criticality",
            "vendor",
            "owner",
            "support_count",
        )
        order_by = ("name",)
