import django_filters
from django import forms
from django.core.exceptions import ValidationError

from core.filtersets import AlwaysBoundFilterSet
from core.filtersets import OwnerFilter
from core.filtersets import SearchFilterSet
from core.ordering import natural
from core.translations import translated
from finance.charts import GROUPS
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import NodeKind
from finance.choices import PeriodStatus
from finance.choices import PoolType
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.models import LABEL_FORMAT
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import parse_label
from people.filtersets import UnitFilter
from portfolio.choices import ServiceKind
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import Subscription
from valuestreams.models import Stage
from valuestreams.models import ValueStream


class PeriodLabelFilter(django_filters.CharFilter):
    """A period written YYYY-MM, on ``field_name`` (a foreign key to Period)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "Period")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        value = (value or "").strip()
        if not value:
            return queryset
        try:
            year, month = parse_label(value)
        except ValidationError:
            return queryset.none()
        prefix = f"{self.field_name}__" if self.field_name else ""
        return queryset.filter(**{f"{prefix}year": year, f"{prefix}month": month})


def _period_placeholder(filterset, name="period"):
    if name in filterset.form.fields:
        filterset.form.fields[name].widget.attrs.setdefault("placeholder", LABEL_FORMAT)


class CostItemFilterSet(SearchFilterSet):
    search_fields = ("description", "external_id", "source")

    period = PeriodLabelFilter(field_name="period")
    category = django_filters.ChoiceFilter(choices=CostCategory.choices)
    expenditure = django_filters.ChoiceFilter(choices=Expenditure.choices)
    target = django_filters.ChoiceFilter(
        choices=NodeKind.choices, method="filter_target", label="Target"
    )
    currency = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = CostItem
        fields = ["q", "period", "category", "expenditure", "target", "currency"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _period_placeholder(self)

    def filter_target(self, queryset, name, value):
        return queryset.filter(**{f"{value}__isnull": False}) if value else queryset


class CostPoolFilterSet(SearchFilterSet):
    search_fields = ("name", "description", "slug", "external_id")

    pool_type = django_filters.ChoiceFilter(choices=PoolType.choices)
    unit = UnitFilter()
    retired = django_filters.BooleanFilter(
        field_name="retired_at", lookup_expr="isnull", exclude=True, label="Retired"
    )

    class Meta:
        model = CostPool
        fields = ["q", "pool_type", "unit", "retired"]


class ExchangeRateFilterSet(SearchFilterSet):
    search_fields = ("currency", "external_id")

    period = PeriodLabelFilter(field_name="period")

    class Meta:
        model = ExchangeRate
        fields = ["q", "period"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _period_placeholder(self)


class DriverFilterSet(SearchFilterSet):
    search_fields = ("name", "unit", "description", "slug", "external_id")

    retired = django_filters.BooleanFilter(
        field_name="retired_at", lookup_expr="isnull", exclude=True, label="Retired"
    )

    class Meta:
        model = Driver
        fields = ["q", "retired"]


class DriverQuantityFilterSet(SearchFilterSet):
    search_fields = ("service__name", "application__name", "external_id", "source")

    period = PeriodLabelFilter(field_name="period")
    driver = django_filters.ModelChoiceFilter(
        queryset=Driver.objects.all(), to_field_name="slug", label="Driver"
    )

    class Meta:
        model = DriverQuantity
        fields = ["q", "driver", "period"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _period_placeholder(self)


class PeriodFilterSet(SearchFilterSet):
    status = django_filters.ChoiceFilter(choices=PeriodStatus.choices)
    year = django_filters.NumberFilter()

    class Meta:
        model = Period
        fields = ["status", "year"]

    def search(self, queryset, name, value):
        return queryset


class TcoRunFilterSet(SearchFilterSet):
    search_fields = ("error", "note")

    period = PeriodLabelFilter(field_name="period")
    outcome = django_filters.ChoiceFilter(choices=RunOutcome.choices)
    trigger = django_filters.ChoiceFilter(choices=RunTrigger.choices)

    class Meta:
        model = TcoRun
        fields = ["q", "period", "outcome", "trigger"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _period_placeholder(self)


# A road of the flow chart (its group node) -> the figure of what reached services by it.
ROAD_FIGURES = {
    NodeKind.CONTRACT.value: "received_contracts",
    NodeKind.APPLICATION.value: "received_applications",
    NodeKind.POOL.value: "received_pools",
    NodeKind.SERVICE.value: "direct",
}
NODE_ERROR = (
    "Choose a node of the flow chart: service:<number>, category:<category> or road:<road>."
)


def parse_node(value: str) -> tuple[str, str]:
    """A flow chart node's filter value (finance.charts: ``service:12``, ``category:vendor``,
    ``road:contract``) as (kind, key); ValidationError naming what is wrong."""
    kind, _, key = value.strip().partition(":")
    if kind == "service" and key.isdigit():
        return kind, key
    if kind == "category" and key in CostCategory.values:
        return kind, key
    if kind == "road" and key in ROAD_FIGURES:
        return kind, key
    raise ValidationError(NODE_ERROR, code="invalid")


def describe_node(value: str) -> str:
    """The name of the flow chart node ``value`` stands for (empty when it is not one)."""
    try:
        kind, key = parse_node(value)
    except ValidationError:
        return ""
    if kind == "category":
        return str(CostCategory(key).label)
    if kind == "road":
        return GROUPS[key][0]
    service = Service.objects.filter(pk=int(key)).first()
    return translated(service, "name") if service else ""


def validate_node(value: str) -> None:
    if value:
        parse_node(value)


class FundServicesFilterSet(SearchFilterSet):
    """The filters of the Fund services page, over one period's results. ``node``: the
    services of one node of the flow chart (a link on the node; hidden in the form)."""

    search_fields = ("service__name", "service__slug")

    kind = django_filters.ChoiceFilter(field_name="service__kind", choices=ServiceKind.choices)
    owner = OwnerFilter("owned_services", field_name="service__owner")
    unit = UnitFilter(field_name="service__unit")
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(),
        to_field_name="slug",
        method="filter_customer",
        label="Customer",
    )

    value_stream = django_filters.ModelChoiceFilter(
        queryset=ValueStream.objects.all(),
        to_field_name="slug",
        method="filter_value_stream",
        label="Value stream",
    )

    node = django_filters.CharFilter(
        method="filter_node",
        label="Flow chart node",
        widget=forms.HiddenInput,
        validators=[validate_node],
    )

    class Meta:
        model = TcoResult
        fields = ["q", "kind", "owner", "unit", "customer", "value_stream", "node"]

    def filter_node(self, queryset, name, value):
        """A service node: that service; a category: the services whose TCO has some of it;
        a road (contracts, applications, pools, recorded on services): the services cost
        reached by it."""
        if not value:
            return queryset
        kind, key = parse_node(value)
        if kind == "service":
            return queryset.filter(service_id=int(key))
        if kind == "category":
            return queryset.filter(**{f"tco_{key}__gt": 0})
        return queryset.filter(**{f"{ROAD_FIGURES[key]}__gt": 0})

    def filter_customer(self, queryset, name, value):
        if not value:
            return queryset
        subscribed = Subscription.objects.filter(customer=value).values("service_id")
        return queryset.filter(service_id__in=subscribed)

    def filter_value_stream(self, queryset, name, value):
        """The services that underpin a stage of the value stream."""
        if not value:
            return queryset
        underpinning = Stage.services.through.objects.filter(stage__value_stream=value)
        return queryset.filter(service_id__in=underpinning.values("service_id"))


def _visible_customers(request):
    """The customers the reader may see (none without a request: a filter built for its
    fields alone)."""
    if request is None:
        return Customer.objects.all()
    return Customer.objects.restrict(request.user, "view").order_by(natural("name"))


def validate_period_label(value: str) -> None:
    if value and value.strip():
        parse_label(value)


class StatementFilterSet(AlwaysBoundFilterSet):
    """The Statements list's filters: period, customer, relationship manager, search."""

    search_fields = ("customer__name", "customer__slug")

    period = PeriodLabelFilter(field_name="period")
    customer = django_filters.ModelChoiceFilter(
        queryset=lambda request: _visible_customers(request),
        to_field_name="slug",
        label="Customer",
    )
    relationship_manager = OwnerFilter(
        "managed_customers",
        field_name="customer__relationship_manager",
        label="Relationship manager",
    )

    class Meta:
        model = CustomerStatement
        fields = ["q", "period", "customer", "relationship_manager"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _period_placeholder(self)
        # A period that is not YYYY-MM is refused beside the field, not shown as no rows.
        self.form.fields["period"].validators.append(validate_period_label)
