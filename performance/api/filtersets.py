"""Filters of the measurements resource (shown on their items' pages, no list of their own)."""

import django_filters

from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from core.filtersets import yes_no_filter
from performance.models import Measurement


class MeasurementFilterSet(SearchFilterSet):
    search_fields = ("note", "external_id")

    item = id_filter("item", "Specification item id")
    outcome = id_filter("outcome", "Outcome id")
    service = id_filter("item__service", "Service id (figures of its items)")
    ended_from = django_filters.DateFilter(field_name="end", lookup_expr="gte")
    ended_to = django_filters.DateFilter(field_name="end", lookup_expr="lte")
    met = yes_no_filter()

    class Meta:
        model = Measurement
        fields = ["q", "item", "outcome", "service", "ended_from", "ended_to", "met"]
