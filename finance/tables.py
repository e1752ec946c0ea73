import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from core.generic import page_url
from core.money import format_amount
from core.money import format_percent
from core.tables import NUMBER
from core.tables import MoneyColumn
from core.tables import NameColumn
from core.tables import NumberColumn
from core.tables import PersonColumn
from core.tables import TranslatedColumn
from core.translations import name_of
from core.translations import person_name
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import TcoRun


class PeriodColumn(tables.Column):
    """A record's period by its label (YYYY-MM), in order of time."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Period")
        super().__init__(accessor="period__serial", **kwargs)

    def render(self, record):
        return record.period.label

    def value(self, record):
        return record.period.label


class CostItemTable(tables.Table):
    description = NameColumn(linkify=lambda record: record.get_absolute_url())
    period = PeriodColumn()
    target = tables.Column(accessor="pk", verbose_name="For", orderable=False)
    amount = MoneyColumn()
    currency = tables.Column()

    class Meta:
        model = CostItem
        fields = (
            "description",
            "period",
            "target",
            "category",
            "expenditure",
            "spread_months",
            "amount",
            "currency",
            "source",
        )
        order_by = ("-period", "description")

    def render_target(self, record):
        target = record.target
        if target is None:
            return "—"
        kind = record._meta.get_field(record.target_kind).verbose_name
        url = target.get_absolute_url() if hasattr(target, "get_absolute_url") else ""
        if url:
            return format_html('{}: <a href="{}">{}</a>', kind.capitalize(), url, name_of(target))
        return f"{kind.capitalize()}: {name_of(target)}"

    def value_target(self, record):
        return f"{record.target_kind}: {name_of(record.target)}"


class CostPoolTable(tables.Table):
    name = NameColumn(linkify=True)
    owner = PersonColumn("owner")
    allocations = NumberColumn(accessor="allocation_count", verbose_name="Services")
    retired_at = tables.DateTimeColumn(format="Y-m-d", verbose_name="Retired", default="")

    class Meta:
        model = CostPool
        fields = ("name", "pool_type", "owner", "allocations", "retired_at")
        order_by = ("name",)


class DriverTable(tables.Table):
    name = NameColumn(linkify=lambda record: record.get_absolute_url())
    edges = NumberColumn(accessor="edge_count", verbose_name="Driven edges")
    quantities = NumberColumn(accessor="quantity_count", verbose_name="Quantities")
    retired_at = tables.DateTimeColumn(format="Y-m-d", verbose_name="Retired", default="")

    class Meta:
        model = Driver
        fields = ("name", "unit", "edges", "quantities", "retired_at")
        order_by = ("name",)


class DriverQuantityTable(tables.Table):
    driver = NameColumn(accessor="driver__name")
    period = PeriodColumn()
    consumer = tables.Column(accessor="pk", verbose_name="Consumer", orderable=False)
    quantity = NumberColumn(linkify=lambda record: record.get_absolute_url())

    class Meta:
        model = DriverQuantity
        fields = ("driver", "period", "consumer", "quantity", "source")
        order_by = ("driver", "-period")

    def render_consumer(self, record):
        kind = "Service" if record.service_id is not None else "Application"
        return format_html(
            '{}: <a href="{}">{}</a>',
            kind,
            record.consumer.get_absolute_url(),
            name_of(record.consumer),
        )

    def value_consumer(self, record):
        return name_of(record.consumer)


class ExchangeRateTable(tables.Table):
    period = PeriodColumn()
    currency = tables.Column(linkify=lambda record: record.get_absolute_url())
    rate = NumberColumn()

    class Meta:
        model = ExchangeRate
        fields = ("period", "currency", "rate", "source")
        order_by = ("-period", "currency")


class PeriodTable(tables.Table):
    serial = tables.Column(verbose_name="Period", linkify=lambda record: record.get_absolute_url())
    fiscal = tables.Column(accessor="pk", verbose_name="Fiscal", orderable=False)
    current_version = tables.Column(verbose_name="Version")
    closed_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Closed", default="")
    pending = tables.Column(
        accessor="recompute_requested_at", verbose_name="Recomputation", default=""
    )

    class Meta:
        model = Period
        fields = ("serial", "fiscal", "status", "current_version", "closed_at", "pending")
        order_by = ("-serial",)

    def render_serial(self, record):
        return record.label

    def value_serial(self, record):
        return record.label

    def render_fiscal(self, record):
        return f"FY{record.fiscal_year} Q{record.fiscal_quarter} M{record.fiscal_month}"

    def value_fiscal(self, record):
        return f"FY{record.fiscal_year}"

    def render_pending(self, value):
        return format_html('<span class="badge warn">waiting since {}</span>', f"{value:%H:%M:%S}")


class TcoRunTable(tables.Table):
    period = PeriodColumn()
    started_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name="Started")
    duration = tables.Column()
    services_count = NumberColumn(verbose_name="Services")
    input_total = MoneyColumn(verbose_name="Input")
    kept_total = MoneyColumn(verbose_name="Kept")
    unallocated_total = MoneyColumn(verbose_name="Unallocated")
    requested_by = PersonColumn("requested_by", default="")

    class Meta:
        model = TcoRun
        fields = (
            "period",
            "version",
            "trigger",
            "started_at",
            "duration",
            "outcome",
            "services_count",
            "input_total",
            "kept_total",
            "unallocated_total",
            "requested_by",
            "note",
            "error",
        )
        order_by = ("-started_at",)

    def render_period(self, record):
        url = reverse("finance:period_detail", args=[record.period.label])
        return format_html('<a href="{}">{}</a>', url, record.period.label)

    def render_duration(self, value):
        return f"{format_amount(value.total_seconds())} s"

    def render_outcome(self, record):
        css = {"succeeded": "ok", "failed": "bad"}.get(record.outcome, "warn")
        return format_html('<span class="badge {}">{}</span>', css, record.get_outcome_display())

    def value_outcome(self, record):
        return record.outcome


class StatementTable(tables.Table):
    customer = TranslatedColumn(
        accessor="customer__name",
        linkify=lambda record: page_url(CustomerStatement, "detail", record),
    )
    relationship_manager = PersonColumn("customer__relationship_manager")
    period = PeriodColumn()
    version = NumberColumn()
    revenue = MoneyColumn(verbose_name="Revenue")
    cost_to_serve = MoneyColumn(verbose_name="Cost to serve")
    margin = MoneyColumn()
    recovery_ratio = tables.Column(verbose_name="Recovery", attrs=NUMBER, default="—")

    class Meta:
        model = CustomerStatement
        fields = (
            "customer",
            "relationship_manager",
            "period",
            "version",
            "revenue",
            "cost_to_serve",
            "margin",
            "recovery_ratio",
        )
        order_by = ("-period", "customer")

    def render_relationship_manager(self, record):
        return person_name(record.customer.relationship_manager) or "—"

    def value_relationship_manager(self, record):
        return person_name(record.customer.relationship_manager)

    def render_recovery_ratio(self, value):
        return format_percent(value) if value is not None else "—"

    def value_recovery_ratio(self, value):
        return value
