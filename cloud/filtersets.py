import django_filters

from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core.filtersets import AlwaysBoundFilterSet
from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from core.filtersets import yes_no_filter
from finance.filtersets import PeriodLabelFilter


class CloudAccountFilterSet(SearchFilterSet):
    search_fields = ("name", "provider_name", "billing_account_id")

    class Meta:
        model = CloudAccount
        fields = ["q", "provider_name"]


class BillingImportFilterSet(SearchFilterSet):
    search_fields = ("account__name", "account__billing_account_id", "file_name")

    account = id_filter("account", "Account (id)")
    period = PeriodLabelFilter(field_name="period")

    class Meta:
        model = BillingImport
        fields = ["q", "account", "period"]


class TagRuleFilterSet(SearchFilterSet):
    search_fields = (
        "name",
        "tag_key",
        "tag_value",
        "resource_name_pattern",
        "provider_service_name",
    )

    account = id_filter("account", "Account (id)")

    class Meta:
        model = TagRule
        fields = ["q", "account", "category", "expenditure"]


class TagKeySynonymFilterSet(SearchFilterSet):
    search_fields = ("synonym", "key")

    class Meta:
        model = TagKeySynonym
        fields = ["q"]


class FocusLineFilterSet(AlwaysBoundFilterSet):
    search_fields = ("resource_id", "resource_name", "service_name", "sub_account_name")

    billing_import = id_filter("billing_import", "Billing import (id)")
    account = id_filter("billing_import__account", "Account (id)")
    period = PeriodLabelFilter(field_name="billing_import__period")
    rule = id_filter("rule", "Tag rule (id)")
    cost_item = id_filter("cost_item", "Cost item (id)")
    untagged = yes_no_filter(label="Untagged")
    provider_name = django_filters.CharFilter(label="ProviderName")
    service_category = django_filters.CharFilter(label="ServiceCategory")
    charge_category = django_filters.CharFilter(label="ChargeCategory")

    class Meta:
        model = FocusLine
        fields = [
            "q", "account", "period", "billing_import", "rule", "cost_item", "untagged",
            "provider_name", "service_category", "charge_category",
        ]  # fmt: skip
