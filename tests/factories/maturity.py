"""Factories of the maturity app: parties, assessments, self-assessments and snapshots.

``AssessmentFactory(party=..., level=3)`` stores an assessment whose answers give level 3 by
the level rule (the rule itself is tested through maturity.services).
"""

import datetime

import factory

from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.models import BalanceSelfAssessment
from maturity.models import BalanceSnapshot
from maturity.models import Party
from maturity.questionnaire import answers_for_level
from tests.factories import UserFactory
from tests.factories.people import OrganisationUnitFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import OutcomeFactory
from tests.factories.portfolio import ServiceFactory


class ProviderUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    kind = PartyKind.PROVIDER
    unit = factory.SubFactory(OrganisationUnitFactory)


class OrganisationFactory(factory.django.DjangoModelFactory):
    """The provider as a whole (there is one)."""

    class Meta:
        model = Party
        django_get_or_create = ("kind", "unit")

    kind = PartyKind.PROVIDER
    unit = None


class CustomerPartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    kind = PartyKind.CUSTOMER
    customer = factory.SubFactory(CustomerFactory)
    served_by = None


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    party = factory.SubFactory(CustomerPartyFactory)
    assessed_on = datetime.date(2025, 1, 15)
    level = 3
    computed_level = factory.SelfAttribute("level")
    override_level = None
    override_reason = ""
    answers = factory.LazyAttribute(lambda o: answers_for_level(o.party.kind, o.computed_level))
    assessor = None


class SelfAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BalanceSelfAssessment

    assessed_on = datetime.date(2025, 1, 15)
    customer_focus = 70
    process_orientation = 70
    cost_optimisation = 70


class BalanceSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BalanceSnapshot

    taken_on = factory.Sequence(lambda n: datetime.date(2024, 1, 1) + datetime.timedelta(days=n))
    customer_focus = 50
    process_orientation = 50
    cost_optimisation = 50


def populate(customers: int, rounds: int) -> None:
    """The maturity of an organisation: ``rounds`` assessments, a month apart, of the
    organisation, of a unit and of each of ``customers`` customers (every other one served by
    the unit), an outcome of a live service for each customer, a balance snapshot and a
    self-assessment."""
    owner = UserFactory(username="populated-owner")
    organisation = OrganisationFactory()
    unit = ProviderUnitFactory()
    for n in range(rounds):
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * n)
        AssessmentFactory(party=organisation, level=1 + n % 5, assessed_on=day)
        AssessmentFactory(party=unit, level=1 + n % 3, assessed_on=day)
    for c in range(customers):
        party = CustomerPartyFactory(served_by=unit if c % 2 else None)
        for n in range(rounds):
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * n)
            AssessmentFactory(party=party, level=1 + (c + n) % 5, assessed_on=day)
        OutcomeFactory(
            subscription__customer=party.customer,
            subscription__service=ServiceFactory(lifecycle="live", owner=owner),
        )
    BalanceSnapshotFactory()
    SelfAssessmentFactory()
    ServiceFactory(lifecycle="live", owner=owner)
