"""Figures at the edge of what the ledger holds: every amount a cost item or a subscription may
carry is computed, stored and shown; a period is never left uncomputable by valid input
(docs/tco.md, "Inputs")."""

import datetime
from decimal import Context
from decimal import Decimal
from decimal import localcontext

import pytest

from finance import selectors
from finance import services
from finance.models import CustomerStatement
from finance.models import RunOutcome
from finance.models import TcoResult
from portfolio.choices import ServiceKind
from tests.factories.finance import CostItemFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory

pytestmark = pytest.mark.django_db

LARGEST = Decimal("9999999999999999.99")  # the largest amount a cost item takes


def test_amounts_that_add_up_beyond_one_items_size_are_computed():
    """Two items of the largest amount on one service, and one more on its provider: each
    is valid, so their sum must be computed and stored, not fail the period's run."""
    period = PeriodFactory(year=2025, month=3)
    claims = ServiceFactory(name="Claims", kind=ServiceKind.CUSTOMER_FACING)
    hosting = ServiceFactory(name="Hosting", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=hosting, consumer=claims)
    CostItemFactory(period=period, service=claims, amount=LARGEST)
    CostItemFactory(period=period, service=claims, amount=LARGEST)
    CostItemFactory(period=period, service=hosting, amount=LARGEST)
    SubscriptionFactory(service=claims, units=Decimal("0.0001"), price_per_unit=Decimal(1))

    run = services.recompute_tco(period=period)

    assert run.outcome == RunOutcome.SUCCEEDED, run.error
    assert run.input_total == LARGEST * 3
    result = TcoResult.objects.get(period=period, service=claims)
    assert result.tco == result.kept == LARGEST * 3
    assert result.direct == LARGEST * 2
    assert result.unit_cost == LARGEST * 3 / Decimal("0.0001")
    statement = CustomerStatement.objects.get(period=period)
    assert statement.cost_to_serve == LARGEST * 3


def test_a_recovery_ratio_of_a_hundred_million_is_stored():
    """A service that keeps one cent and charges 1,000,000.00 a month recovers 100,000,000
    times its cost: a valid figure, stored as it is, not a failed run."""
    period = PeriodFactory(year=2025, month=3)
    tiny = ServiceFactory(name="Tiny", kind=ServiceKind.CUSTOMER_FACING)
    CostItemFactory(period=period, service=tiny, amount=Decimal("0.01"))
    SubscriptionFactory(
        customer=CustomerFactory(name="Acme"),
        service=tiny,
        units=1,
        price_per_unit=Decimal(1_000_000),
        start_date=datetime.date(2025, 1, 1),
    )

    run = services.recompute_tco(period=period)

    assert run.outcome == RunOutcome.SUCCEEDED, run.error
    result = TcoResult.objects.get(period=period, service=tiny)
    assert result.recovery_ratio == Decimal("100000000.0000")
    assert CustomerStatement.objects.get(period=period).recovery_ratio == Decimal("100000000.0000")


def test_the_largest_amounts_at_the_largest_rate_are_computed():
    """An exchange rate may be up to 9,999,999,999: two items and a subscription charging
    the largest amount a year in that currency convert to about 10^26 each, and are still
    computed."""
    period = PeriodFactory(year=2025, month=3)
    rate = Decimal("9999999999")
    ExchangeRateFactory(period=period, currency="KWD", rate=rate)
    claims = ServiceFactory(name="Claims", kind=ServiceKind.CUSTOMER_FACING)
    CostItemFactory(period=period, service=claims, amount=LARGEST, currency="KWD")
    CostItemFactory(period=period, service=claims, amount=LARGEST, currency="KWD")
    SubscriptionFactory(
        service=claims,
        units=Decimal("0.0001"),
        price_per_unit=None,
        annual_charge=LARGEST,
        currency="KWD",
        start_date=datetime.date(2025, 1, 1),
    )

    run = services.recompute_tco(period=period)

    assert run.outcome == RunOutcome.SUCCEEDED, run.error
    result = TcoResult.objects.get(period=period, service=claims)
    with localcontext(Context(prec=60)):  # the exact figures, every cent of them
        assert result.kept == LARGEST * 2 * rate == Decimal("199999999979999999800000000.02")
        assert run.input_total == result.kept
        assert result.unit_cost == result.kept / Decimal("0.0001")
        assert result.revenue == (LARGEST / 12 * rate).quantize(Decimal("0.01"))
    traced = selectors.lineage(service=claims, period=period)
    assert traced["gross"] == traced["traced"] == result.tco
    assert not traced["differs"]
