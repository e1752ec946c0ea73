import django_tables2 as tables
from django.utils.html import format_html

from portfolio.models import Service


class CompletenessColumn(tables.BooleanColumn):
    def render(self, value, record, bound_column):
        if value:
            return format_html('<span class="badge ok">Complete</span>')
        return format_html('<span class="badge warn">Incomplete</span>')

    def value(self, value, **kwargs):
        return "complete" if value else "incomplete"


class ServiceTable(tables.Table):
    name = tables.Column(linkify=True)
    owner = tables.Column(accessor="owner__username", verbose_name="Owner", default="—")
    is_complete = CompletenessColumn(verbose_name="Specification")
    updated_at = tables.DateTimeColumn(format="Y-m-d", verbose_name="Updated")

    class Meta:
        model = Service
        fields = ("name", "kind", "lifecycle", "criticality", "owner", "is_complete", "updated_at")
        order_by = ("name",)
