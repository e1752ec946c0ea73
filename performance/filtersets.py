"""The attention list's filters: the same four for its items and its outcomes (owner,
service, customer, value stream), each reaching the service the row is about."""

import django_filters
from django.db.models import Exists
from django.db.models import OuterRef

from core.filtersets import AlwaysBoundFilterSet
from core.filtersets import OwnerFilter
from core.ordering import natural
from performance.choices import Standing
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from valuestreams.models import StageService
from valuestreams.models import ValueStream


class AttentionFilterSet(AlwaysBoundFilterSet):
    """``service_path``: the lookup from a row to its service."""

    service_path = ""

    status = django_filters.ChoiceFilter(choices=Standing.choices)
    owner = OwnerFilter("owned_services", method="by_owner")
    service = django_filters.CharFilter(method="by_service", label="Service (slug)")
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.filter(retired_at__isnull=True).order_by(natural("name")),
        to_field_name="slug",
        method="by_customer",
    )
    value_stream = django_filters.ModelChoiceFilter(
        queryset=ValueStream.objects.filter(retired_at__isnull=True).order_by(natural("name")),
        to_field_name="slug",
        method="by_value_stream",
    )

    def by_owner(self, queryset, name, value):
        return queryset.filter(**{f"{self.service_path}__owner": value})

    def by_service(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(**{f"{self.service_path}__slug": value}) if value else queryset

    def by_customer(self, queryset, name, value):
        subscribed = Subscription.objects.filter(
            customer=value, retired_at__isnull=True, service=OuterRef(self.service_path)
        )
        return queryset.filter(Exists(subscribed))

    def by_value_stream(self, queryset, name, value):
        underpins = StageService.objects.filter(
            stage__value_stream=value, service=OuterRef(self.service_path)
        )
        return queryset.filter(Exists(underpins))


class AttentionItemFilterSet(AttentionFilterSet):
    search_fields = ("title", "metric", "service__name")
    service_path = "service"

    class Meta:
        model = SpecificationItem
        fields = ["q", "status", "owner", "service", "customer", "value_stream"]


class AttentionOutcomeFilterSet(AttentionFilterSet):
    search_fields = ("statement", "metric", "subscription__service__name")
    service_path = "subscription__service"

    class Meta:
        model = Outcome
        fields = ["q", "status", "owner", "service", "customer", "value_stream"]
