"""The portfolio's API resources: one declaration each (see core.api.resources)."""

from attestation.api import QUALITY_SCHEMA
from attestation.quality import with_quality
from core.api.resources import Reads
from core.api.resources import Resource
from core.api.resources import Writes
from core.api.resources import register
from core.translations import translations_schema
from performance.selectors import STATUS_SCHEMA
from performance.selectors import with_item_status
from performance.selectors import with_outcome_status
from portfolio import filtersets
from portfolio import selectors
from portfolio import services
from portfolio.api import filtersets as api_filtersets
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier

register(
    Resource(
        "services",
        model=Service,
        fields=(
            "name",
            "slug",
            "summary",
            "translations",
            "kind",
            "lifecycle",
            "criticality",
            "owner",
            "unit",
            "pipeline_on",
            "live_on",
            "retired_on",
            "custom_fields",
        ),
        schemas={"translations": translations_schema("name", "summary")},
        description="A supported facility: a facility and the support that comes with it.",
        reads=Reads(
            computed={
                "is_complete": {
                    "type": "boolean",
                    "description": "All four quadrants of the specification filled, and an owner.",
                },
                **QUALITY_SCHEMA,
            },
            user_lists=("delegates",),
            filterset=filtersets.ServiceFilterSet,
            queryset=lambda qs: with_quality(selectors.with_completeness(qs), None),
        ),
        writes=Writes(
            save=lambda obj, user: services.save_service(service=obj, user=user),
            remove=services.remove_service,
            retire=services.retire_service,
            retired_when=services.service_is_retired,
            retirement=services.service_retirement,
        ),
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
            *SpecificationItem.STATEMENT_FIELDS,
        ),
        read_only=("position",),
        description="One statement of a service's specification, in one of its four quadrants.",
        reads=Reads(
            computed={"status": STATUS_SCHEMA},
            filterset=api_filtersets.SpecificationItemFilterSet,
            queryset=lambda qs: with_item_status(qs, None),
        ),
        writes=Writes(
            save=lambda obj, user: services.save_specification_item(item=obj),
            remove=lambda obj: services.remove_specification_item(item=obj),
        ),
    )
)

register(
    Resource(
        "service-dependencies",
        model=ServiceDependency,
        fields=("consumer", "provider", "weight", "driver", "note", "valid_from", "valid_to"),
        description="The consumer service depends on (is underpinned by) the provider service.",
        reads=Reads(
            filterset=api_filtersets.ServiceDependencyFilterSet,
        ),
        writes=Writes(
            key=("consumer", "provider", "valid_from"),
            save=lambda obj, user: services.save_dependency(dependency=obj),
            remove=lambda obj: services.remove_dependency(dependency=obj),
        ),
    )
)

register(
    Resource(
        "customers",
        model=Customer,
        fields=(
            "name",
            "slug",
            "translations",
            "kind",
            "segment",
            "relationship_manager",
            "unit",
            "custom_fields",
        ),
        schemas={"translations": translations_schema("name")},
        reads=Reads(
            filterset=filtersets.CustomerFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_customer(customer=obj),
            remove=lambda obj: services.remove_customer(customer=obj),
            retire=services.retire_customer,
        ),
    )
)

register(
    Resource(
        "subscriptions",
        model=Subscription,
        fields=(
            "customer",
            "service",
            *Subscription.TERMS,
        ),
        description="The customer consumes the service: how much, at what price.",
        reads=Reads(
            filterset=api_filtersets.SubscriptionFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_subscription(subscription=obj),
            remove=lambda obj: services.remove_subscription(subscription=obj),
        ),
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
            "comparator",
            "target",
            "unit",
            "window",
            "specification_item",
            "agreement",
            "status_override",
            "override_reason",
        ),
        description="A Successful Customer Outcome of a subscription, with its measure.",
        reads=Reads(
            computed={"status": STATUS_SCHEMA},
            filterset=api_filtersets.OutcomeFilterSet,
            queryset=lambda qs: with_outcome_status(qs, None),
        ),
        writes=Writes(
            save=lambda obj, user: services.save_outcome(outcome=obj),
            remove=lambda obj: services.remove_outcome(outcome=obj),
        ),
    )
)

register(
    Resource(
        "suppliers",
        model=Supplier,
        fields=("name", "slug", "website", "owner", "unit", "custom_fields"),
        reads=Reads(
            filterset=filtersets.SupplierFilterSet,
        ),
        writes=Writes(
            save=lambda obj, user: services.save_supplier(supplier=obj),
            remove=lambda obj: services.remove_supplier(supplier=obj),
        ),
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
            "escalation_percent",
            "notice_given_on",
            "owner",
            "custom_fields",
        ),
        reads=Reads(
            computed={
                "notice_deadline": {
                    "type": "string",
                    "format": "date",
                    "nullable": True,
                    "description": "The last day to give notice before it renews or ends.",
                },
                **QUALITY_SCHEMA,
            },
            filterset=filtersets.ContractFilterSet,
            queryset=lambda qs: with_quality(selectors.with_notice_deadline(qs), None),
        ),
        writes=Writes(
            save=lambda obj, user: services.save_contract(contract=obj),
            remove=lambda obj: services.remove_contract(contract=obj),
        ),
    )
)

register(
    Resource(
        "contract-coverages",
        model=ContractCoverage,
        fields=("contract", "service", "application", "weight", "valid_from", "valid_to"),
        description="A contract underpins a service or an application (exactly one of them).",
        reads=Reads(
            filterset=api_filtersets.ContractCoverageFilterSet,
        ),
        writes=Writes(
            key=("contract", "service", "application", "valid_from"),
            save=lambda obj, user: services.save_coverage(coverage=obj),
            remove=lambda obj: services.remove_coverage(coverage=obj),
        ),
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
            "translations",
            "owner",
            "unit",
            "lifecycle",
            "disposition",
            "criticality",
            "vendor",
            "custom_fields",
        ),
        schemas={"translations": translations_schema("name", "description")},
        reads=Reads(
            computed=QUALITY_SCHEMA,
            filterset=filtersets.ApplicationFilterSet,
            queryset=lambda qs: with_quality(qs, None),
        ),
        writes=Writes(
            save=lambda obj, user: services.save_application(application=obj),
            remove=lambda obj: services.remove_application(application=obj),
            retire=services.retire_application,
            retired_when=services.application_is_retired,
            retirement=services.application_retirement,
        ),
    )
)

register(
    Resource(
        "application-supports",
        model=ApplicationSupport,
        fields=("application", "service", "weight", "driver", "valid_from", "valid_to"),
        description=(
            "The application supports the service; its cost is shared by weight, or by the "
            "services' quantities of the driver when the supports are driven."
        ),
        reads=Reads(
            filterset=api_filtersets.ApplicationSupportFilterSet,
        ),
        writes=Writes(
            key=("application", "service", "valid_from"),
            save=lambda obj, user: services.save_application_support(support=obj),
            remove=lambda obj: services.remove_application_support(support=obj),
        ),
    )
)
