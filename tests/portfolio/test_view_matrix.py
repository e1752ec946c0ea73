"""Who may do what on the portfolio's pages, and their queries: one spec per model (tests/views.py
turns each into its cases). Owners are service owners: of a service, of a customer as its
relationship manager, of a supplier (and so of its contracts), of an application; they and
Portfolio managers edit and remove what they own, and the rows on its page."""

import datetime
from decimal import Decimal

from core import roles
from portfolio import services
from portfolio.models import Application
from portfolio.models import Contract
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Supplier
from tests.factories import UserFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SpecificationItemFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.portfolio import SupplierFactory
from tests.portfolio.helpers import APPLICATION_DATA
from tests.portfolio.helpers import OUTCOME_DATA
from tests.portfolio.helpers import contract_data
from tests.portfolio.helpers import subscription_data
from tests.views import EMPTY
from tests.views import GRANTS
from tests.views import NO_ROLE
from tests.views import OTHER_OWNER
from tests.views import OWNER
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import changed_from_april
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import gone
from tests.views import listing
from tests.views import post
from tests.views import read
from tests.views import role_persona
from tests.views import view_tests

PORTFOLIO_MANAGER = role_persona(roles.PORTFOLIO_MANAGER)


# --- Services, their specification items and dependencies ------------------------------------

SERVICE_DATA = {
    "name": "Renamed",
    "kind": "customer_facing",
    "lifecycle": "pipeline",
    "criticality": "high",
}


def make_service(owner):
    return ServiceFactory(owner=owner)


def delegated_service(owner):
    """A service of ``owner``, who is its delegate too."""
    service = ServiceFactory(kind="supporting", owner=owner)
    service.delegates.add(owner)
    return service


def more_services(service, owner):
    for _ in range(30):
        delegated_service(owner)


def service_with_a_provider(owner):
    """A service depending on one of twelve other services."""
    service = make_service(owner)
    providers = [ServiceFactory(name=f"Provider {n}", kind="supporting") for n in range(12)]
    services.save_dependency(dependency=ServiceDependency(consumer=service, provider=providers[0]))
    return service


def dependencies_and_items(service, owner):
    """The other eleven: the service depends on each, each on the first; an item for each."""
    first, *others = Service.objects.filter(name__startswith="Provider ").order_by("name")
    for other in others:
        services.save_dependency(dependency=ServiceDependency(consumer=service, provider=other))
        services.save_dependency(dependency=ServiceDependency(consumer=other, provider=first))
        services.add_specification_item(
            item=SpecificationItem(
                service=service, aspect="support", dimension="functionality", title=other.name
            )
        )


def service_added(_service):
    assert Service.objects.filter(name="Hosting", kind="supporting").exists()


def service_renamed(service):
    assert fresh(service).name == "Renamed"


SERVICE = ViewSpec(
    name="services",
    make=make_service,
    url_args=lambda service: [service.slug],
    owner_role=roles.SERVICE_OWNER,
    grants={**GRANTS, "add": (roles.SERVICE_OWNER, roles.PORTFOLIO_MANAGER)},
    label=lambda service: service.name,
    actions={
        "list": listing("portfolio:service_list"),
        "mine": read(
            "portfolio:my_services",
            args=lambda service: [],
            # A page of one's own services: the owner's lists it, everyone else's is empty.
            expect=dict.fromkeys((NO_ROLE, OTHER_OWNER, *map(role_persona, roles.ROLES)), EMPTY),
        ),
        "detail": read("portfolio:service_detail"),
        "impact": read("portfolio:service_impact"),
        "add": add(
            "portfolio:service_add",
            data=lambda service: {**SERVICE_DATA, "name": "Hosting", "kind": "supporting"},
            done=service_added,
        ),
        "edit": edit(
            "portfolio:service_edit", data=lambda service: SERVICE_DATA, done=service_renamed
        ),
        "delete": delete("portfolio:service_delete"),
    },
    queries={
        "list": Queries(bound=12, make=delegated_service, populate=more_services, rows=31),
        "detail": Queries(
            bound=40,
            make=service_with_a_provider,
            populate=dependencies_and_items,
            persona=PORTFOLIO_MANAGER,
        ),
    },
)
test_service_views = view_tests(SERVICE)


def make_item(owner):
    """The second of three items of a facility's functionality."""
    service = make_service(owner)
    items = [
        SpecificationItemFactory(service=service, position=position, title=title)
        for position, title in enumerate(("Register", "Assess", "Pay"))
    ]
    return items[1]


def item_titles(item) -> list[str]:
    return list(
        SpecificationItem.objects.filter(service=item.service_id)
        .order_by("position")
        .values_list("title", flat=True)
    )


def item_added(item):
    assert item_titles(item) == ["Register", "Assess", "Pay", "Another"]


def item_changed(item):
    assert item_titles(item) == ["Register", "Changed", "Pay"]


def item_up(item):
    assert item_titles(item) == ["Assess", "Register", "Pay"]


def item_down(item):
    assert item_titles(item) == ["Register", "Pay", "Assess"]


def item_removed(item):
    assert item_titles(item) == ["Register", "Pay"]


def item_args(item):
    return [item.service.slug, item.pk]


ITEM = ViewSpec(
    name="specification items",
    make=make_item,
    url_args=item_args,
    owner_role=roles.SERVICE_OWNER,
    actions={
        "add": add(
            "portfolio:item_add",
            args=lambda item: [item.service.slug, "facility", "functionality"],
            needs="change",
            data=lambda item: {"title": "Another"},
            done=item_added,
        ),
        "edit": edit(
            "portfolio:item_edit", data=lambda item: {"title": "Changed"}, done=item_changed
        ),
        "up": post("portfolio:item_up", done=item_up),
        "down": post("portfolio:item_down", done=item_down),
        "remove": post("portfolio:item_remove", done=item_removed),
    },
)
test_specification_item_views = view_tests(ITEM)


def make_dependency(owner):
    return ServiceDependencyFactory(consumer=make_service(owner))


def dependency_added(dependency):
    providers = dependency.consumer.provider_links.values_list("provider__name", flat=True)
    assert sorted(providers) == sorted([dependency.provider.name, "Hosting"])


DEPENDENCY = ViewSpec(
    name="service dependencies",
    make=make_dependency,
    url_args=lambda dependency: [dependency.consumer.slug, dependency.pk],
    owner_role=roles.SERVICE_OWNER,
    actions={
        "add": post(
            "portfolio:dependency_add",
            args=lambda dependency: [dependency.consumer.slug],
            data=lambda dependency: {
                "provider": ServiceFactory(name="Hosting", kind="supporting").slug,
                "weight": "1",
            },
            done=dependency_added,
        ),
        "remove": post("portfolio:dependency_remove", done=gone),
        "change from a month": edit(
            "portfolio:dependency_change_from_month",
            data=lambda dependency: {"month": "2025-04", "weight": "3"},
            done=changed_from_april,
        ),
    },
)
test_dependency_views = view_tests(DEPENDENCY)


# --- Customers, their subscriptions and outcomes ---------------------------------------------


def make_customer(owner):
    return CustomerFactory(relationship_manager=owner)


def customer_added(_customer):
    assert Customer.objects.get(name="Corporate clients").slug == "corporate-clients"


def customer_renamed(customer):
    renamed = fresh(customer)
    assert (renamed.name, renamed.segment, renamed.slug) == (
        "Fleet operators (EU)",
        "Commercial",
        customer.slug,  # a new name keeps the address
    )


def more_customers(customer, owner):
    managers = [owner, UserFactory(username="another-manager")]
    for n in range(30):
        other = CustomerFactory(relationship_manager=managers[n % 2], segment=f"S{n % 4}")
        SubscriptionFactory.create_batch(2, customer=other)


def subscriptions_with_outcomes(customer, owner):
    for _ in range(10):
        OutcomeFactory.create_batch(2, subscription=SubscriptionFactory(customer=customer))


def make_customer_with_a_subscription(owner):
    customer = make_customer(owner)
    SubscriptionFactory(customer=customer)
    return customer


CUSTOMER = ViewSpec(
    name="customers",
    make=make_customer,
    url_args=lambda customer: [customer.slug],
    owner_role=roles.SERVICE_OWNER,
    label=lambda customer: customer.name,
    actions={
        "list": listing("portfolio:customer_list"),
        "detail": read("portfolio:customer_detail"),
        "review-pack": read("finance:review_pack"),
        "add": add(
            "portfolio:customer_add",
            data=lambda customer: {"name": "Corporate clients", "kind": "external"},
            done=customer_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:customer_edit",
            data=lambda customer: {
                "name": "Fleet operators (EU)",
                "kind": "external",
                "segment": "Commercial",
                "relationship_manager": customer.relationship_manager_id,
            },
            done=customer_renamed,
            htmx=True,
            success=200,
        ),
        "delete": delete("portfolio:customer_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            make=make_customer_with_a_subscription,
            populate=more_customers,
            rows=31,
            persona=PORTFOLIO_MANAGER,
            exact=True,
            htmx=True,
            htmx_query={"sort": "-annual_revenue"},
        ),
        "detail": Queries(
            bound=40,
            make=make_customer_with_a_subscription,
            populate=subscriptions_with_outcomes,
            persona=OWNER,
            exact=True,
        ),
    },
)
test_customer_views = view_tests(CUSTOMER)


def make_subscription(owner):
    """A subscription of a customer whose relationship manager is ``owner``."""
    return SubscriptionFactory(customer=make_customer(owner))


def subscription_added(subscription):
    added = subscription.customer.subscriptions.exclude(pk=subscription.pk).get()
    assert (added.service, added.units, added.unit_name) == (subscription.service, 20, "vehicle")


def subscription_changed(subscription):
    assert fresh(subscription).units == 30


SUBSCRIPTION = ViewSpec(
    name="subscriptions",
    make=make_subscription,
    url_args=lambda subscription: [subscription.customer.slug, subscription.pk],
    owner_role=roles.SERVICE_OWNER,
    actions={
        "add": add(
            "portfolio:subscription_add",
            args=lambda subscription: [subscription.customer.slug],
            needs="change",
            data=lambda subscription: subscription_data(subscription.service),
            done=subscription_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:subscription_edit",
            data=lambda subscription: subscription_data(subscription.service, units="30"),
            done=subscription_changed,
            htmx=True,
            success=200,
        ),
        "remove": post("portfolio:subscription_remove", needs="delete", done=gone),
    },
)
test_subscription_views = view_tests(SUBSCRIPTION)


def make_outcome(owner):
    return OutcomeFactory(subscription=make_subscription(owner))


def outcome_added(outcome):
    statements = outcome.subscription.outcomes.values_list("statement", flat=True)
    assert sorted(statements) == sorted([outcome.statement, OUTCOME_DATA["statement"]])


def outcome_changed(outcome):
    changed = fresh(outcome)
    assert (changed.statement, changed.metric) == (
        OUTCOME_DATA["statement"],
        OUTCOME_DATA["metric"],
    )


OUTCOME = ViewSpec(
    name="Successful Customer Outcomes",
    make=make_outcome,
    url_args=lambda outcome: [outcome.subscription.customer.slug, outcome.pk],
    owner_role=roles.SERVICE_OWNER,
    actions={
        "add": add(
            "portfolio:outcome_add",
            args=lambda outcome: [outcome.subscription.customer.slug, outcome.subscription_id],
            needs="change",
            data=lambda outcome: OUTCOME_DATA,
            done=outcome_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:outcome_edit",
            data=lambda outcome: OUTCOME_DATA,
            done=outcome_changed,
            htmx=True,
            success=200,
        ),
        "remove": post("portfolio:outcome_remove", needs="delete", done=gone),
    },
)
test_outcome_views = view_tests(OUTCOME)


# --- Suppliers, contracts and what contracts cover ---------------------------------------------


def make_supplier(owner):
    return SupplierFactory(owner=owner)


def supplier_added(_supplier):
    assert Supplier.objects.filter(name="Hostco").exists()


def supplier_changed(supplier):
    changed = fresh(supplier)
    assert (changed.name, changed.website) == ("Claimsoft BV", "https://claimsoft.example")


def more_suppliers(supplier, owner):
    owners = [owner, UserFactory(username="another-owner")]
    for n in range(30):
        ContractFactory.create_batch(2, supplier=SupplierFactory(owner=owners[n % 2]))


SUPPLIER = ViewSpec(
    name="suppliers",
    make=make_supplier,
    url_args=lambda supplier: [supplier.slug],
    owner_role=roles.SERVICE_OWNER,
    label=lambda supplier: supplier.name,
    actions={
        "list": listing("portfolio:supplier_list"),
        "detail": read("portfolio:supplier_detail"),
        "add": add(
            "portfolio:supplier_add",
            data=lambda supplier: {"name": "Hostco"},
            done=supplier_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:supplier_edit",
            data=lambda supplier: {
                "name": "Claimsoft BV",
                "website": "https://claimsoft.example",
                "owner": supplier.owner_id,
            },
            done=supplier_changed,
            htmx=True,
            success=200,
        ),
        "delete": delete("portfolio:supplier_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            make=lambda owner: ContractFactory(supplier=make_supplier(owner)).supplier,
            populate=more_suppliers,
            rows=31,
            persona=PORTFOLIO_MANAGER,
            exact=True,
            htmx=True,
            htmx_query={"sort": "-annual_value"},
        ),
    },
)
test_supplier_views = view_tests(SUPPLIER)


def make_contract(owner):
    """A contract of a supplier ``owner`` manages."""
    return ContractFactory(supplier=make_supplier(owner))


def contract_added(contract):
    assert Contract.objects.filter(supplier=contract.supplier, reference="CS-2").exists()


def contract_renamed(contract):
    changed = fresh(contract)
    assert changed.title == "Renamed" and changed.auto_renewal


def contract_edit_data(contract) -> dict:
    return contract_data(
        contract.supplier,
        reference=contract.reference,
        title="Renamed",
        owner=contract.owner_id or "",
    )


def more_contracts(contract, owner):
    suppliers = SupplierFactory.create_batch(3, owner=owner)
    today = datetime.date.today()
    for n in range(40):
        ContractFactory(
            supplier=suppliers[n % 3], owner=owner, renewal_date=today + datetime.timedelta(n)
        )


CONTRACT = ViewSpec(
    name="contracts",
    make=make_contract,
    owner_role=roles.SERVICE_OWNER,
    label=lambda contract: contract.reference,
    actions={
        "list": listing("portfolio:contract_list"),
        "detail": read("portfolio:contract_detail"),
        "add": add(
            "portfolio:contract_add",
            data=lambda contract: contract_data(contract.supplier),
            done=contract_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:contract_edit",
            data=contract_edit_data,
            done=contract_renamed,
            htmx=True,
            success=200,
        ),
        "delete": delete("portfolio:contract_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            make=lambda owner: ContractFactory(
                supplier=make_supplier(owner),
                owner=owner,
                renewal_date=datetime.date.today() + datetime.timedelta(60),
            ),
            populate=more_contracts,
            rows=41,
            persona=PORTFOLIO_MANAGER,
            exact=True,
            htmx=True,
            htmx_query={"sort": "supplier", "page": "1"},
        ),
    },
)
test_contract_views = view_tests(CONTRACT)

# A contract has a second owner: the person named on it, who may edit it whatever their role.
CONTRACT_BY_ITS_OWN_OWNER = ViewSpec(
    name="contracts, by the person named on them",
    make=lambda owner: ContractFactory(owner=owner),
    owner_role=roles.VIEWER,
    owner_may=("change",),
    actions={
        "edit": edit(
            "portfolio:contract_edit",
            data=contract_edit_data,
            done=contract_renamed,
            htmx=True,
            success=200,
        ),
    },
)
test_contract_views_by_its_own_owner = view_tests(CONTRACT_BY_ITS_OWN_OWNER)


def make_coverage(owner):
    return ContractCoverageFactory(contract=make_contract(owner))


def coverage_added(coverage):
    assert coverage.contract.coverages.filter(application__isnull=False, weight=2).count() == 1


def coverage_changed(coverage):
    assert fresh(coverage).weight == Decimal("3.5")


COVERAGE = ViewSpec(
    name="contract coverages",
    make=make_coverage,
    url_args=lambda coverage: [coverage.contract_id, coverage.pk],
    owner_role=roles.SERVICE_OWNER,
    actions={
        "add": add(
            "portfolio:coverage_add",
            args=lambda coverage: [coverage.contract_id],
            needs="change",
            data=lambda coverage: {"application": ApplicationFactory().slug, "weight": "2"},
            done=coverage_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:coverage_edit",
            data=lambda coverage: {"weight": "3.5"},
            done=coverage_changed,
            htmx=True,
            success=200,
        ),
        "remove": post("portfolio:coverage_remove", needs="delete", done=gone),
    },
)
test_coverage_views = view_tests(COVERAGE)


# --- Applications and the services they support -----------------------------------------------


def make_application(owner):
    return ApplicationFactory(owner=owner)


def application_added(_application):
    assert Application.objects.filter(slug="policy-core", disposition="invest").exists()


def application_changed(application):
    assert fresh(application).disposition == "migrate"


def more_applications(application, owner):
    vendors = [application.vendor, SupplierFactory()]
    for n in range(30):
        other = ApplicationFactory(owner=owner, vendor=vendors[n % 2])
        ApplicationSupportFactory.create_batch(2, application=other)


def application_of_a_vendor_with_a_support(owner):
    application = ApplicationFactory(owner=owner, vendor=SupplierFactory())
    ApplicationSupportFactory(application=application)
    return application


APPLICATION = ViewSpec(
    name="applications",
    make=make_application,
    url_args=lambda application: [application.slug],
    owner_role=roles.SERVICE_OWNER,
    label=lambda application: application.name,
    actions={
        "list": listing("portfolio:application_list"),
        "detail": read("portfolio:application_detail"),
        "add": add(
            "portfolio:application_add",
            data=lambda application: APPLICATION_DATA,
            done=application_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:application_edit",
            data=lambda application: {
                **APPLICATION_DATA,
                "name": application.name,
                "disposition": "migrate",
                "owner": application.owner_id,
            },
            done=application_changed,
            htmx=True,
            success=200,
        ),
        "delete": delete("portfolio:application_delete"),
    },
    queries={
        "list": Queries(
            bound=12,
            make=application_of_a_vendor_with_a_support,
            populate=more_applications,
            rows=31,
            persona=PORTFOLIO_MANAGER,
            exact=True,
            htmx=True,
            htmx_query={"sort": "-support_count"},
        ),
    },
)
test_application_views = view_tests(APPLICATION)


def make_support(owner):
    return ApplicationSupportFactory(application=make_application(owner))


def support_added(support):
    supported = support.application.supports.values_list("service__name", flat=True)
    assert sorted(supported) == sorted([support.service.name, "Policy self-service"])


def support_changed(support):
    assert fresh(support).weight == 5


SUPPORT = ViewSpec(
    name="application supports",
    make=make_support,
    url_args=lambda support: [support.application.slug, support.pk],
    owner_role=roles.SERVICE_OWNER,
    actions={
        "add": add(
            "portfolio:support_add",
            args=lambda support: [support.application.slug],
            needs="change",
            data=lambda support: {
                "service": ServiceFactory(name="Policy self-service").slug,
                "weight": "2",
            },
            done=support_added,
            htmx=True,
            success=200,
        ),
        "edit": edit(
            "portfolio:support_edit",
            data=lambda support: {"weight": "5"},
            done=support_changed,
            htmx=True,
            success=200,
        ),
        "remove": post("portfolio:support_remove", needs="delete", done=gone),
    },
)
test_support_views = view_tests(SUPPORT)
