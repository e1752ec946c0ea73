"""A closed month with customers and their statements, which several test modules start from:
two relationship managers (Alice: Retail and Fleet; Bob: Brokers), a customer without one
(Walk-in), two customer-facing services on a shared platform, one value stream."""

from decimal import Decimal

from finance import services
from portfolio.choices import ServiceKind
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.factories.valuestreams import ValueStreamFactory


def make_statement_month() -> dict:
    """March 2025, closed: Claims (users) and Quotes (policies) each keep their own cost and
    half of Platform's; five subscriptions of four customers; Claims underpins the one stage
    of "Settle a claim", Quotes no stage."""
    alice = UserFactory(
        username="alice", first_name="Alice", last_name="Archer", email="alice@example.org"
    )
    bob = UserFactory(username="bob", first_name="Bob", last_name="Baker", email="bob@example.org")
    march = PeriodFactory(year=2025, month=3)
    claims = ServiceFactory(name="Claims", slug="claims", kind=ServiceKind.CUSTOMER_FACING)
    quotes = ServiceFactory(name="Quotes", slug="quotes", kind=ServiceKind.CUSTOMER_FACING)
    platform = ServiceFactory(name="Platform", slug="platform", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=platform, consumer=claims, weight=1)
    ServiceDependencyFactory(provider=platform, consumer=quotes, weight=1)
    CostItemFactory(period=march, service=platform, amount=Decimal("300.00"))
    CostItemFactory(period=march, service=claims, amount=Decimal("100.01"), category="support")
    CostItemFactory(period=march, service=quotes, amount=Decimal("50.00"))
    retail = CustomerFactory(name="Retail", slug="retail", relationship_manager=alice)
    fleet = CustomerFactory(name="Fleet", slug="fleet", relationship_manager=alice)
    brokers = CustomerFactory(name="Brokers", slug="brokers", relationship_manager=bob)
    walk_in = CustomerFactory(name="Walk-in", slug="walk-in")
    subscriptions = [
        SubscriptionFactory(customer=retail, service=claims, units=10),
        SubscriptionFactory(customer=fleet, service=claims, units=30),
        SubscriptionFactory(
            customer=fleet, service=quotes, units=5, unit_name="policy", price_per_unit=4
        ),
        SubscriptionFactory(
            customer=brokers, service=quotes, units=15, unit_name="policy", price_per_unit=4
        ),
        SubscriptionFactory(customer=walk_in, service=claims, units=1),
    ]
    claim_stream = ValueStreamFactory(name="Settle a claim", slug="settle-a-claim")
    StageServiceFactory(
        stage=StageFactory(value_stream=claim_stream, name="Register the claim"), service=claims
    )
    services.close_period(period=march)  # the roll-up writes the statements
    march.refresh_from_db()
    return {
        "march": march,
        "alice": alice,
        "bob": bob,
        "claims": claims,
        "quotes": quotes,
        "platform": platform,
        "retail": retail,
        "fleet": fleet,
        "brokers": brokers,
        "walk_in": walk_in,
        "subscriptions": subscriptions,
    }
