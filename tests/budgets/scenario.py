"""The hand-computed fiscal year 2026 of the budgets tests (calendar fiscal year, EUR).

Claims and Hosting share contract K-1 (Claims 3, Hosting 1): 12,000.01 a year from 2025-07-01
to 2026-06-30, renewing automatically at +5 %: from 2026-07-01 12,600.01 (12,600.0105
rounded). Its twelfths (odd cents to January): 1,000.01 in January, 1,000.00 to June,
1,050.00 from July.

Run rate: Hosting's infrastructure cost items in the last three closed months before 2026:
900.00 (2025-10), 1,000.00 (2025-11), 1,100.01 (2025-12), 3,000.01 in all; 5,000.00 in
2025-09 is older and ignored. A year of it is 12 × 3,000.01 / 3 = 12,000.04: 1,000.01 from
January to April, 1,000.00 from May.

Planned: 1,000.00 of development capex for Claims in 2026-04, spread over 6 months:
166.67 April to July, 166.66 in August and September.

Budget per month (the engine rounds each month by largest remainder):
  Claims: 750.01 (Jan), 750.00 (Feb, Mar), 916.67 (Apr-Jun), 954.17 (Jul), 954.16 (Aug,
          Sep), 787.50 (Oct-Dec): 10,225.01.
  Hosting: 1,250.01 (Jan-Apr), 1,250.00 (May, Jun), 1,262.50 (Jul-Dec): 15,075.04.

Actuals: 2026-01 to 2026-03 closed, 2026-04 open. Claims' development 800.00, 820.00,
2,000.00 and 500.00; Hosting's infrastructure 1,000.00 in each closed month; the contract's
twelfth (1,000.01, then 1,000.00) shared 3:1.
  Claims: 1,550.01, 1,570.00, 2,750.00, 1,250.00.   Hosting: 1,250.00 × 3, 250.00.
Forecast (closed actuals + budget of April to December):
  Claims: 5,870.01 + 7,975.00 = 13,845.01 (variance +3,620.00, flagged).
  Hosting: 3,750.00 + 11,325.01 = 15,075.01 (variance −0.03).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from budgets import services
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from finance import services as finance_services
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.models import Period
from finance.models import month_serial
from portfolio.models import Contract
from portfolio.models import Service
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import ContractCoverageFactory
from tests.factories.portfolio import ContractFactory
from tests.factories.portfolio import ServiceFactory

D = Decimal

CLAIMS_BUDGET = [
    "750.01", "750.00", "750.00", "916.67", "916.67", "916.67",
    "954.17", "954.16", "954.16", "787.50", "787.50", "787.50",
]  # fmt: skip
HOSTING_BUDGET = ["1250.01"] * 4 + ["1250.00"] * 2 + ["1262.50"] * 6
CLAIMS_ACTUAL = ["1550.01", "1570.00", "2750.00", "1250.00"]
HOSTING_ACTUAL = ["1250.00", "1250.00", "1250.00", "250.00"]


@dataclass
class Year:
    claims: Service
    hosting: Service
    contract: Contract
    version: BudgetVersion
    capex: BudgetLine


def build_year(user=None) -> Year:
    claims = ServiceFactory(name="Claims")
    hosting = ServiceFactory(name="Hosting")
    contract = ContractFactory(
        reference="K-1",
        start_date=datetime.date(2025, 7, 1),
        end_date=datetime.date(2026, 6, 30),
        auto_renewal=True,
        escalation_percent=D("5"),
        annual_value=D("12000.01"),
        notice_period_days=90,
    )
    ContractCoverageFactory(contract=contract, service=claims, weight=D(3))
    ContractCoverageFactory(contract=contract, service=hosting, weight=D(1))

    infrastructure = {"category": CostCategory.INFRASTRUCTURE, "service": hosting}
    for month, amount in ((9, "5000.00"), (10, "900.00"), (11, "1000.00"), (12, "1100.01")):
        CostItemFactory(period=PeriodFactory(year=2025, month=month), amount=D(amount),
                        **infrastructure)  # fmt: skip
    for month in (9, 10, 11, 12):
        close(Period.objects.get(year=2025, month=month))

    for month, amount in ((1, "800.00"), (2, "820.00"), (3, "2000.00"), (4, "500.00")):
        period = PeriodFactory(year=2026, month=month)
        CostItemFactory(period=period, amount=D(amount), service=claims)
        if month < 4:
            CostItemFactory(period=period, amount=D("1000.00"), **infrastructure)
    for month in (1, 2, 3):
        close(Period.objects.get(year=2026, month=month))
    finance_services.recompute_tco(period=Period.objects.get(year=2026, month=4))

    version = services.create_version(fiscal_year=2026, name="Plan", user=user)
    services.build_budget(version, user=user)
    capex = services.add_line(
        line=BudgetLine(
            version=version,
            serial=month_serial(2026, 4),
            service=claims,
            amount=D("1000.00"),
            currency="EUR",
            category=CostCategory.DEVELOPMENT,
            expenditure=Expenditure.CAPEX,
            spread_months=6,
            note="New claims portal",
        ),
        user=user,
    )
    services.roll_up(version)
    return Year(claims, hosting, contract, version, capex)


def close(period: Period) -> None:
    finance_services.close_period(period=period)
