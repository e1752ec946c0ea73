import django_tables2 as tables
from django.urls import reverse

from cloud.models import BillingImport
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core.tables import NameColumn
from core.tables import NumberColumn
from finance.tables import PeriodColumn


class BillingImportTable(tables.Table):
    account = NameColumn(accessor="account__name", linkify=lambda record: record.get_absolute_url())
    provider = tables.Column(accessor="account__provider_name", verbose_name="ProviderName")
    period = PeriodColumn()
    line_count = NumberColumn(verbose_name="Lines")
    untagged_count = NumberColumn(verbose_name="Untagged lines")
    file_name = tables.Column(verbose_name="File")
    imported_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta:
        model = BillingImport
        fields = ("account", "provider", "period", "line_count", "untagged_count", "file_name",
                  "imported_at")  # fmt: skip
        order_by = ("-period", "account")


class TagRuleTable(tables.Table):
    name = NameColumn(linkify=lambda record: record.get_absolute_url())
    priority = NumberColumn()
    account = NameColumn(accessor="account__name", default="any")
    target = tables.Column(accessor="pk", verbose_name="Maps to", orderable=False)

    class Meta:
        model = TagRule
        fields = (
            "priority", "name", "tag_key", "tag_value", "resource_name_pattern",
            "provider_service_name", "account", "target", "category", "expenditure",
        )  # fmt: skip
        order_by = ("priority", "name")

    def render_target(self, record):
        return str(record.target)

    def value_target(self, record):
        return str(record.target)


class TagKeySynonymTable(tables.Table):
    synonym = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta:
        model = TagKeySynonym
        fields = ("synonym", "key", "source")
        order_by = ("key", "synonym")


class FocusLineTable(tables.Table):
    billing_import = NameColumn(
        accessor="billing_import__account__name",
        verbose_name="Account",
        linkify=lambda record: reverse(
            "cloud:billingimport_detail", args=[record.billing_import_id]
        ),
    )
    rule = NameColumn(accessor="rule__name", default="untagged", verbose_name="Tag rule")
    effective_cost = NumberColumn()
    billed_cost = NumberColumn()

    class Meta:
        model = FocusLine
        fields = ("billing_import", "provider_name", "sub_account_name", "service_name",
                  "service_category", "charge_category", "resource_name", "resource_id",
                  "effective_cost", "billed_cost", "billing_currency", "rule")  # fmt: skip
        order_by = ("-effective_cost",)
