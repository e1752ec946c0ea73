"""Filters of the budget lists, shared by the browser and the API."""

import django_filters

from budgets.choices import BudgetOrigin
from budgets.choices import BudgetStatus
from budgets.choices import ScenarioChangeKind
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import NodeKind
from finance.models import parse_label


class BudgetVersionFilterSet(SearchFilterSet):
    search_fields = ("name", "external_id")

    fiscal_year = django_filters.NumberFilter()
    status = django_filters.ChoiceFilter(choices=BudgetStatus.choices)

    class Meta:
        model = BudgetVersion
        fields = ["q", "fiscal_year", "status"]


class MonthFilter(django_filters.CharFilter):
    """A month as YYYY-MM; one that is not is refused with the expected form."""

    def filter(self, qs, value):
        if not value:
            return qs
        try:
            year, month = parse_label(value)
        except Exception:
            return qs.none()
        return qs.filter(serial=year * 12 + month - 1)


class BudgetLineFilterSet(SearchFilterSet):
    search_fields = ("note", "external_id", "service__name", "application__name",
                     "contract__reference", "pool__name")  # fmt: skip

    version = id_filter("version", "Budget version id")
    month = MonthFilter(label="Month (YYYY-MM)")
    origin = django_filters.ChoiceFilter(choices=BudgetOrigin.choices)
    category = django_filters.ChoiceFilter(choices=CostCategory.choices)
    expenditure = django_filters.ChoiceFilter(choices=Expenditure.choices)
    target = django_filters.ChoiceFilter(
        choices=NodeKind.choices, method="filter_target", label="Target"
    )
    service = id_filter("service", "Service id")

    class Meta:
        model = BudgetLine
        fields = ["q", "version", "month", "origin", "category", "expenditure", "target",
                  "service"]  # fmt: skip

    def filter_target(self, queryset, name, value):
        return queryset.filter(**{f"{value}__isnull": False}) if value else queryset


class ScenarioFilterSet(SearchFilterSet):
    search_fields = ("name", "note")

    base = id_filter("base", "Budget version id")
    fiscal_year = django_filters.NumberFilter(field_name="base__fiscal_year")

    class Meta:
        model = Scenario
        fields = ["q", "base", "fiscal_year"]


class ScenarioChangeFilterSet(SearchFilterSet):
    search_fields = ("scenario__name", "contract__reference", "service__name", "provider__name")

    scenario = id_filter("scenario", "Scenario id")
    kind = django_filters.ChoiceFilter(choices=ScenarioChangeKind.choices)

    class Meta:
        model = ScenarioChange
        fields = ["q", "scenario", "kind"]
