"""Filters for the portfolio's link and child resources, which have no browser list of their
own (their records are shown on the pages of the records they belong to). The resources with
a browser list use that list's FilterSet from portfolio.filtersets."""

import django_filters

from core.filtersets import RetiredFilter
from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from performance.choices import Standing
from portfolio.choices import Aspect
from portfolio.choices import Dimension
from portfolio.choices import OutcomeAgreement
from portfolio.models import ApplicationSupport
from portfolio.models import ContractCoverage
from portfolio.models import Outcome
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription


class SpecificationItemFilterSet(SearchFilterSet):
    search_fields = ("title", "description", "metric", "external_id")

    service = id_filter("service", "Service id")
    aspect = django_filters.ChoiceFilter(choices=Aspect.choices)
    dimension = django_filters.ChoiceFilter(choices=Dimension.choices)
    status = django_filters.ChoiceFilter(
        choices=Standing.choices, help_text="How a functioning item stands (docs/performance.md)."
    )

    class Meta:
        model = SpecificationItem
        fields = ["q", "service", "aspect", "dimension", "status"]


class ServiceDependencyFilterSet(SearchFilterSet):
    search_fields = ("note", "consumer__name", "provider__name", "external_id")

    consumer = id_filter("consumer", "Consumer service id")
    provider = id_filter("provider", "Provider service id")

    class Meta:
        model = ServiceDependency
        fields = ["q", "consumer", "provider"]


class SubscriptionFilterSet(SearchFilterSet):
    search_fields = ("customer__name", "service__name", "unit_name", "external_id")

    customer = id_filter("customer", "Customer id")
    service = id_filter("service", "Service id")
    retired = RetiredFilter()

    class Meta:
        model = Subscription
        fields = ["q", "customer", "service", "retired"]


class OutcomeFilterSet(SearchFilterSet):
    search_fields = ("statement", "metric", "external_id")

    subscription = id_filter("subscription", "Subscription id")
    agreement = django_filters.ChoiceFilter(choices=OutcomeAgreement.choices)
    status = django_filters.ChoiceFilter(
        choices=Standing.choices, help_text="How the outcome stands (docs/performance.md)."
    )

    class Meta:
        model = Outcome
        fields = ["q", "subscription", "agreement", "status"]


class ContractCoverageFilterSet(SearchFilterSet):
    search_fields = ("contract__reference", "contract__title", "external_id")

    contract = id_filter("contract", "Contract id")
    service = id_filter("service", "Service id")
    application = id_filter("application", "Application id")

    class Meta:
        model = ContractCoverage
        fields = ["q", "contract", "service", "application"]


class ApplicationSupportFilterSet(SearchFilterSet):
    search_fields = ("application__name", "service__name", "external_id")

    application = id_filter("application", "Application id")
    service = id_filter("service", "Service id")

    class Meta:
        model = ApplicationSupport
        fields = ["q", "application", "service"]
