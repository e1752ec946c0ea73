"""Filters for the value-stream resources that have no browser list of their own (stages,
their links, connections and the improvement log are shown on the pages of the records they
belong to). Value streams and processes use their browser list's FilterSet."""

import django_filters

from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from valuestreams.choices import Effort
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import ValueClass
from valuestreams.models import Improvement
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import StageApplication
from valuestreams.models import StageService


class StageFilterSet(SearchFilterSet):
    search_fields = ("name", "responsible_party", "external_id")

    value_stream = id_filter("value_stream", "Value stream id")
    value_class = django_filters.ChoiceFilter(choices=ValueClass.choices)
    moment_of_truth = django_filters.BooleanFilter()

    class Meta:
        model = Stage
        fields = ["q", "value_stream", "value_class", "moment_of_truth"]


class StageServiceFilterSet(SearchFilterSet):
    search_fields = ("stage__name", "service__name", "external_id")

    stage = id_filter("stage", "Stage id")
    service = id_filter("service", "Service id")
    value_stream = id_filter("stage__value_stream", "Value stream id")

    class Meta:
        model = StageService
        fields = ["q", "stage", "service", "value_stream"]


class StageApplicationFilterSet(SearchFilterSet):
    search_fields = ("stage__name", "application__name", "external_id")

    stage = id_filter("stage", "Stage id")
    application = id_filter("application", "Application id")
    value_stream = id_filter("stage__value_stream", "Value stream id")

    class Meta:
        model = StageApplication
        fields = ["q", "stage", "application", "value_stream"]


class ProcessConnectionFilterSet(SearchFilterSet):
    search_fields = ("note", "process__name", "connected_to__name", "external_id")

    process = id_filter("process", "Process id")
    connected_to = id_filter("connected_to", "Connected process id")

    class Meta:
        model = ProcessConnection
        fields = ["q", "process", "connected_to"]


class ImprovementFilterSet(SearchFilterSet):
    search_fields = ("title", "description", "benefit_metric", "external_id")

    value_stream = id_filter("value_stream", "Value stream id")
    stage = id_filter("stage", "Stage id")
    service = id_filter("service", "Service id")
    status = django_filters.ChoiceFilter(choices=ImprovementStatus.choices)
    effort = django_filters.ChoiceFilter(choices=Effort.choices)

    class Meta:
        model = Improvement
        fields = ["q", "value_stream", "stage", "service", "status", "effort"]
