"""The rules the roll-up (selectors.load_inputs) and the lineage (selectors.lineage) share,
written once: a contract in force at mid-month, the rate of a currency in a month. Both paths
must agree on every case, including the edges of each rule."""

import datetime
from decimal import Decimal

import pytest

from finance import selectors
from finance import services
from finance import tco
from finance.choices import Expenditure
from finance.models import TcoResult
from portfolio.models import Contract
from tests.factories.finance import CostItemFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


def contract_nodes(loaded) -> set[int]:
    return {pk for kind, pk in loaded.inputs.costs if kind == tco.CONTRACT} | {
        pk for (kind, pk), _currency, _label in loaded.unconverted if kind == tco.CONTRACT
    }


def traced_contracts(traced) -> set[int]:
    return {line.node[1] for line in traced["lines"] if line.kind == "contract value"}


def test_contract_in_force_at_mid_month_is_one_rule_for_rollup_and_lineage(settings):
    # An hour east of UTC in March: the 15th begins at 23:00 UTC on the 14th.
    settings.TIME_ZONE = "Europe/Amsterdam"
    march = PeriodFactory(year=2025, month=3)
    service = ServiceFactory()
    utc = datetime.UTC

    def covering(**fields) -> Contract:
        contract = ContractFactory(annual_value=Decimal("1200.00"), **fields)
        ContractCoverageFactory(contract=contract, service=service)
        return contract

    retired_on_the_15th = covering(retired_at=datetime.datetime(2025, 3, 14, 23, 30, tzinfo=utc))
    retired_on_the_14th = covering(retired_at=datetime.datetime(2025, 3, 14, 22, 30, tzinfo=utc))
    ended_on_the_14th = covering(end_date=datetime.date(2025, 3, 14))
    ends_on_the_15th = covering(end_date=datetime.date(2025, 3, 15))
    starts_on_the_15th = covering(start_date=datetime.date(2025, 3, 15))
    starts_on_the_16th = covering(start_date=datetime.date(2025, 3, 16))
    in_force = {retired_on_the_15th.pk, ends_on_the_15th.pk, starts_on_the_15th.pk}

    assert (
        set(
            Contract.objects.filter(selectors.contracts_in_force(march)).values_list(
                "pk", flat=True
            )
        )
        == in_force
    )
    loaded = selectors.load_inputs(period=march)
    assert contract_nodes(loaded) == in_force
    traced = selectors.lineage(service=service, period=march)
    assert traced_contracts(traced) == in_force
    assert not {retired_on_the_14th.pk, ended_on_the_14th.pk, starts_on_the_16th.pk} & (
        traced_contracts(traced)
    )
    # Three twelfths of 1,200.00 reach the service, and the lineage explains all of it.
    assert traced["gross"] == traced["traced"] == Decimal("300.00")


def test_rate_of_a_currency_in_a_month_is_one_rule_for_rollup_and_lineage():
    january = PeriodFactory(year=2025, month=1)
    march = PeriodFactory(year=2025, month=3)
    ExchangeRateFactory(period=january, currency="USD", rate=Decimal("0.8"))
    ExchangeRateFactory(period=march, currency="USD", rate=Decimal("0.9"))
    # A rate recorded for the reporting currency itself changes nothing: it is 1.
    ExchangeRateFactory(period=march, currency="EUR", rate=Decimal("2"))
    service = ServiceFactory()
    CostItemFactory(period=march, service=service, amount=Decimal("100.00"), currency="USD")
    CostItemFactory(period=march, service=service, amount=Decimal("10.00"), currency="EUR")
    # Capex from January is converted at January's rate, not March's.
    CostItemFactory(
        period=january,
        service=service,
        amount=Decimal("300.00"),
        currency="USD",
        expenditure=Expenditure.CAPEX,
        spread_months=3,
    )
    no_rate = CostItemFactory(
        period=march, service=service, amount=Decimal("50.00"), currency="GBP"
    )
    usd_contract = ContractFactory(annual_value=Decimal("1200.00"), currency="USD")
    ContractCoverageFactory(contract=usd_contract, service=service)
    chf_contract = ContractFactory(annual_value=Decimal("1200.00"), currency="CHF")
    ContractCoverageFactory(contract=chf_contract, service=service)

    rates = selectors.monthly_rates(period_ids=[january.pk, march.pk])
    assert rates.rate("USD", january.pk) == Decimal("0.8")
    assert rates.rate("USD", march.pk) == Decimal("0.9")
    assert rates.rate("EUR", march.pk) == 1
    assert rates.rate("GBP", march.pk) is None

    loaded = selectors.load_inputs(period=march)
    traced = selectors.lineage(service=service, period=march)
    # 100 USD at 0.9 + 10 EUR + 100 USD (a third of 300) at 0.8 + 100 USD (a twelfth) at 0.9.
    expected = Decimal("270.00")
    assert traced["gross"] == traced["traced"] == expected
    assert sum(sum(vector) for vector in loaded.inputs.costs.values()) == expected
    assert (
        {(node, currency) for node, currency, _label in loaded.unconverted}
        == {(line.node, line.currency) for line in traced["lines"] if not line.converted}
        == {((tco.SERVICE, service.pk), "GBP"), ((tco.CONTRACT, chf_contract.pk), "CHF")}
    )
    assert loaded.unconverted[((tco.SERVICE, service.pk), "GBP", "2025-03")] == no_rate.amount

    services.recompute_tco(period=march)
    assert TcoResult.objects.get(period=march, service=service).tco == expected


def test_a_capex_credit_is_one_rule_for_rollup_and_lineage():
    """A capex credit of −100.00 over three months and a 30.00 cost: the roll-up and the
    lineage both take −33.34 in the first month, and the lineage lists the credit first, as
    the larger line. The service's TCO, −3.34, is flagged."""
    april = PeriodFactory(year=2025, month=4)
    service = ServiceFactory()
    credit = CostItemFactory(
        period=april,
        service=service,
        amount=Decimal("-100.00"),
        expenditure=Expenditure.CAPEX,
        spread_months=3,
    )
    CostItemFactory(period=april, service=service, amount=Decimal("30.00"))
    loaded = selectors.load_inputs(period=april)
    assert sum(sum(vector) for vector in loaded.inputs.costs.values()) == Decimal("-3.34")
    traced = selectors.lineage(service=service, period=april)
    assert traced["gross"] == traced["traced"] == Decimal("-3.34")
    first = traced["lines"][0]
    assert first.item_id == credit.pk and first.contribution == Decimal("-33.34")
    services.recompute_tco(period=april)
    result = TcoResult.objects.get(period=april, service=service)
    assert result.tco == result.kept == Decimal("-3.34")
    assert selectors.negative_cost_reason(result).startswith("It keeps a negative cost, -3.34")


def test_a_service_passing_on_a_negative_cost_is_flagged_with_its_reason():
    passing = TcoResult(tco=Decimal("-5.00"), kept=Decimal(0), passed_on=Decimal("-5.00"))
    assert selectors.negative_cost_reason(passing) == (
        "Its TCO is negative, -5.00: credits booked on it or upstream of it this month exceed "
        "its cost, and it passes them on to its consumers."
    )
