"""Filters for the finance resources that have no browser list of their own (allocations are
shown on their pool's page, results on the Fund services page) or need one more filter in the
API (a period by its label). The others use the browser list's FilterSet from
finance.filtersets."""

import django_filters
from django.db.models import F

from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from finance import filtersets
from finance.choices import NodeKind
from finance.choices import UnallocatedReason
from finance.models import CustomerStatement
from finance.models import DriverQuantity
from finance.models import PoolAllocation
from finance.models import TcoResult
from finance.models import TcoUnallocated
from finance.models import ValueStreamCost


class CurrentFilter(django_filters.BooleanFilter):
    """``current=true``: only the figures of each period's current version (those the
    browser shows); ``false``: only superseded versions of restated periods."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Current version")
        super().__init__(method=self.only_current, **kwargs)

    @staticmethod
    def only_current(queryset, name, value):
        if value is None:
            return queryset
        same = {"version": F("period__current_version")}
        return queryset.filter(**same) if value else queryset.exclude(**same)


class PeriodFilterSet(filtersets.PeriodFilterSet):
    label = filtersets.PeriodLabelFilter(field_name="", label="Period (YYYY-MM)")

    class Meta(filtersets.PeriodFilterSet.Meta):
        fields = ["label", "status", "year"]


class PoolAllocationFilterSet(SearchFilterSet):
    search_fields = ("pool__name", "service__name", "external_id")

    pool = id_filter("pool", "Cost pool id")
    service = id_filter("service", "Service id")
    driver = id_filter("driver", "Driver id")

    class Meta:
        model = PoolAllocation
        fields = ["q", "pool", "service", "driver"]


class DriverQuantityFilterSet(SearchFilterSet):
    search_fields = ("service__name", "application__name", "external_id")

    driver = id_filter("driver", "Driver id")
    period = filtersets.PeriodLabelFilter(field_name="period")
    service = id_filter("service", "Service id")
    application = id_filter("application", "Application id")

    class Meta:
        model = DriverQuantity
        fields = ["q", "driver", "period", "service", "application"]


class TcoResultFilterSet(SearchFilterSet):
    search_fields = ("service__name", "service__slug")

    period = filtersets.PeriodLabelFilter(field_name="period", label="Period (YYYY-MM)")
    version = django_filters.NumberFilter()
    current = CurrentFilter()
    service = id_filter("service", "Service id")

    class Meta:
        model = TcoResult
        fields = ["q", "period", "version", "current", "service"]


class TcoUnallocatedFilterSet(SearchFilterSet):
    search_fields = ("source_label", "detail")

    period = filtersets.PeriodLabelFilter(field_name="period", label="Period (YYYY-MM)")
    version = django_filters.NumberFilter()
    current = CurrentFilter()
    reason = django_filters.ChoiceFilter(choices=UnallocatedReason.choices)
    source_kind = django_filters.ChoiceFilter(choices=NodeKind.choices)

    class Meta:
        model = TcoUnallocated
        fields = ["q", "period", "version", "current", "reason", "source_kind"]


class CustomerStatementFilterSet(SearchFilterSet):
    search_fields = ("customer__name", "customer__slug")

    period = filtersets.PeriodLabelFilter(field_name="period", label="Period (YYYY-MM)")
    version = django_filters.NumberFilter()
    current = CurrentFilter()
    customer = id_filter("customer", "Customer id")

    class Meta:
        model = CustomerStatement
        fields = ["q", "period", "version", "current", "customer"]


class ValueStreamCostFilterSet(SearchFilterSet):
    search_fields = ("value_stream__name", "value_stream__slug")

    period = filtersets.PeriodLabelFilter(field_name="period", label="Period (YYYY-MM)")
    version = django_filters.NumberFilter()
    current = CurrentFilter()
    value_stream = id_filter("value_stream", "Value stream id")
    what_if = django_filters.BooleanFilter(label="What-if (a future state)")

    class Meta:
        model = ValueStreamCost
        fields = ["q", "period", "version", "current", "value_stream", "what_if"]
