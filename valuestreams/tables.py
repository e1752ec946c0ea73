import django_tables2 as tables
from django.conf import settings
from django.utils.html import format_html

from core.money import format_amount
from core.tables import NameColumn
from core.tables import NumberColumn
from core.tables import PersonColumn
from core.tables import TranslatedColumn
from core.translations import translated
from customfields.tables import CustomFieldColumnsMixin
from valuestreams.models import Process
from valuestreams.models import ValueStream
from valuestreams.models import VerbList
from valuestreams.templatetags.valuestreams_tags import duration
from valuestreams.templatetags.valuestreams_tags import percent


class DurationColumn(tables.Column):
    """Minutes shown, and exported, as people read them: “2.5 d”, “3 h”."""

    def render(self, value):
        return duration(value)


class PercentColumn(tables.Column):
    def render(self, value):
        return percent(value)


class ValueStreamTable(CustomFieldColumnsMixin, tables.Table):
    name = TranslatedColumn(linkify=True)
    state = tables.Column(verbose_name="State")
    owner = PersonColumn("owner")
    served = tables.Column(accessor="served", verbose_name="Serves", orderable=False, default="—")
    stage_count = NumberColumn(verbose_name="Stages")
    total_lead_time = DurationColumn(verbose_name="Lead time", attrs={"td": {"class": "num"}})
    total_process_time = DurationColumn(verbose_name="Process time", attrs={"td": {"class": "num"}})
    activity_ratio = PercentColumn(verbose_name="Activity ratio", attrs={"td": {"class": "num"}})
    rolled_complete_accurate = PercentColumn(
        verbose_name="Rolled %C&A", attrs={"td": {"class": "num"}}
    )
    moment_of_truth_count = NumberColumn(verbose_name="Moments of Truth")
    cost = tables.Column(verbose_name="Cost", attrs={"td": {"class": "num"}}, default="—")

    class Meta:
        model = ValueStream
        fields = (
            "name",
            "state",
            "experience",
            "owner",
            "served",
            "stage_count",
            "total_lead_time",
            "total_process_time",
            "activity_ratio",
            "rolled_complete_accurate",
            "moment_of_truth_count",
            "cost",
        )
        order_by = ("name",)

    def render_cost(self, value, record):
        text = format_amount(value, settings.PORTICO_CURRENCY)
        if record.cost_what_if:
            return format_html('{} <span class="badge">what-if</span>', text)
        return text

    def value_cost(self, value):
        return value

    def render_name(self, value, record):
        name = translated(record, "name")
        if record.retired_at:
            return format_html(
                '<a href="{}">{}</a> <span class="badge">Retired</span>',
                record.get_absolute_url(),
                name,
            )
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), name)

    def value_name(self, record):
        return translated(record, "name")


class ProcessTable(tables.Table):
    name = NameColumn(linkify=True)
    layer = tables.Column(verbose_name="Layer")
    value_stream = TranslatedColumn(linkify=True, default="—")
    moment_count = NumberColumn(verbose_name="Moments of Truth")

    class Meta:
        model = Process
        fields = ("name", "layer", "value_stream", "moment_count", "trigger", "result")
        order_by = ("layer", "name")

    def render_layer(self, value, record):
        return format_html(
            '<span class="badge layer-{}" title="{}">{}</span>',
            value,
            record.get_layer_display(),
            value,
        )

    def value_layer(self, value):
        return value


class VerbListTable(tables.Table):
    name = NameColumn(linkify=True)
    language = tables.Column()
    verb_count = NumberColumn(accessor="verb_count", verbose_name="Verbs", orderable=False)
    verb_last = tables.BooleanColumn(verbose_name="Verb may come last")
    in_use = tables.BooleanColumn(verbose_name="In use")

    class Meta:
        model = VerbList
        fields = ("name", "language", "verb_count", "verb_last", "in_use")
        order_by = ("name",)
