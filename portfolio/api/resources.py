"""The portfolio's API resources: one declaration each (see core.api.resources)."""

from core.api.resources import Resource, deleted, register
from portfolio import filtersets, selectors, services
from portfolio.api import bulk
from portfolio.api import filtersets as api_filtersets
from portfolio.models import (
    Application,
    ApplicationSupport,
    Contract,
    ContractCoverage,
    Customer,
    Outcome,
    Service,
    ServiceDependency,
    SpecificationItem,
    Subscription,
    Supplier,
)


def save_item(item, user):
    if item.pk is None:
        return services.add_specification_item(item=item)
    return services.save_specification_item(item=item)


register(
    Resource(
        "services",
        model=Service,
        fields=(
            "name",
            "slug",
            "summary",
            "kind",
            "lifecycle",
            "criticality",
            "owner",
            "pipeline_on",
            "live_on",
            "retired_on",
        ),
        computed={
            "is_complete": {
                "type": "boolean",
                "description": "All four quadrants of the specification filled, and an owner.",
            }
        },
        user_lists=("delegates",),
        filterset=filtersets.ServiceFilterSet,
        queryset=lambda qs: selectors.with_completeness(qs),
        save=lambda obj, user: services.save_service(service=obj, user=user),
        remove=services.remove_service,
        retire=services.retire_service,
        retired_when=bulk.service_is_retired,
        prepare=bulk.prepare_services,
        slug_from="name",
        description="A supported facility: a facility and the support that comes with it.",
    )
)

register(
    Resource(
        "specification-items",
        model=SpecificationItem,
        fields=(
            "service",
            "aspect",
            "dimension",
            "position",
            "title",
            "description",
            "metric",
            "comparator",
            "target",
            "unit",
            "window",
            "actual_value",
            "actual_on",
        ),
        read_only=("position",),
        filterset=api_filtersets.SpecificationItemFilterSet,
        save=save_item,
        remove=deleted(lambda obj: services.remove_specification_item(item=obj)),
        prepare=bulk.prepare_specification_items,
        parents=("service",),
        description="One statement of a service's specification, in one of its four quadrants.",
    )
)

register(
    Resource(
        "service-dependencies",
        model=ServiceDependency,
        fields=("consumer", "provider", "weight", "note"),
        key=("consumer", "provider"),
        filterset=api_filtersets.ServiceDependencyFilterSet,
        save=lambda obj, user: services.save_dependency(dependency=obj),
        remove=deleted(lambda obj: obj.delete()),
        parents=("consumer",),
        description="The consumer service depends on (is underpinned by) the provider service.",
    )
)

register(
    Resource(
        "customers",
        model=Customer,
        fields=("name", "slug", "kind", "segment", "relationship_manager"),
        filterset=filtersets.CustomerFilterSet,
        save=lambda obj, user: services.save_customer(customer=obj),
        remove=lambda obj: services.remove_customer(customer=obj),
        retire=services.retire_customer,
        slug_from="name",
    )
)

register(
    Resource(
        "subscriptions",
        model=Subscription,
        fields=(
            "customer",
            "service",
            "units",
            "unit_name",
            "price_per_unit",
            "annual_charge",
            "currency",
            "start_date",
            "end_date",
        ),
        filterset=api_filtersets.SubscriptionFilterSet,
        save=lambda obj, user: services.save_subscription(subscription=obj),
        remove=lambda obj: services.remove_subscription(subscription=obj),
        prepare=bulk.prepare_subscriptions,
        parents=("customer", "service"),
        description="The customer consumes the service: how much, at what price.",
    )
)

register(
    Resource(
        "outcomes",
        model=Outcome,
        fields=(
            "subscription",
            "statement",
            "metric",
            "target",
            "unit",
            "specification_item",
            "status",
        ),
        filterset=api_filtersets.OutcomeFilterSet,
        save=lambda obj, user: services.save_outcome(outcome=obj),
        remove=deleted(lambda obj: services.remove_outcome(outcome=obj)),
        parents=("subscription",),
        description="A Successful Customer Outcome of a subscription, with its measure.",
    )
)

register(
    Resource(
        "suppliers",
        model=Supplier,
        fields=("name", "slug", "website", "owner"),
        filterset=filtersets.SupplierFilterSet,
        save=lambda obj, user: services.save_supplier(supplier=obj),
        remove=lambda obj: services.remove_supplier(supplier=obj),
        slug_from="name",
    )
)

register(
    Resource(
        "contracts",
        model=Contract,
        fields=(
            "supplier",
            "reference",
            "title",
            "start_date",
            "end_date",
            "notice_period_days",
            "renewal_date",
            "auto_renewal",
            "annual_value",
            "currency",
            "owner",
        ),
        computed={
            "notice_deadline": {
                "type": "string",
                "format": "date",
                "nullable": True,
                "description": "The last day to give notice before it renews or ends.",
            }
        },
        filterset=filtersets.ContractFilterSet,
        queryset=lambda qs: selectors.with_notice_deadline(qs),
        save=lambda obj, user: services.save_contract(contract=obj),
        remove=lambda obj: services.remove_contract(contract=obj),
        prepare=bulk.prepare_contracts,
        parents=("supplier",),
    )
)

register(
    Resource(
        "contract-coverages",
        model=ContractCoverage,
        fields=("contract", "service", "application", "weight"),
        key=("contract", "service", "application"),
        filterset=api_filtersets.ContractCoverageFilterSet,
        save=lambda obj, user: services.save_coverage(coverage=obj),
        remove=deleted(lambda obj: services.remove_coverage(coverage=obj)),
        prepare=bulk.prepare_coverages,
        parents=("contract",),
        description="A contract underpins a service or an application (exactly one of them).",
    )
)

register(
    Resource(
        "applications",
        model=Application,
        fields=(
            "name",
            "slug",
            "description",
            "owner",
            "lifecycle",
            "disposition",
            "criticality",
            "vendor",
        ),
        filterset=filtersets.ApplicationFilterSet,
        save=lambda obj, user: services.save_application(application=obj),
        remove=lambda obj: services.remove_application(application=obj),
        retire=services.retire_application,
        retired_when=bulk.application_is_retired,
        prepare=bulk.prepare_applications,
        slug_from="name",
    )
)

register(
    Resource(
        "application-supports",
        model=ApplicationSupport,
        fields=("application", "service", "weight"),
        key=("application", "service"),
        filterset=api_filtersets.ApplicationSupportFilterSet,
        save=lambda obj, user: services.save_application_support(support=obj),
        remove=deleted(lambda obj: services.remove_application_support(support=obj)),
        parents=("application", "service"),
        description="The application supports the service; its cost is shared by weight.",
    )
)
