"""Mismatch detection per customer relationship, in both directions."""

import datetime

import pytest

from maturity import scoring
from maturity import selectors
from maturity import services
from maturity.choices import MismatchDirection
from tests.factories.maturity import AssessmentFactory
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory
from tests.factories.maturity import ProviderUnitFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import SubscriptionFactory

pytestmark = pytest.mark.django_db

EARLIER = datetime.date(2024, 6, 1)
LATER = datetime.date(2025, 1, 15)


@pytest.mark.parametrize(
    ("provider", "customer", "expected"),
    [
        (2, 4, MismatchDirection.PROVIDER_BEHIND),
        (1, 5, MismatchDirection.PROVIDER_BEHIND),
        (3, 1, MismatchDirection.PROVIDER_AHEAD),
        (5, 3, MismatchDirection.PROVIDER_AHEAD),
        (3, 4, None),
        (4, 3, None),
        (3, 3, None),
    ],
)
def test_mismatch_direction_rule(provider, customer, expected):
    assert scoring.mismatch_direction(provider_level=provider, customer_level=customer) == expected


def test_provider_behind_its_customer_is_flagged_with_its_explanation():
    AssessmentFactory(party=OrganisationFactory(), level=2)
    party = CustomerPartyFactory(customer__name="Claims Division")
    AssessmentFactory(party=party, level=4)

    mismatch = selectors.mismatch_for_customer(party.customer)

    assert mismatch.direction == MismatchDirection.PROVIDER_BEHIND
    assert mismatch.gap == 2
    assert "behind its customer" in mismatch.explanation
    assert "working systems" in mismatch.explanation  # what a level-2 provider offers
    assert "integrated solutions" in mismatch.explanation  # what a level-4 customer wants


def test_provider_offering_more_than_the_customer_seeks_is_flagged():
    AssessmentFactory(party=OrganisationFactory(), level=3)
    party = CustomerPartyFactory(customer__name="Fleet Operators")
    AssessmentFactory(party=party, level=1)

    mismatch = selectors.mismatch_for_customer(party.customer)

    assert mismatch.direction == MismatchDirection.PROVIDER_AHEAD
    assert "cheap goods" in mismatch.explanation
    assert "offering more than its customer seeks" in mismatch.explanation


def test_one_level_apart_is_no_mismatch():
    AssessmentFactory(party=OrganisationFactory(), level=3)
    party = CustomerPartyFactory()
    AssessmentFactory(party=party, level=4)
    assert selectors.mismatch_for_customer(party.customer) is None


def test_only_the_latest_assessments_count():
    organisation = OrganisationFactory()
    AssessmentFactory(party=organisation, level=2, assessed_on=EARLIER)
    AssessmentFactory(party=organisation, level=3, assessed_on=LATER)
    party = CustomerPartyFactory()
    AssessmentFactory(party=party, level=4, assessed_on=EARLIER)
    assert selectors.mismatch_for_customer(party.customer) is None  # 3 against 4


def test_unassessed_side_gives_no_mismatch():
    party = CustomerPartyFactory()
    AssessmentFactory(party=party, level=5)
    assert selectors.mismatch_for_customer(party.customer) is None
    assert selectors.mismatch_for_customer(CustomerFactory()) is None


def test_the_serving_unit_is_compared_not_the_organisation():
    AssessmentFactory(party=OrganisationFactory(), level=3)
    unit = ProviderUnitFactory(unit__name="Group IT Operations")
    AssessmentFactory(party=unit, level=2)
    party = CustomerPartyFactory()
    AssessmentFactory(party=party, level=4)
    assert selectors.mismatch_for_customer(party.customer) is None  # organisation 3 vs 4

    services.set_serving_unit(customer=party.customer, unit=unit)

    relationship = selectors.relationship_for_customer(party.customer)
    assert relationship.provider == unit
    assert relationship.mismatch.direction == MismatchDirection.PROVIDER_BEHIND
    assert "Group IT Operations" in relationship.mismatch.explanation


def test_an_unassessed_unit_stands_in_with_the_organisation_level():
    AssessmentFactory(party=OrganisationFactory(), level=4)
    unit = ProviderUnitFactory()
    party = CustomerPartyFactory(served_by=unit)
    AssessmentFactory(party=party, level=2)

    relationship = selectors.relationship_for_customer(party.customer)

    assert relationship.provider == unit
    assert relationship.provider_is_fallback
    assert relationship.mismatch.direction == MismatchDirection.PROVIDER_AHEAD


def test_retiring_a_unit_hands_its_customers_to_the_organisation():
    unit = ProviderUnitFactory()
    AssessmentFactory(party=unit, level=2)
    party = CustomerPartyFactory(served_by=unit)

    assert services.remove_provider_unit(unit=unit) == "retired"

    party.refresh_from_db()
    unit.refresh_from_db()
    assert unit.is_retired and party.served_by is None


def test_a_unit_nobody_refers_to_is_deleted():
    unit = ProviderUnitFactory()
    assert services.remove_provider_unit(unit=unit) == "deleted"


def test_mismatches_lists_every_relationship_widest_gap_first():
    AssessmentFactory(party=OrganisationFactory(), level=3)
    far = CustomerPartyFactory(customer__name="B far")
    AssessmentFactory(party=far, level=1)
    near = CustomerPartyFactory(customer__name="A near")
    AssessmentFactory(party=near, level=5)
    fine = CustomerPartyFactory(customer__name="C fine")
    AssessmentFactory(party=fine, level=3)
    unit = ProviderUnitFactory()
    AssessmentFactory(party=unit, level=5)
    widest = CustomerPartyFactory(customer__name="D widest", served_by=unit)
    AssessmentFactory(party=widest, level=1)

    found = selectors.mismatches()

    assert [r.customer.name for r in found] == ["D widest", "A near", "B far"]
    assert [r.mismatch.gap for r in found] == [4, 2, 2]


def test_retired_customers_have_no_relationship_to_flag():
    AssessmentFactory(party=OrganisationFactory(), level=3)
    party = CustomerPartyFactory(
        customer__retired_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    )
    AssessmentFactory(party=party, level=1)
    assert selectors.mismatches() == []


def test_relationships_count_current_subscriptions():
    customer = CustomerFactory()
    SubscriptionFactory(customer=customer)
    SubscriptionFactory(customer=customer, end_date=datetime.date(2024, 6, 30))
    (relationship,) = selectors.customer_relationships()
    assert relationship.current_subscriptions == 1


def test_customer_relationships_take_a_fixed_number_of_queries(django_assert_num_queries):
    organisation = OrganisationFactory()
    AssessmentFactory(party=organisation, level=3)
    AssessmentFactory(party=CustomerPartyFactory(), level=1)
    with django_assert_num_queries(3):
        assert len(selectors.customer_relationships()) == 1
    unit = ProviderUnitFactory()
    AssessmentFactory(party=unit, level=2)
    for level in (1, 2, 3, 4, 5):
        party = CustomerPartyFactory(served_by=unit)
        AssessmentFactory(party=party, level=level, assessed_on=EARLIER)
        AssessmentFactory(party=party, level=level)
        SubscriptionFactory(customer=party.customer)
    with django_assert_num_queries(3):
        assert len(selectors.customer_relationships()) == 6
