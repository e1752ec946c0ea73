"""Filters of the maturity resources. The Maturity pages show parties and assessments on the
pages of who is assessed, not as lists of their own, so these FilterSets are the API's."""

import django_filters

from core.filtersets import RetiredFilter
from core.filtersets import SearchFilterSet
from core.filtersets import id_filter
from maturity.choices import MaturityLevel
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import Party
from people.filtersets import UnitFilter

# As text, so the schema lists them as the strings a query string carries.
LEVELS = [(str(value), label) for value, label in MaturityLevel.choices]


class AssessedOnFilterSet(SearchFilterSet):
    """Records dated by ``assessed_on``, between two days."""

    assessed_from = django_filters.DateFilter(
        field_name="assessed_on", lookup_expr="gte", label="Assessed on or after"
    )
    assessed_until = django_filters.DateFilter(
        field_name="assessed_on", lookup_expr="lte", label="Assessed on or before"
    )


class PartyFilterSet(SearchFilterSet):
    search_fields = ("unit__name", "customer__name", "external_id")

    kind = django_filters.ChoiceFilter(choices=PartyKind.choices)
    customer = id_filter("customer", "Customer id")
    unit = UnitFilter()
    served_by = id_filter("served_by", "Serving unit's party id")
    retired = RetiredFilter()

    class Meta:
        model = Party
        fields = ["q", "kind", "customer", "unit", "served_by", "retired"]


class AssessmentFilterSet(AssessedOnFilterSet):
    search_fields = (
        "note",
        "override_reason",
        "party__unit__name",
        "party__customer__name",
        "external_id",
    )

    party = id_filter("party", "Party id")
    kind = django_filters.ChoiceFilter(
        field_name="party__kind", choices=PartyKind.choices, label="Kind of party"
    )
    level = django_filters.ChoiceFilter(choices=LEVELS, label="Level in force")
    overridden = django_filters.BooleanFilter(
        field_name="override_level", lookup_expr="isnull", exclude=True, label="Overridden"
    )

    class Meta:
        model = Assessment
        fields = ["q", "party", "kind", "level", "overridden", "assessed_from", "assessed_until"]


class BalanceSelfAssessmentFilterSet(AssessedOnFilterSet):
    search_fields = ("note", "external_id")

    class Meta:
        model = BalanceSelfAssessment
        fields = ["q", "assessed_from", "assessed_until"]
