"""Factories of value streams, stages, processes and the improvement log.

A value stream needs an owner (PROTECT, not null); pass one to avoid creating a user, which
hashes a password and is slow.
"""

import datetime
from decimal import Decimal

import factory
from django.utils.text import slugify

from tests.factories import UserFactory
from valuestreams.choices import Effort
from valuestreams.choices import Experience
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import StreamState
from valuestreams.choices import TimeUnit
from valuestreams.choices import ValueClass
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import StageApplication
from valuestreams.models import StageService
from valuestreams.models import ValueStream


class ValueStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValueStream

    name = factory.Sequence(lambda n: f"Deliver outcome {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    owner = factory.SubFactory(UserFactory, role="Value-stream owner")
    customer = None
    segment = "Retail customers"
    experience = Experience.CUSTOMER
    trigger = "A customer asks for something."
    result = "The customer has what they asked for."
    state = StreamState.CURRENT
    current_state = None

    class Params:
        future = factory.Trait(
            state=StreamState.FUTURE,
            current_state=factory.SubFactory(
                "tests.factories.valuestreams.ValueStreamFactory",
                owner=factory.SelfAttribute("..owner"),
            ),
        )


class StageFactory(factory.django.DjangoModelFactory):
    """A stage of 30 minutes' work in 2 hours, 90 % complete and accurate."""

    class Meta:
        model = Stage
        skip_postgeneration_save = True

    value_stream = factory.SubFactory(ValueStreamFactory)
    position = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"Handle step {n}")
    responsible_party = "Team"
    process_time_minutes = Decimal(30)
    process_time_unit = TimeUnit.MINUTES
    lead_time_minutes = Decimal(120)
    lead_time_unit = TimeUnit.HOURS
    complete_accurate = Decimal(90)
    value_class = ValueClass.VALUE_ADDING
    moment_of_truth = False

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class StageServiceFactory(factory.django.DjangoModelFactory):
    """A service underpinning a stage (each made with its own stream and owner)."""

    class Meta:
        model = StageService

    stage = factory.SubFactory(StageFactory)
    service = factory.SubFactory("tests.factories.portfolio.ServiceFactory")


class StageApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageApplication

    stage = factory.SubFactory(StageFactory)
    application = factory.SubFactory("tests.factories.portfolio.ApplicationFactory")


class ProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Process
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Handle request {n}")
    value_stream = None
    trigger = "A customer asks."
    result = "The customer is answered."
    activities = factory.LazyFunction(list)

    @factory.post_generation
    def stages(self, create, extracted, **kwargs):
        if create and extracted:
            self.stages.set(extracted)


class ProcessConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessConnection

    process = factory.SubFactory(ProcessFactory)
    connected_to = factory.SubFactory(ProcessFactory)


class ImprovementFactory(factory.django.DjangoModelFactory):
    """Lead time from 5 days to 2 (a benefit of 60) at medium effort: priority 30."""

    class Meta:
        model = Improvement

    value_stream = factory.SubFactory(ValueStreamFactory)
    stage = None
    service = None
    title = factory.Sequence(lambda n: f"Improvement {n}")
    suggested_by = factory.SelfAttribute("value_stream.owner")
    suggested_on = datetime.date(2025, 3, 1)
    benefit_metric = "Lead time"
    benefit_from = Decimal(5)
    benefit_to = Decimal(2)
    benefit_unit = "days"
    effort = Effort.MEDIUM
    status = ImprovementStatus.PROPOSED
    measured_before = None
    measured_after = None
