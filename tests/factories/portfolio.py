"""Factories of the service portfolio and the portfolios around it.

Owners are left empty unless a test names one: creating a user hashes a password, which is
slow, and most tests need only a few people. ``ServiceFactory(live=True)`` gives a live
service with an owner of its own.
"""

import datetime
from decimal import Decimal

import factory
from django.utils.text import slugify

from portfolio.choices import ApplicationLifecycle
from portfolio.choices import Aspect
from portfolio.choices import Comparator
from portfolio.choices import CustomerKind
from portfolio.choices import Dimension
from portfolio.choices import MeasurementWindow
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
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
from tests.factories import UserFactory


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = ServiceKind.CUSTOMER_FACING
    lifecycle = ServiceLifecycle.PIPELINE
    owner = None

    class Params:
        live = factory.Trait(
            lifecycle=ServiceLifecycle.LIVE,
            live_on=datetime.date(2024, 1, 1),
            owner=factory.SubFactory(UserFactory),
        )


class SpecificationItemFactory(factory.django.DjangoModelFactory):
    """A facility functionality statement; ``functioning=True`` gives a measurable item."""

    class Meta:
        model = SpecificationItem

    service = factory.SubFactory(ServiceFactory)
    aspect = Aspect.FACILITY
    dimension = Dimension.FUNCTIONALITY
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Item {n}")

    class Params:
        functioning = factory.Trait(
            dimension=Dimension.FUNCTIONING,
            metric="Availability",
            comparator=Comparator.AT_LEAST,
            target=Decimal("99.5"),
            unit="%",
            window=MeasurementWindow.MONTH,
        )


class ServiceDependencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceDependency

    consumer = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ServiceFactory, kind=ServiceKind.SUPPORTING)
    weight = Decimal(1)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = CustomerKind.EXTERNAL
    segment = "Retail"
    relationship_manager = None


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """Ten users at 12.50 a month each: 1,500.00 a year."""

    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    service = factory.SubFactory(ServiceFactory)
    units = Decimal(10)
    unit_name = "user"
    price_per_unit = Decimal("12.50")
    annual_charge = None
    currency = "EUR"
    start_date = datetime.date(2024, 1, 1)
    end_date = None


class OutcomeFactory(factory.django.DjangoModelFactory):
    """A measurable Successful Customer Outcome."""

    class Meta:
        model = Outcome

    subscription = factory.SubFactory(SubscriptionFactory)
    statement = factory.Sequence(lambda n: f"Our claims are settled within a week ({n})")
    metric = "Claims settled within 7 days"
    target = Decimal(95)
    unit = "%"


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    website = ""
    owner = None


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    supplier = factory.SubFactory(SupplierFactory)
    reference = factory.Sequence(lambda n: f"C-{n:04d}")
    title = factory.Sequence(lambda n: f"Support agreement {n}")
    start_date = datetime.date(2024, 1, 1)
    end_date = None
    renewal_date = None
    notice_period_days = 90
    auto_renewal = False
    annual_value = Decimal("12000.00")
    currency = "EUR"
    owner = None


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"Application {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    lifecycle = ApplicationLifecycle.ACTIVE
    owner = None
    vendor = None


class ContractCoverageFactory(factory.django.DjangoModelFactory):
    """Covers a service unless an application is given."""

    class Meta:
        model = ContractCoverage

    contract = factory.SubFactory(ContractFactory)
    service = factory.Maybe(
        "application", yes_declaration=None, no_declaration=factory.SubFactory(ServiceFactory)
    )
    application = None
    weight = Decimal(1)


class ApplicationSupportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationSupport

    application = factory.SubFactory(ApplicationFactory)
    service = factory.SubFactory(ServiceFactory)
    weight = Decimal(1)
