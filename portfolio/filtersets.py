import django_filters

from core.filtersets import AlwaysBoundFilterSet
from core.filtersets import OwnerFilter
from core.filtersets import RetiredFilter
from core.filtersets import SearchFilterSet
from core.filtersets import yes_no_filter
from core.ordering import natural
from customfields.filtersets import CustomFieldFiltersMixin
from people.filtersets import UnitFilter
from portfolio import selectors
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import Criticality
from portfolio.choices import CustomerKind
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.choices import TimeDisposition
from portfolio.models import Application
from portfolio.models import Contract
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import Supplier


class ServiceFilterSet(CustomFieldFiltersMixin, SearchFilterSet):
    search_fields = ("name", "summary", "slug", "external_id")

    kind = django_filters.ChoiceFilter(choices=ServiceKind.choices)
    lifecycle = django_filters.ChoiceFilter(choices=ServiceLifecycle.choices)
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices)
    owner = OwnerFilter("owned_services")
    unit = UnitFilter()
    complete = django_filters.BooleanFilter(field_name="is_complete", label="Fully specified")
    live_on = django_filters.ChoiceFilter(
        label="Live since",
        choices=[("unknown", "date unknown"), ("known", "date known")],
        method="filter_live_on",
    )

    class Meta:
        model = Service
        fields = ["q", "kind", "lifecycle", "live_on", "criticality", "owner", "unit", "complete"]

    def filter_live_on(self, queryset, name: str, value: str):
        """Live or retired services whose go-live date is (not) recorded; a service in the
        pipeline has no such date to know."""
        gone_live = queryset.exclude(lifecycle=ServiceLifecycle.PIPELINE)
        return gone_live.filter(live_on__isnull=value == "unknown")


# --- Customers, suppliers and contracts, applications -----------------------------------------


def customer_segments():
    segments = (
        Customer.objects.exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )
    return [(segment, segment) for segment in segments]


class CustomerFilterSet(CustomFieldFiltersMixin, AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "segment", "external_id")

    kind = django_filters.ChoiceFilter(choices=CustomerKind.choices)
    segment = django_filters.ChoiceFilter(choices=customer_segments)
    relationship_manager = OwnerFilter("managed_customers", label="Relationship manager")
    unit = UnitFilter()
    retired = RetiredFilter()

    class Meta:
        model = Customer
        fields = ["q", "kind", "segment", "relationship_manager", "unit", "retired"]


class SupplierFilterSet(CustomFieldFiltersMixin, AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "website", "external_id")

    owner = OwnerFilter("managed_suppliers")
    unit = UnitFilter()
    retired = RetiredFilter()

    class Meta:
        model = Supplier
        fields = ["q", "owner", "unit", "retired"]


class ContractFilterSet(CustomFieldFiltersMixin, AlwaysBoundFilterSet):
    """Needs the queryset annotated with ``notice_deadline`` (selectors.with_notice_deadline)."""

    search_fields = ("reference", "title", "supplier__name", "external_id")

    supplier = django_filters.ModelChoiceFilter(
        queryset=lambda request: Supplier.objects.order_by(natural("name")),
        to_field_name="slug",
    )
    owner = OwnerFilter("managed_contracts")
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


class ApplicationFilterSet(CustomFieldFiltersMixin, AlwaysBoundFilterSet):
    search_fields = ("name", "slug", "description", "external_id")

    lifecycle = django_filters.ChoiceFilter(choices=ApplicationLifecycle.choices)
    disposition = django_filters.ChoiceFilter(
        choices=TimeDisposition.choices, label="TIME disposition"
    )
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices)
    vendor = django_filters.ModelChoiceFilter(
        queryset=lambda request: Supplier.objects.filter(
            pk__in=Application.objects.values("vendor_id")
        ).order_by(natural("name")),
        to_field_name="slug",
    )
    owner = OwnerFilter("owned_applications")
    unit = UnitFilter()
    retired = RetiredFilter()

    class Meta:
        model = Application
        fields = [
            "q",
            "lifecycle",
            "disposition",
            "criticality",
            "vendor",
            "owner",
            "unit",
            "retired",
        ]
