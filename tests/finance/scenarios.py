"""Cost data that several finance test modules start from."""

from decimal import Decimal

from finance import services
from portfolio.choices import ServiceKind
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.maturity import AssessmentFactory
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory


def make_quarter(owner) -> dict:
    """January to March 2025, closed. A platform passes its cost to Claims (``owner``'s) and
    Quotes; an application supports nothing (unallocated); Retail subscribes to Claims and is
    two levels ahead of the organisation (a mismatch)."""
    months = [PeriodFactory(year=2025, month=m) for m in (1, 2, 3)]
    claims = ServiceFactory(
        name="Claims", slug="claims", kind=ServiceKind.CUSTOMER_FACING, owner=owner
    )
    quotes = ServiceFactory(name="Quotes", slug="quotes", kind=ServiceKind.CUSTOMER_FACING)
    platform = ServiceFactory(name="Platform", slug="platform", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=platform, consumer=claims, weight=1)
    ServiceDependencyFactory(provider=platform, consumer=quotes, weight=2)
    orphan = ApplicationFactory(name="Orphan app")
    for number, period in enumerate(months):
        CostItemFactory(period=period, service=platform, amount=Decimal("300.01") + number)
        CostItemFactory(period=period, service=claims, amount=Decimal("99.99"), category="support")
        CostItemFactory(period=period, application=orphan, amount=Decimal("25.00"))
    retail = CustomerFactory(name="Retail", slug="retail")
    SubscriptionFactory(customer=retail, service=claims)
    AssessmentFactory(party=OrganisationFactory(), level=2)
    AssessmentFactory(party=CustomerPartyFactory(customer=retail), level=4)
    for period in months:
        services.close_period(period=period)
    for period in months:
        period.refresh_from_db()
    return {"months": months, "claims": claims, "quotes": quotes, "platform": platform}
