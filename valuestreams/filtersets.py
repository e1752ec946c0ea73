import django_filters

from core.filtersets import OwnerFilter
from core.filtersets import SearchFilterSet
from core.ordering import natural
from customfields.filtersets import CustomFieldFiltersMixin
from people.filtersets import UnitFilter
from portfolio.models import Customer
from valuestreams.choices import Experience
from valuestreams.choices import ProcessLayer
from valuestreams.choices import StreamState
from valuestreams.models import Process
from valuestreams.models import ValueStream
from valuestreams.models import VerbList


class ValueStreamFilterSet(CustomFieldFiltersMixin, SearchFilterSet):
    search_fields = ("name", "slug", "segment", "trigger", "result", "external_id")

    experience = django_filters.ChoiceFilter(choices=Experience.choices)
    state = django_filters.ChoiceFilter(choices=StreamState.choices)
    owner = OwnerFilter("owned_value_streams")
    unit = UnitFilter()
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.order_by(natural("name")), to_field_name="slug"
    )
    status = django_filters.ChoiceFilter(
        choices=(("active", "Active"), ("retired", "Retired")),
        method="filter_status",
        label="Status",
    )

    class Meta:
        model = ValueStream
        fields = ["q", "experience", "state", "owner", "unit", "customer", "status"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(retired_at__isnull=value == "active")


class ProcessFilterSet(SearchFilterSet):
    search_fields = ("name", "description", "trigger", "result", "external_id")

    layer = django_filters.ChoiceFilter(choices=ProcessLayer.choices)
    value_stream = django_filters.ModelChoiceFilter(
        queryset=ValueStream.objects.order_by(natural("name")), to_field_name="slug"
    )

    class Meta:
        model = Process
        fields = ["q", "layer", "value_stream"]


class VerbListFilterSet(SearchFilterSet):
    search_fields = ("name", "language", "verbs")

    in_use = django_filters.BooleanFilter(label="In use")

    class Meta:
        model = VerbList
        fields = ["q", "in_use"]
