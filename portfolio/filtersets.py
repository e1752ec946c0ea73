import django_filters
from django.contrib.auth import get_user_model

from core.filtersets import SearchFilterSet
from portfolio.choices import Criticality, ServiceKind, ServiceLifecycle
from portfolio.models import Service


class ServiceFilterSet(SearchFilterSet):
    search_fields = ("name", "summary", "slug", "external_id")

    kind = django_filters.ChoiceFilter(choices=ServiceKind.choices)
    lifecycle = django_filters.ChoiceFilter(choices=ServiceLifecycle.choices)
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices)
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(owned_services__isnull=False).distinct(),
        to_field_name="username",
    )
    complete = django_filters.BooleanFilter(field_name="is_complete", label="Fully specified")

    class Meta:
        model = Service
        fields = ["q", "kind", "lifecycle", "criticality", "owner", "complete"]
