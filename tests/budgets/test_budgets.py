"""Budgets against the database: the build from contracts and the run rate, people's lines,
approval, the roll-up through the TCO engine and budget against actual, on the
hand-computed fiscal year of tests.budgets.scenario."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.core.management import call_command

from budgets import selectors
from budgets import services
from budgets import tasks
from budgets.choices import BudgetOrigin
from budgets.choices import BudgetStatus
from budgets.models import BudgetLine
from budgets.models import BudgetResult
from budgets.models import BudgetUnallocated
from budgets.models import BudgetVersion
from finance.choices import CostCategory
from finance.models import Period
from finance.models import month_serial
from finance.models import serial_label
from tests.budgets.scenario import CLAIMS_ACTUAL
from tests.budgets.scenario import CLAIMS_BUDGET
from tests.budgets.scenario import HOSTING_ACTUAL
from tests.budgets.scenario import HOSTING_BUDGET
from tests.budgets.scenario import build_year
from tests.factories.finance import CostItemFactory
from tests.factories.portfolio import ContractFactory

pytestmark = pytest.mark.django_db
D = Decimal
SERIALS = [month_serial(2026, month) for month in range(1, 13)]


def line_tuples(version):
    return sorted(
        (line.origin, line.serial, line.service_id, line.application_id, line.contract_id,
         line.pool_id, line.category, line.expenditure, line.spread_months, line.currency,
         line.amount, line.pool_type, line.note, line.origin_contract_id)
        for line in BudgetLine.objects.filter(version=version)
    )  # fmt: skip


def budget_by_month(version, service):
    results = BudgetResult.objects.filter(version=version, service=service)
    return dict(results.order_by("serial").values_list("serial", "tco"))


def test_contract_lines_renew_with_escalation_in_the_renewal_month():
    year = build_year()
    lines = BudgetLine.objects.filter(version=year.version, origin=BudgetOrigin.CONTRACT)
    amounts = [str(line.amount) for line in lines.order_by("serial")]
    assert amounts == ["1000.01"] + ["1000.00"] * 5 + ["1050.00"] * 6
    assert {line.contract_id for line in lines} == {year.contract.pk}
    assert {line.origin_contract_id for line in lines} == {year.contract.pk}
    assert {line.category for line in lines} == {CostCategory.VENDOR}
    assert "renewal from 2026-07-01" in lines.get(serial=month_serial(2026, 7)).note


def test_run_rate_averages_the_last_three_closed_months_to_the_cent():
    year = build_year()
    lines = BudgetLine.objects.filter(version=year.version, origin=BudgetOrigin.RUN_RATE)
    assert {line.service_id for line in lines} == {year.hosting.pk}
    assert [str(line.amount) for line in lines.order_by("serial")] == (
        ["1000.01"] * 4 + ["1000.00"] * 8
    )
    assert sum(line.amount for line in lines) == D("12000.04")
    assert "2025-10, 2025-11, 2025-12" in lines.first().note


def test_budget_per_service_and_month_by_hand():
    year = build_year()
    assert budget_by_month(year.version, year.claims) == dict(
        zip(SERIALS, map(D, CLAIMS_BUDGET), strict=True)
    )
    assert budget_by_month(year.version, year.hosting) == dict(
        zip(SERIALS, map(D, HOSTING_BUDGET), strict=True)
    )
    april = BudgetResult.objects.get(
        version=year.version, service=year.claims, serial=month_serial(2026, 4)
    )
    # The same buckets and roads as actuals: the contract arrives as received, the capex
    # line as the service's own.
    assert (april.direct, april.received_contracts) == (D("166.67"), D("750.00"))
    assert (april.tco_development, april.tco_vendor) == (D("166.67"), D("750.00"))
    assert (april.tco_capex, april.tco_opex) == (D("166.67"), D("750.00"))
    assert april.breakdown["tco"] == {"development": {"capex": 16667}, "vendor": {"opex": 75000}}


def test_budget_conserves_to_the_cent():
    year = build_year()
    version = year.version
    lines_in_year = D("12300.01") + D("12000.04") + D("1000.00")
    assert version.input_total == lines_in_year
    assert version.kept_total + version.unallocated_total == version.input_total
    assert sum(BudgetResult.objects.filter(version=version).values_list("kept", flat=True)) == (
        version.kept_total
    )


def test_budget_against_actual_forecast_and_variance_by_hand():
    year = build_year()
    rows = selectors.budget_vs_actual(2026, version=year.version)
    totals = {(r.service, r.serial): r for r in rows if r.category == selectors.TOTAL}
    for name, budget, actual in (
        ("Claims", CLAIMS_BUDGET, CLAIMS_ACTUAL),
        ("Hosting", HOSTING_BUDGET, HOSTING_ACTUAL),
    ):
        for index, serial in enumerate(SERIALS):
            row = totals[(name, serial)]
            assert row.budget == D(budget[index]), (name, serial_label(serial))
            if index < 4:
                assert row.actual == D(actual[index])
                assert row.variance == D(actual[index]) - D(budget[index])
            else:
                assert row.actual is None and row.variance is None
    march = totals[("Claims", month_serial(2026, 3))]
    assert (march.budget_ytd, march.actual_ytd, march.variance_ytd) == (
        D("2250.01"), D("5870.01"), D("3620.00")
    )  # fmt: skip
    assert march.flagged and march.closed
    assert totals[("Hosting", month_serial(2026, 4))].flagged  # −1,000.01
    assert not totals[("Hosting", month_serial(2026, 1))].flagged  # −0.01

    years = {(y.service, y.category): y for y in selectors.year_figures(rows)}
    claims, hosting = years[("Claims", "total")], years[("Hosting", "total")]
    assert (claims.budget, claims.actual, claims.forecast, claims.variance) == (
        D("10225.01"), D("7120.01"), D("13845.01"), D("3620.00")
    )  # fmt: skip
    assert claims.flagged
    assert (hosting.budget, hosting.actual, hosting.forecast, hosting.variance) == (
        D("15075.04"), D("4000.00"), D("15075.01"), D("-0.03")
    )  # fmt: skip
    assert not hosting.flagged
    development = years[("Claims", "development")]
    assert (development.budget, development.actual, development.forecast) == (
        D("1000.00"), D("4120.00"), D("4620.00")
    )  # fmt: skip
    flagged = selectors.flagged_variances(2026, version=year.version)
    assert [(r.service, r.month) for r in flagged] == [
        ("Claims", "2026-03"),
        ("Hosting", "2026-04"),
    ]


def test_rebuilding_a_draft_gives_the_same_lines():
    year = build_year()
    before = line_tuples(year.version)
    counts = services.build_budget(year.version, user=None)
    assert line_tuples(year.version) == before
    assert counts == {"contract": 12, "run_rate": 12, "planned": 1, "manual": 0}


def test_rebuild_keeps_manual_edits_and_replaces_the_rest():
    year = build_year()
    line = BudgetLine.objects.get(
        version=year.version, origin=BudgetOrigin.CONTRACT, serial=month_serial(2026, 12)
    )
    line.amount = D("1100.00")
    services.update_line(line=line)
    line.refresh_from_db()
    assert line.origin == BudgetOrigin.MANUAL
    assert line.origin_contract_id == year.contract.pk
    services.build_budget(year.version, user=None)
    # The edited line stays beside the contract's own line for the month.
    december = BudgetLine.objects.filter(version=year.version, serial=month_serial(2026, 12))
    assert sorted((x.origin, str(x.amount)) for x in december if x.contract_id) == [
        ("contract", "1050.00"), ("manual", "1100.00")
    ]  # fmt: skip


def test_an_approved_version_does_not_change_when_data_changes():
    year = build_year()
    version = services.approve(year.version, user=None)
    assert version.status == BudgetStatus.APPROVED and version.approved_at
    lines, results = (
        line_tuples(version),
        sorted(
            BudgetResult.objects.filter(version=version).values_list("service_id", "serial", "tco")
        ),
    )
    year.contract.annual_value = D("99000.00")
    year.contract.save()
    CostItemFactory(period=Period.objects.get(year=2025, month=12), service=year.hosting)
    with pytest.raises(ValidationError, match="approved"):
        services.build_budget(version, user=None)
    with pytest.raises(ValidationError, match="approved"):
        services.roll_up(version)
    with pytest.raises(ValidationError, match="approved") as refused:
        services.add_line(line=support_line(version, SERIALS[0], year.claims))
    assert "version" in refused.value.message_dict
    with pytest.raises(ValidationError, match="approved"):
        services.update_line(line=BudgetLine.objects.get(pk=year.capex.pk))
    with pytest.raises(ValidationError, match="approved"):
        services.delete_line(line=BudgetLine.objects.get(pk=year.capex.pk))
    assert line_tuples(version) == lines
    assert (
        sorted(
            BudgetResult.objects.filter(version=version).values_list("service_id", "serial", "tco")
        )
        == results
    )

    draft = services.new_draft(version, user=None, name="Reforecast")
    assert draft.based_on == version and draft.status == BudgetStatus.DRAFT
    assert line_tuples(draft) == lines
    services.build_budget(draft, user=None)
    contract_lines = BudgetLine.objects.filter(version=draft, origin=BudgetOrigin.CONTRACT)
    assert contract_lines.get(serial=SERIALS[1]).amount == D("8250.00")


def support_line(version, serial, service):
    return BudgetLine(
        version=version, serial=serial, service=service, amount=D(1),
        category=CostCategory.SUPPORT,
    )  # fmt: skip


def test_line_rules_name_the_field():
    year = build_year()
    with pytest.raises(ValidationError) as refused:
        services.add_line(line=support_line(year.version, month_serial(2027, 1), year.claims))
    assert "2027-01 is not in fiscal year 2026" in refused.value.message_dict["month"][0]
    entered = services.add_line(
        line=BudgetLine(version=year.version, serial=SERIALS[0], service=year.claims,
                        amount=D(1), category=CostCategory.SUPPORT, origin="run_rate")
    )  # fmt: skip
    assert entered.origin == BudgetOrigin.PLANNED


def contract(**fields):
    defaults = {
        "start_date": datetime.date(2024, 1, 1),
        "end_date": datetime.date(2024, 12, 31),
        "auto_renewal": True,
        "annual_value": D("1000.00"),
        "escalation_percent": D("3"),
        "notice_period_days": 30,
    }
    return ContractFactory.build(**{**defaults, **fields})


def test_contract_terms_compound_and_stop_with_notice_in_time():
    until = datetime.date(2027, 6, 15)
    terms = services.contract_terms(contract(), until=until)
    assert [(t.start.isoformat(), t.end.isoformat(), str(t.annual_value)) for t in terms] == [
        ("2024-01-01", "2024-12-31", "1000.00"),
        ("2025-01-01", "2025-12-31", "1030.00"),
        ("2026-01-01", "2026-12-31", "1060.90"),
        ("2027-01-01", "2027-12-31", "1092.73"),  # 1,092.727 rounded each term
    ]
    # Notice on the first term's deadline (30 days before its end) ends it with that term;
    # a day later is too late for that renewal: it ends with the next one.
    in_time = services.contract_terms(contract(notice_given_on=datetime.date(2024, 12, 1)),
                                      until=until)  # fmt: skip
    assert [t.end for t in in_time] == [datetime.date(2024, 12, 31)]
    late = services.contract_terms(contract(notice_given_on=datetime.date(2024, 12, 2)),
                                   until=until)  # fmt: skip
    assert [t.end for t in late] == [datetime.date(2024, 12, 31), datetime.date(2025, 12, 31)]
    assert len(services.contract_terms(contract(auto_renewal=False), until=until)) == 1


def test_without_a_rate_the_budget_stays_unallocated_in_its_currency():
    year = build_year()
    services.add_line(
        line=BudgetLine(version=year.version, serial=SERIALS[0], service=year.claims,
                        amount=D("10.00"), currency="GBP", category=CostCategory.SUPPORT)
    )  # fmt: skip
    services.roll_up(year.version)
    row = BudgetUnallocated.objects.get(version=year.version)
    assert (row.reason, row.amount, row.original_currency, row.original_amount) == (
        "no_rate", None, "GBP", D("10.00")
    )  # fmt: skip


def test_the_command_builds_and_rolls_up_the_years_draft():
    year = build_year()
    out = StringIO()
    call_command("build_budget", "--fiscal-year", "2026", stdout=out)
    assert "contract 12, run_rate 12, planned 1, manual 0" in out.getvalue()
    assert "Input 25300.05 = kept 25300.05 + unallocated 0.00" in out.getvalue()
    with pytest.raises(CommandError, match="fiscal year 2026"):
        call_command("build_budget", "--fiscal-year", "2027", "--version", str(year.version.pk))
    call_command("build_budget", "--fiscal-year", "2027", stdout=StringIO())
    assert BudgetVersion.objects.filter(fiscal_year=2027, name="Draft").exists()


def test_the_roll_up_task_leaves_an_approved_version_alone():
    year = build_year()
    BudgetResult.objects.filter(version=year.version).delete()
    assert tasks.roll_up_budget(year.version.pk) == year.version.pk
    assert BudgetResult.objects.filter(version=year.version).exists()
    services.approve(year.version, user=None)
    assert tasks.roll_up_budget(year.version.pk) is None
    assert tasks.roll_up_budget(999999) is None
