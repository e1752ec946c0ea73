import django_filters
from django.contrib.auth import get_user_model

from core import search
from core.filtersets import AlwaysBoundFilterSet
from core.filtersets import RetiredFilter
from core.ordering import natural
from core.roles import ROLES
from people.choices import UnitKind
from people.models import OrganisationUnit
from people.selectors import in_units


def units(request=None):
    """The units in use a filter offers: those the user may see."""
    # Only what an option shows: a unit's full row costs a change-log snapshot per option.
    offered = (
        OrganisationUnit.objects.filter(retired_at__isnull=True)
        .only("pk", "name", "slug")
        .order_by(natural("name"))
    )
    return offered.restrict(request.user, "view") if request is not None else offered


class UnitFilter(django_filters.ModelChoiceFilter):
    """An organisation unit by slug: the records of that unit and of every unit below it."""

    def __init__(self, field_name: str = "unit", **kwargs):
        kwargs.setdefault("label", "Organisation unit")
        super().__init__(
            field_name=field_name,
            queryset=units,
            to_field_name="slug",
            method=self.in_unit,
            **kwargs,
        )

    def in_unit(self, queryset, name, value):
        if value is None:
            return queryset
        return in_units(queryset, [value.pk], field=self.field_name)


class OrganisationUnitFilterSet(AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "level", "external_id")

    kind = django_filters.ChoiceFilter(choices=UnitKind.choices)
    within = UnitFilter(field_name="parent", label="Within")
    retired = RetiredFilter()

    class Meta:
        model = OrganisationUnit
        fields = ["q", "kind", "within", "retired"]


class PersonFilterSet(AlwaysBoundFilterSet):
    search_fields = ("username", "first_name", "last_name", "email")

    role = django_filters.ChoiceFilter(choices=[(r, r) for r in ROLES], field_name="groups__name")
    unit = UnitFilter(field_name="profile__unit")
    active = django_filters.BooleanFilter(
        field_name="is_active",
        widget=django_filters.widgets.BooleanWidget(),
        label="Active",
    )

    class Meta:
        model = get_user_model()
        fields = ["q", "role", "unit", "active"]

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(search.matching(queryset.model, self.search_fields, word))
        return queryset
