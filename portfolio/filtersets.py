import django_filters
from django import forms
from django.contrib.auth import get_user_model

from core.filtersets import SearchFilterSet
from portfolio import selectors
from portfolio.choices import (
    ApplicationLifecycle,
    Criticality,
    CustomerKind,
    ServiceKind,
    ServiceLifecycle,
    TimeDisposition,
)
from portfolio.models import Application, Contract, Customer, Service, Supplier


class ServiceFilterSet(SearchFilterSet):
    search_fields = ("name", "summary", "slug", "external_id")

    kind = django_filters.ChoiceFilter(choices=ServiceKind.choices)
    lifecycle = django_filters.ChoiceFilter(choices=ServiceLifecycle.choices)
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices)
    owner = django_filters.ModelChoiceFilter(
        queryset=lambda request: users_who("owned_services"), to_field_name="username"
    )
    complete = django_filters.BooleanFilter(field_name="is_complete", label="Fully specified")

    class Meta:
        model = Service
        fields = ["q", "kind", "lifecycle", "criticality", "owner", "complete"]


# --- Customers, suppliers and contracts, applications -----------------------------------------


class AlwaysBoundFilterSet(SearchFilterSet):
    """Bound even without query parameters, so a list's first page shows every row:
    ObjectListView shows no rows for an unbound (hence invalid) filterset."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__({} if data is None else data, *args, **kwargs)


class EitherWay(forms.NullBooleanSelect):
    """A yes/no filter whose empty choice reads "Any" (not "Unknown"), with labels of its own."""

    def __init__(self, *, yes: str = "Yes", no: str = "No", attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", yes), ("false", no)]


def yes_no_filter(**kwargs) -> django_filters.BooleanFilter:
    return django_filters.BooleanFilter(widget=EitherWay(), **kwargs)


class RetiredFilter(django_filters.BooleanFilter):
    """``retired=true``: only retired records; ``false``: only those in use."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Status")
        kwargs.setdefault("widget", EitherWay(yes="Retired", no="In use"))
        super().__init__(field_name="retired_at", lookup_expr="isnull", exclude=True, **kwargs)


def users_who(related_name: str):
    """The people who own at least one record through ``related_name``: the owner choices.

    A semi-join on the owner column's index (``id IN (SELECT owner_id ...)``), not DISTINCT
    over a join, which would read every owned record and compare whole user rows."""
    users = get_user_model()
    relation = users._meta.get_field(related_name)
    owned = relation.related_model._base_manager.values(relation.field.attname)
    return users.objects.filter(pk__in=owned).order_by("username")


def customer_segments():
    segments = (
        Customer.objects.exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )
    return [(segment, segment) for segment in segments]


class CustomerFilterSet(AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "segment", "external_id")

    kind = django_filters.ChoiceFilter(empty_label="Any", choices=CustomerKind.choices)
    segment = django_filters.ChoiceFilter(empty_label="Any", choices=customer_segments)
    relationship_manager = django_filters.ModelChoiceFilter(
        empty_label="Any",
        queryset=lambda request: users_who("managed_customers"),
        to_field_name="username",
        label="Relationship manager",
    )
    retired = RetiredFilter()

    class Meta:
        model = Customer
        fields = ["q", "kind", "segment", "relationship_manager", "retired"]


class SupplierFilterSet(AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "website", "external_id")

    owner = django_filters.ModelChoiceFilter(
        empty_label="Any",
        queryset=lambda request: users_who("managed_suppliers"),
        to_field_name="username",
    )
    retired = RetiredFilter()

    class Meta:
        model = Supplier
        fields = ["q", "owner", "retired"]


class ContractFilterSet(AlwaysBoundFilterSet):
    """Needs the queryset annotated with ``notice_deadline`` (selectors.with_notice_deadline)."""

    search_fields = ("reference", "title", "supplier__name", "external_id")

    supplier = django_filters.ModelChoiceFilter(
        empty_label="Any",
        queryset=lambda request: Supplier.objects.order_by("name"),
        to_field_name="slug",
    )
    owner = django_filters.ModelChoiceFilter(
        empty_label="Any",
        queryset=lambda request: users_who("managed_contracts"),
        to_field_name="username",
    )
    auto_renewal = yes_no_filter(label="Renews automatically")
    notice_due = yes_no_filter(
        method="filter_notice_due", label=f"Notice within {selectors.NOTICE_HORIZON_DAYS} days"
    )
    retired = RetiredFilter()

    class Meta:
        model = Contract
        fields = ["q", "supplier", "owner", "auto_renewal", "notice_due", "retired"]

    def filter_notice_due(self, queryset, name, value):
        due = selectors.notice_due_q(days=selectors.NOTICE_HORIZON_DAYS)
        return queryset.filter(due) if value else queryset.exclude(due)


class ApplicationFilterSet(AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "description", "external_id")

    lifecycle = django_filters.ChoiceFilter(empty_label="Any", choices=ApplicationLifecycle.choices)
    disposition = django_filters.ChoiceFilter(
        empty_label="Any", choices=TimeDisposition.choices, label="TIME disposition"
    )
    criticality = django_filters.ChoiceFilter(empty_label="Any", choices=Criticality.choices)
    vendor = django_filters.ModelChoiceFilter(
        empty_label="Any",
        queryset=lambda request: (
            Supplier.objects.filter(applications__isnull=False).distinct().order_by("name")
        ),
        to_field_name="slug",
    )
    owner = django_filters.ModelChoiceFilter(
        empty_label="Any",
        queryset=lambda request: users_who("owned_applications"),
        to_field_name="username",
    )
    retired = RetiredFilter()

    class Meta:
        model = Application
        fields = ["q", "lifecycle", "disposition", "criticality", "vendor", "owner", "retired"]
