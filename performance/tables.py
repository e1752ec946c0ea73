import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from core.tables import NameColumn
from core.tables import PersonColumn
from core.tables import TranslatedColumn
from core.templatetags.portico import plain_number
from performance.choices import Standing
from portfolio.models import Outcome
from portfolio.models import SpecificationItem

BADGES = {
    Standing.MET: "ok",
    Standing.MISSED: "bad",
    Standing.STALE: "warn",
    Standing.AT_RISK: "warn",
    Standing.NOT_MEASURED: "",
}


class StatusColumn(tables.Column):
    """A status as its badge; exported as its word."""

    def render(self, value):
        return format_html('<span class="badge {}">{}</span>', BADGES[value], Standing(value).label)

    def value(self, value):
        return value


class AttentionItemTable(tables.Table):
    """The columns make the headers, the sorting and the exports; the rows are written out
    by the table's template (django-tables2's work per cell would be most of the page's
    time, as on the services list)."""

    status = StatusColumn()
    title = NameColumn(verbose_name="Item")
    service = TranslatedColumn(linkify=True, order_by="service__name")
    owner = PersonColumn("service__owner", verbose_name="Owner", orderable=False)
    target = tables.Column(orderable=False)
    measured_until = tables.DateColumn(format="Y-m-d", verbose_name="Latest figure to")
    measurement_due = tables.DateColumn(format="Y-m-d", verbose_name="Next figure due")

    class Meta:
        model = SpecificationItem
        fields = ("status", "title", "service", "owner", "target", "measured_until")
        sequence = (*fields, "measurement_due")
        template_name = "performance/attention_items_table.html"

    def render_title(self, record, value):
        url = reverse("performance:item_series", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_target(self, record):
        return f"{record.get_comparator_display()} {plain_number(record.target)} {record.unit}"

    def value_target(self, record):
        return self.render_target(record)


class AttentionOutcomeTable(tables.Table):
    status = StatusColumn()
    statement = tables.Column(verbose_name="Outcome")
    customer = TranslatedColumn(
        accessor="subscription__customer", linkify=True, order_by="subscription__customer__name"
    )
    service = TranslatedColumn(
        accessor="subscription__service", linkify=True, order_by="subscription__service__name"
    )
    specification_item = tables.Column(verbose_name="Relies on", orderable=False)
    override_reason = tables.Column(verbose_name="Set by hand because", orderable=False)

    class Meta:
        model = Outcome
        fields = ("status", "statement", "customer", "service", "specification_item")
        sequence = (*fields, "override_reason")
        order_by = ("status", "service")

    def render_statement(self, record, value):
        url = reverse("performance:outcome_series", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value)
