"""The roll-up against the database: inputs gathered set-based, results upserted per period
and version, closing and restating."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.core.management import call_command
from django.db import IntegrityError
from django.db import transaction

from finance import selectors
from finance import services
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PeriodStatus
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import Period
from finance.models import TcoFlow
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio():
    """Claims is customer-facing; hosting and identity support each other and claims.

    March 2025 by hand (EUR):
      hosting receives the contract's 1,000.00, the data-centre pool's 600.00 and 100.00 of
      a 1,200.00 capex item spread over a year; identity has 300 USD at 0.9 = 270.00.
      hosting → claims 3, hosting → identity 1; identity → claims 1, identity → hosting 1.
      T_h = 1700 + T_i/2 and T_i = 270 + T_h/4: T_h = 14680/7, T_i = 5560/7.
      claims keeps 3/4 T_h + 1/2 T_i = 1,970.00 plus its application's 1,200.00 = 3,170.00.
      An application that supports nothing leaves 50.00 unallocated; 100 GBP has no rate.
    """
    march = PeriodFactory(year=2025, month=3)
    january = PeriodFactory(year=2025, month=1)
    claims = ServiceFactory(name="Claims", kind=ServiceKind.CUSTOMER_FACING)
    hosting = ServiceFactory(name="Hosting", kind=ServiceKind.SUPPORTING)
    identity = ServiceFactory(name="Identity", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=hosting, consumer=claims, weight=3)
    ServiceDependencyFactory(provider=hosting, consumer=identity, weight=1)
    ServiceDependencyFactory(provider=identity, consumer=claims, weight=1)
    ServiceDependencyFactory(provider=identity, consumer=hosting, weight=1)
    claims_app = ApplicationFactory(name="Claims app")
    ApplicationSupportFactory(application=claims_app, service=claims)
    idle_app = ApplicationFactory(name="Idle app")
    contract = ContractFactory(
        annual_value=Decimal("12000.00"), start_date=datetime.date(2024, 1, 1)
    )
    ContractCoverageFactory(contract=contract, service=hosting)
    pool = CostPoolFactory(name="Data centre")
    PoolAllocationFactory(pool=pool, service=hosting)
    CostItemFactory(period=march, application=claims_app, amount=Decimal("1200.00"))
    CostItemFactory(period=march, application=idle_app, amount=Decimal("50.00"))
    CostItemFactory(
        period=march, pool=pool, amount=Decimal("600.00"), category=CostCategory.INFRASTRUCTURE
    )
    CostItemFactory(
        period=january,
        service=hosting,
        amount=Decimal("1200.00"),
        category=CostCategory.INFRASTRUCTURE,
        expenditure=Expenditure.CAPEX,
        spread_months=12,
    )
    CostItemFactory(
        period=march,
        service=identity,
        amount=Decimal("300.00"),
        currency="USD",
        category=CostCategory.MAINTENANCE,
    )
    ExchangeRateFactory(period=march, currency="USD", rate=Decimal("0.9"))
    CostItemFactory(period=march, service=claims, amount=Decimal("100.00"), currency="GBP")
    SubscriptionFactory(service=claims, units=10, price_per_unit=Decimal("12.50"))
    return {
        "march": march,
        "claims": claims,
        "hosting": hosting,
        "identity": identity,
        "idle_app": idle_app,
        "contract": contract,
    }


def result(period, service, version=1) -> TcoResult:
    return TcoResult.objects.get(period=period, service=service, version=version)


def test_rollup_matches_the_hand_computed_period(portfolio):
    march = portfolio["march"]
    run = services.recompute_tco(period=march)
    assert run.outcome == RunOutcome.SUCCEEDED
    assert run.input_total == Decimal("3220.00")
    assert run.kept_total == Decimal("3170.00")
    assert run.unallocated_total == Decimal("50.00")
    assert run.unconverted["cost"] == {"GBP": "100.00"}

    claims = result(march, portfolio["claims"])
    assert claims.tco == claims.kept == Decimal("3170.00")
    assert claims.received_applications == Decimal("1200.00")
    assert claims.received_services == Decimal("1970.00")
    assert claims.passed_on == 0
    assert (claims.tco_development, claims.tco_infrastructure) == (Decimal(1200), Decimal(700))
    assert (claims.tco_maintenance, claims.tco_vendor) == (Decimal(270), Decimal(1000))
    assert (claims.tco_opex, claims.tco_capex) == (Decimal(3070), Decimal(100))
    assert claims.revenue == Decimal("125.00")
    assert claims.margin == Decimal("-3045.00")
    assert claims.recovery_ratio == Decimal("0.0394")
    assert claims.consumed_units == 10
    assert claims.unit_cost == Decimal("317.0000")

    hosting = result(march, portfolio["hosting"])
    assert hosting.tco == hosting.passed_on == Decimal("2097.14")  # 14680/7
    assert hosting.kept == 0
    assert hosting.direct == Decimal("100.00")
    assert hosting.received_contracts == Decimal("1000.00")
    assert hosting.received_pools == Decimal("600.00")
    assert hosting.received_services == Decimal("397.14")  # T_i / 2 = 2780/7
    assert result(march, portfolio["identity"]).tco == Decimal("794.29")  # 5560/7


def test_rollup_reports_every_unallocated_reason(portfolio):
    services.recompute_tco(period=portfolio["march"])
    rows = {
        (row.source_label, row.reason): row
        for row in TcoUnallocated.objects.filter(period=portfolio["march"])
    }
    idle = rows[("Idle app", UnallocatedReason.NO_TARGET)]
    assert idle.amount == Decimal("50.00")
    no_rate = rows[("Claims", UnallocatedReason.NO_RATE)]
    assert (no_rate.original_amount, no_rate.original_currency) == (Decimal("100.00"), "GBP")
    assert no_rate.amount is None
    assert "No GBP rate for 2025-03" in no_rate.detail


def test_rollup_rerun_on_unchanged_data_changes_nothing(portfolio):
    march = portfolio["march"]
    services.recompute_tco(period=march)

    def snapshot():
        return (
            sorted(TcoResult.objects.values_list("pk", "service_id", "tco", "kept", "breakdown")),
            sorted(TcoUnallocated.objects.values_list("source_label", "reason", "amount")),
            sorted(TcoFlow.objects.values_list("source_kind", "source_id", "target_id", "amount")),
        )

    before = snapshot()
    services.recompute_tco(period=march)
    assert snapshot() == before
    assert TcoRun.objects.filter(period=march, outcome=RunOutcome.SUCCEEDED).count() == 2


def test_rollup_edit_moves_the_figures_and_drops_stale_rows(portfolio):
    march = portfolio["march"]
    services.recompute_tco(period=march)
    CostItem.objects.filter(application=portfolio["idle_app"]).delete()
    services.recompute_tco(period=march)
    assert not TcoUnallocated.objects.filter(reason=UnallocatedReason.NO_TARGET).exists()
    assert TcoResult.objects.filter(period=march, version=1).count() == 3


def test_rollup_spreads_capex_with_the_odd_cents_first():
    april, may, june = (PeriodFactory(year=2025, month=m) for m in (4, 5, 6))
    service = ServiceFactory()
    CostItemFactory(
        period=april,
        service=service,
        amount=Decimal("100.00"),
        expenditure=Expenditure.CAPEX,
        spread_months=3,
    )
    figures = []
    for period in (april, may, june):
        services.recompute_tco(period=period)
        figures.append(result(period, service).tco_capex)
    assert figures == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


def test_rollup_spreads_a_capex_credit_as_its_size_with_its_sign_and_a_reversal_cancels():
    """−100.00 over three months is −33.34, −33.33, −33.33: the mirror of the item it
    reverses, so item and reversal cancel month by month; a credit on its own leaves the
    service a negative TCO, and the input is kept plus unallocated to the cent."""
    april, may, june = (PeriodFactory(year=2025, month=m) for m in (4, 5, 6))
    credited, reversed_ = ServiceFactory(), ServiceFactory()
    capex = {"expenditure": Expenditure.CAPEX, "spread_months": 3}
    CostItemFactory(period=april, service=credited, amount=Decimal("-100.00"), **capex)
    CostItemFactory(period=april, service=reversed_, amount=Decimal("100.00"), **capex)
    CostItemFactory(period=april, service=reversed_, amount=Decimal("-100.00"), **capex)
    figures = []
    for period in (april, may, june):
        run = services.recompute_tco(period=period)
        figures.append(result(period, credited).tco_capex)
        assert result(period, reversed_).tco == 0
        assert run.input_total == run.kept_total + run.unallocated_total
    assert figures == [Decimal("-33.34"), Decimal("-33.33"), Decimal("-33.33")]
    assert result(april, credited).recovery_ratio is None  # no ratio to a negative cost


def test_rollup_credit_flows_downstream_and_reconciles_with_mixed_signs():
    """An application costs 1,000.00 with a 1,300.00 credit note: −300.00 reaches the two
    services it supports by 1:2 (−100.00 and −200.00); a pool's −10.00 credit on an idle pool
    stays unallocated, negative. Input −310.00 = kept −300.00 + unallocated −10.00."""
    march = PeriodFactory(year=2025, month=3)
    first, second = ServiceFactory(), ServiceFactory()
    app = ApplicationFactory()
    ApplicationSupportFactory(application=app, service=first, weight=1)
    ApplicationSupportFactory(application=app, service=second, weight=2)
    CostItemFactory(period=march, application=app, amount=Decimal("1000.00"))
    CostItemFactory(period=march, application=app, amount=Decimal("-1300.00"))
    CostItemFactory(period=march, pool=CostPoolFactory(), amount=Decimal("-10.00"))
    run = services.recompute_tco(period=march)
    assert result(march, first).kept == Decimal("-100.00")
    assert result(march, second).kept == Decimal("-200.00")
    assert run.input_total == Decimal("-310.00")
    assert run.kept_total == Decimal("-300.00") and run.unallocated_total == Decimal("-10.00")
    (idle,) = TcoUnallocated.objects.filter(period=march)
    assert idle.amount == Decimal("-10.00")


def test_rollup_contract_brings_a_twelfth_within_its_term():
    service = ServiceFactory()
    contract = ContractFactory(
        annual_value=Decimal("1000.00"),
        start_date=datetime.date(2025, 3, 10),
        end_date=datetime.date(2025, 5, 14),
    )
    ContractCoverageFactory(contract=contract, service=service)
    months = {m: PeriodFactory(year=2025, month=m) for m in (2, 3, 4, 5)}
    tco = {}
    for month, period in months.items():
        services.recompute_tco(period=period)
        tco[month] = result(period, service).tco_vendor
    # 100,000 cents / 12 = 8,333 rest 4: January to April carry the extra cent. The term
    # covers the 15th of March and April only.
    assert tco == {2: 0, 3: Decimal("83.34"), 4: Decimal("83.34"), 5: 0}


def test_rollup_retired_service_no_longer_receives():
    march = PeriodFactory(year=2025, month=3)
    live, retired = ServiceFactory(), ServiceFactory(lifecycle=ServiceLifecycle.RETIRED)
    pool = CostPoolFactory()
    PoolAllocationFactory(pool=pool, service=live, weight=1)
    PoolAllocationFactory(pool=pool, service=retired, weight=1)
    CostItemFactory(period=march, pool=pool, amount=Decimal("10.00"))
    services.recompute_tco(period=march)
    assert result(march, live).kept == Decimal("10.00")
    assert not TcoResult.objects.filter(service=retired).exists()


def test_close_freezes_and_restatement_adds_a_version_with_the_difference(portfolio, finance_user):
    march = portfolio["march"]
    services.close_period(period=march, user=finance_user)
    march.refresh_from_db()
    assert march.status == PeriodStatus.CLOSED and march.closed_by == finance_user
    frozen = result(march, portfolio["claims"]).tco

    CostItemFactory(period=march, service=portfolio["claims"], amount=Decimal("30.00"))
    with pytest.raises(ValidationError, match="frozen"):
        services.recompute_tco(period=march)
    assert result(march, portfolio["claims"]).tco == frozen

    run = services.restate_period(period=march, user=finance_user, reason="Late invoice")
    assert run.trigger == RunTrigger.RESTATEMENT and run.version == 2
    march.refresh_from_db()
    assert march.current_version == 2 and march.is_closed
    assert result(march, portfolio["claims"], version=1).tco == frozen
    assert result(march, portfolio["claims"], version=2).tco == frozen + 30
    differences = selectors.version_differences(period=march, old=1, new=2)
    assert [(d["service"].name, d["tco_change"]) for d in differences["rows"]] == [
        ("Claims", Decimal("30.00"))
    ]
    assert differences["input_change"] == Decimal("30.00")


def test_restatement_needs_a_reason_and_a_closed_period(portfolio):
    with pytest.raises(ValidationError, match="only a closed period"):
        services.restate_period(period=portfolio["march"], reason="Because")
    with pytest.raises(ValidationError, match="Say why"):
        services.restate_period(period=portfolio["march"], reason=" ")


def test_failed_run_is_recorded_with_its_error(portfolio, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("ledger unreadable")

    monkeypatch.setattr(selectors, "load_inputs", broken)
    with pytest.raises(RuntimeError):
        services.recompute_tco(period=portfolio["march"])
    run = TcoRun.objects.get()
    assert run.outcome == RunOutcome.FAILED
    assert run.error == "RuntimeError: ledger unreadable"
    assert run.duration is not None and run.input_total is None


def test_rollup_command_runs_synchronously(portfolio):
    out = StringIO()
    call_command("rollup_tco", "--period", "2025-03", stdout=out)
    assert "Input 3220.00 = kept 3170.00 + unallocated 50.00" in out.getvalue()
    assert "Not converted (no GBP rate): 100.00 GBP" in out.getvalue()
    assert TcoRun.objects.get().trigger == RunTrigger.COMMAND


def test_rollup_command_refuses_a_bad_or_missing_period(db):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("rollup_tco", "--period", "March")
    with pytest.raises(CommandError, match="no period 2031-01"):
        call_command("rollup_tco", "--period", "2031-01")
    call_command("rollup_tco", "--period", "2031-01", "--create", stdout=StringIO())
    assert Period.objects.get().label == "2031-01"


def test_cost_item_needs_exactly_one_target_in_the_database(db):
    period = PeriodFactory(year=2025, month=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        CostItem.objects.create(
            description="Nowhere", period=period, amount=1, category=CostCategory.VENDOR
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CostItem.objects.create(
            description="Two places",
            period=period,
            amount=1,
            category=CostCategory.VENDOR,
            service=ServiceFactory(),
            pool=CostPoolFactory(),
        )


def test_cost_item_clean_names_the_field():
    item = CostItem(
        description="Both",
        amount=1,
        category=CostCategory.VENDOR,
        expenditure=Expenditure.OPEX,
        spread_months=3,
    )
    with pytest.raises(ValidationError) as error:
        item.clean()
    assert "service" in error.value.message_dict


def test_period_fiscal_year_follows_the_setting(settings):
    period = Period(year=2025, month=3)
    settings.PORTICO_FISCAL_YEAR_START_MONTH = 1
    assert (period.fiscal_year, period.fiscal_month, period.fiscal_quarter) == (2025, 3, 1)
    settings.PORTICO_FISCAL_YEAR_START_MONTH = 4
    assert (period.fiscal_year, period.fiscal_month, period.fiscal_quarter) == (2025, 12, 4)
    assert Period(year=2025, month=4).fiscal_year == 2026
