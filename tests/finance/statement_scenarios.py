"""A closed month with customers and their statements, which several test modules start from:
two relationship managers (Alice: Retail and Fleet; Bob: Brokers), a customer without one
(Walk-in), two customer-facing services on a shared platform."""

from decimal import ROUND_DOWN
from decimal import Decimal

from finance import services
from finance.models import CustomerStatement
from finance.models import Period
from finance.models import TcoResult
from portfolio.choices import ServiceKind
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.statements import statement_with_lines

CENT = Decimal("0.01")


def make_statement_month() -> dict:
    """March 2025, closed: Claims (users) and Quotes (policies) each keep their own cost and
    half of Platform's; five subscriptions of four customers."""
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
    services.close_period(period=march)
    march.refresh_from_db()
    ensure_statements(march, subscriptions)
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


def ensure_statements(period: Period, subscriptions, version: int | None = None) -> None:
    """The statements of ``period``'s ``version`` (default: current) as the roll-up writes
    them: kept cost shared by units (every service here has one unit name), the largest
    remainder taking the odd cents. Written only when the roll-up has not written them."""
    version = version or period.current_version
    if CustomerStatement.objects.filter(period=period, version=version).exists():
        return
    kept = {r.service_id: r.kept for r in TcoResult.objects.filter(period=period, version=version)}
    by_service: dict[int, list] = {}
    for subscription in subscriptions:
        by_service.setdefault(subscription.service_id, []).append(subscription)
    cost: dict[int, Decimal] = {}
    for service_id, group in by_service.items():
        total_units = sum(s.units for s in group)
        amount = kept.get(service_id, Decimal(0))
        shares = {s.pk: (amount * Decimal(s.units) / Decimal(total_units)) for s in group}
        floors = {pk: share.quantize(CENT, rounding=ROUND_DOWN) for pk, share in shares.items()}
        left = int((amount - sum(floors.values())) / CENT)
        for pk in sorted(shares, key=lambda pk: (-(shares[pk] - floors[pk]), pk))[:left]:
            floors[pk] += CENT
        cost.update(floors)
    by_customer: dict[int, list] = {}
    for subscription in subscriptions:
        by_customer.setdefault(subscription.customer_id, []).append(subscription)
    for group in by_customer.values():
        statement_with_lines(
            period=period,
            customer=group[0].customer,
            version=version,
            lines=[(s, _monthly_charge(s), cost[s.pk]) for s in group],
        )


def _monthly_charge(subscription) -> Decimal:
    units, price = Decimal(str(subscription.units)), Decimal(str(subscription.price_per_unit))
    return (units * price).quantize(CENT)
