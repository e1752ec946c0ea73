"""Budgets: building a version's lines from what drives cost, people's lines, approval, and
the roll-up of the lines through the TCO engine (docs/budgets.md).

Every write of a line (the browser, the API, its bulk sync) goes through the rules below
(core.rules); the build and the roll-up write set-based, in one transaction each.
"""

import bisect
import datetime
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from decimal import localcontext
from fractions import Fraction
from typing import Any

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from budgets.choices import BUILT_ORIGINS
from budgets.choices import BudgetOrigin
from budgets.choices import BudgetStatus
from budgets.models import BudgetLine
from budgets.models import BudgetResult
from budgets.models import BudgetUnallocated
from budgets.models import BudgetVersion
from budgets.models import fiscal_year_serials
from core import rules
from core.api.sync import rows_synced
from core.money import CENT
from core.money import from_cents
from core.rules import Change
from core.rules import values_by_id
from finance import tco
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PeriodStatus
from finance.choices import UnallocatedReason
from finance.models import CostItem
from finance.models import CostPool
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import serial_label
from finance.selectors.inputs import ITEM_IN_MONTH_SQL
from finance.selectors.inputs import ITEM_SHARE_CENTS_SQL
from finance.selectors.inputs import driver_quantities
from finance.selectors.inputs import load_graph
from finance.selectors.inputs import monthly_share_cents
from finance.selectors.inputs import node_for
from finance.selectors.inputs import node_labels
from finance.services.outbox import queue_task
from finance.services.rollup import _cells_json
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import ServiceLifecycle
from portfolio.models import Application
from portfolio.models import Contract
from portfolio.models import Service

LOCKED = "This budget version is approved: its lines and figures are locked. Start a new draft."


def refuse_if_approved(version: BudgetVersion, what: str) -> None:
    """An approved version is never written again: refuse ``what`` with the reason."""
    if version.status == BudgetStatus.APPROVED:
        raise ValidationError({"version": f"{LOCKED} ({what} refused)"})


def _month_day(serial: int, day: int = 15) -> datetime.date:
    return datetime.date(serial // 12, serial % 12 + 1, day)


def _mid_month_start(serial: int) -> datetime.datetime:
    """The start of the 15th of the month ``serial``: a record retired before it does not
    count for the month (as finance.selectors.inputs.mid_month_start)."""
    mid = _month_day(serial)
    return timezone.make_aware(datetime.datetime(mid.year, mid.month, mid.day))


# --- Rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFacts:
    versions: dict[int, dict[str, Any]]
    retired: set[tuple[str, int]]


def line_facts(changes: Sequence[Change]) -> LineFacts:
    """The versions the changes write into (and out of), and the retired targets among
    those newly named: two to five queries for a whole batch."""
    version_ids = {c.row["version_id"] for c in changes} | {
        c.before["version_id"] for c in changes if c.before
    }
    versions = values_by_id(BudgetVersion, version_ids, "status", "fiscal_year")
    retired: set[tuple[str, int]] = set()
    wanted: dict[str, set[int]] = defaultdict(set)
    for change in changes:
        for name in ("service", "application", "contract", "pool"):
            pk = change.row.get(f"{name}_id")
            if pk is not None and (change.is_new or change.moved(f"{name}_id")):
                wanted[name].add(pk)
    if wanted["service"]:
        for pk, row in values_by_id(Service, wanted["service"], "lifecycle").items():
            if row["lifecycle"] == ServiceLifecycle.RETIRED:
                retired.add(("service", pk))
    if wanted["application"]:
        rows = values_by_id(Application, wanted["application"], "lifecycle", "retired_at")
        for pk, row in rows.items():
            if row["lifecycle"] == ApplicationLifecycle.RETIRED or row["retired_at"]:
                retired.add(("application", pk))
    for name, model in (("contract", Contract), ("pool", CostPool)):
        if wanted[name]:
            for pk, row in values_by_id(model, wanted[name], "retired_at").items():
                if row["retired_at"] is not None:
                    retired.add((name, pk))
    return LineFacts(versions, retired)


@rules.rule(BudgetLine, facts=line_facts)
def budget_line_rule(change: Change, facts: LineFacts) -> None:
    """A line is written into a draft only (an approved version is locked), in a month of
    its version's fiscal year, against a target in use; opex is one month's; a built line
    edited by hand becomes manual (a rebuild then keeps it)."""
    version = facts.versions.get(change.row["version_id"])
    before_version = facts.versions.get(change.before["version_id"]) if change.before else None
    if (version and version["status"] == BudgetStatus.APPROVED) or (
        before_version and before_version["status"] == BudgetStatus.APPROVED
    ):
        change.error("version", LOCKED)
        return
    if version and change.row["serial"] is not None:
        serials = fiscal_year_serials(version["fiscal_year"])
        if not serials[0] <= change.row["serial"] <= serials[-1]:
            change.error(
                "month",
                f"{serial_label(change.row['serial'])} is not in fiscal year "
                f"{version['fiscal_year']} ({serial_label(serials[0])} to "
                f"{serial_label(serials[-1])}).",
            )
    if change.row["expenditure"] == Expenditure.OPEX:
        change.row["spread_months"] = 1
    for name in ("service", "application", "contract", "pool"):
        pk = change.row.get(f"{name}_id")
        if pk is not None and (name, pk) in facts.retired:
            change.error(name, f"This {name} is retired: it takes no new budget.")
    if change.is_new:
        if change.row["origin"] in BUILT_ORIGINS:
            # Contract and run-rate lines come from the build only; one entered is planned.
            change.row["origin"] = BudgetOrigin.PLANNED.value
        if change.row["origin"] != BudgetOrigin.CONTRACT:
            change.row["origin_contract_id"] = None
    else:
        edited = any(
            change.moved(name)
            for name in (
                "serial", "amount", "currency", "category", "expenditure", "spread_months",
                "pool_type", "service_id", "application_id", "contract_id", "pool_id", "note",
            )
        )  # fmt: skip
        if edited and change.before and change.before["origin"] in BUILT_ORIGINS:
            change.row["origin"] = BudgetOrigin.MANUAL.value
        elif change.moved("origin") and change.row["origin"] in BUILT_ORIGINS:
            change.error("origin", "Only the build makes contract and run-rate lines.")


def version_facts(changes: Sequence[Change]) -> dict[tuple[int, str], int]:
    keys = {(c.row["fiscal_year"], c.row["name"]) for c in changes}
    taken = {}
    for pk, year, name in BudgetVersion.objects.filter(
        fiscal_year__in={year for year, _ in keys}
    ).values_list("pk", "fiscal_year", "name"):
        taken[(year, name)] = pk
    return taken


@rules.rule(BudgetVersion, facts=version_facts)
def budget_version_rule(change: Change, facts: dict[tuple[int, str], int]) -> None:
    """An approved version keeps its year and run rate; names are unique per fiscal year."""
    if change.before and change.before["status"] == BudgetStatus.APPROVED:
        for name in ("fiscal_year", "run_rate_months"):
            if change.moved(name):
                change.error(name, LOCKED)
    owner = facts.get((change.row["fiscal_year"], change.row["name"]))
    if owner is not None and owner != change.row.get("id"):
        change.error("name", "This fiscal year already has a budget of this name.")


# --- Versions --------------------------------------------------------------------------------


def create_version(
    *, fiscal_year: int, name: str, user=None, run_rate_months: int | None = None
) -> BudgetVersion:
    """A new, empty draft of ``fiscal_year``."""
    version = BudgetVersion(fiscal_year=fiscal_year, name=name, created_by=_user(user))
    if run_rate_months is not None:
        version.run_rate_months = run_rate_months
    return rules.save_checked(version, user=user, validate_unique=False)


def save_version(*, version: BudgetVersion, user=None) -> BudgetVersion:
    return rules.save_checked(version, user=user, validate_unique=False)


def delete_version(*, version: BudgetVersion) -> None:
    """A draft may be deleted (its lines and figures with it); an approved one never."""
    refuse_if_approved(version, "deleting it")
    version.delete()


def _user(user):
    return user if getattr(user, "is_authenticated", False) else None


def approve(version: BudgetVersion, *, user) -> BudgetVersion:
    """Roll the draft up once more on today's data and lock it: from now on its lines and
    figures stay as they are, whatever the data does."""
    with transaction.atomic():
        locked = BudgetVersion.objects.select_for_update().get(pk=version.pk)
        refuse_if_approved(locked, "approving it again")
        roll_up(locked)
        locked.status = BudgetStatus.APPROVED
        locked.approved_at = timezone.now()
        locked.approved_by = _user(user)
        locked.save()
    version.refresh_from_db()
    return version


def new_draft(from_version: BudgetVersion, *, user, name: str) -> BudgetVersion:
    """A draft of the same fiscal year starting from ``from_version``: its lines copied with
    their origins (a rebuild replaces the contract and run-rate ones, keeps the others). Its
    figures are rolled up afresh."""
    with transaction.atomic():
        draft = BudgetVersion(
            fiscal_year=from_version.fiscal_year,
            name=name,
            based_on=from_version,
            run_rate_months=from_version.run_rate_months,
            built_at=from_version.built_at,
            created_by=_user(user),
        )
        rules.save_checked(draft, user=user, validate_unique=False)
        columns = [
            field.column
            for field in BudgetLine._meta.concrete_fields
            if field.name not in ("id", "version", "source", "external_id")
        ]
        names = ", ".join(columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {BudgetLine._meta.db_table} (version_id, source, external_id, "
                f"{names}) SELECT %s, '', '', {names} FROM {BudgetLine._meta.db_table} "
                "WHERE version_id = %s ORDER BY id",
                [draft.pk, from_version.pk],
            )
    return draft


# --- Lines by hand -----------------------------------------------------------------------------


def add_line(*, line: BudgetLine, user=None) -> BudgetLine:
    """A planned line (one-off or capex, spread as a cost item is) entered by finance."""
    if line.origin in BUILT_ORIGINS or not line.origin:
        line.origin = BudgetOrigin.PLANNED
    rules.save_checked(line, user=user)
    queue_roll_up(line.version_id)
    return line


def update_line(*, line: BudgetLine, user=None) -> BudgetLine:
    """Edit a line; a contract or run-rate line edited by hand turns manual."""
    before = BudgetLine.objects.filter(pk=line.pk).values_list("version_id", flat=True).first()
    rules.save_checked(line, user=user)
    for version_id in {line.version_id, before}:
        if version_id is not None:
            queue_roll_up(version_id)
    return line


def save_line(*, line: BudgetLine, user=None) -> BudgetLine:
    """add_line for a new line, update_line for a stored one (the API's single writes)."""
    return add_line(line=line, user=user) if line.pk is None else update_line(line=line, user=user)


def delete_line(*, line: BudgetLine, user=None) -> None:
    """Remove a line of a draft (an approved version's lines are locked)."""
    version = BudgetVersion.objects.get(pk=line.version_id)
    refuse_if_approved(version, "deleting a line")
    line.delete()
    queue_roll_up(version.pk)


@receiver(rows_synced, sender=BudgetLine)
def _lines_synced(sender, changes, **kwargs) -> None:
    """A bulk sync of lines asks for the roll-up of every version it wrote into."""
    versions = set()
    for before, after in changes:
        for row in (before, after):
            if row and row.get("version_id"):
                versions.add(row["version_id"])
    for version_id in sorted(versions):
        queue_roll_up(version_id)


# --- The build ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One term of a contract: its days (both inclusive; no end: open) and annual value."""

    start: datetime.date
    end: datetime.date | None
    annual_value: Decimal


def contract_terms(contract: Contract, *, until: datetime.date) -> list[Term]:
    """The terms of ``contract`` up to ``until``: its own (start to end date), then, when it
    renews automatically, terms of the same length (start to end, in months and days), each
    at the previous annual value raised by ``escalation_percent`` (rounded to the cent half
    to even, so the rise compounds term by term).

    Notice stops the renewals: a notice given on or before a term's notice deadline (its
    last day less ``notice_period_days``; for the first term ``Contract.notice_deadline``,
    which heeds a renewal date) ends the contract with that term; a notice given later is
    too late for that renewal, and ends the contract with the next term whose deadline it
    meets."""
    first = Term(contract.start_date, contract.end_date, contract.annual_value)
    terms = [first]
    if contract.end_date is None or not contract.auto_renewal:
        return terms
    length = relativedelta(contract.end_date + timedelta(days=1), contract.start_date)
    notice = contract.notice_given_on
    rise = 1 + contract.escalation_percent / 100
    while True:
        term = terms[-1]
        assert term.end is not None
        deadline = (
            contract.notice_deadline
            if len(terms) == 1
            else term.end - timedelta(days=contract.notice_period_days)
        )
        if notice is not None and deadline is not None and notice <= deadline:
            return terms
        if term.end >= until:
            return terms
        count = len(terms)
        start = contract.start_date + length * count
        end = contract.start_date + length * (count + 1) - timedelta(days=1)
        if start <= term.end:  # a term of no length would never end
            return terms
        value = (term.annual_value * rise).quantize(CENT, rounding=ROUND_HALF_EVEN)
        terms.append(Term(start, end, value))


def _term_on(terms: list[Term], day: datetime.date) -> Term | None:
    for term in terms:
        if term.start <= day and (term.end is None or day <= term.end):
            return term
    return None


def contract_line_rows(fiscal_year: int) -> list[dict]:
    """The contract lines of ``fiscal_year``: for each month whose 15th a contract (or a
    renewal term of it) is in force and not retired, a twelfth of the term's annual value
    in whole cents by the actuals' rule (finance.selectors.inputs.monthly_share_cents)."""
    serials = fiscal_year_serials(fiscal_year)
    until = _month_day(serials[-1])
    rows = []
    contracts = Contract.objects.filter(start_date__lte=until).order_by("pk")
    for contract in contracts:
        terms = contract_terms(contract, until=until)
        for serial in serials:
            if contract.retired_at is not None and contract.retired_at < _mid_month_start(serial):
                continue
            term = _term_on(terms, _month_day(serial))
            if term is None:
                continue
            cents = monthly_share_cents(int(term.annual_value * 100), serial % 12 + 1)
            if not cents:
                continue
            rows.append(
                {
                    "serial": serial,
                    "contract_id": contract.pk,
                    "origin_contract_id": contract.pk,
                    "amount": from_cents(cents),
                    "currency": contract.currency,
                    "category": CostCategory.VENDOR.value,
                    "expenditure": Expenditure.OPEX.value,
                    "origin": BudgetOrigin.CONTRACT.value,
                    "note": _term_note(contract, term),
                }
            )
    return rows


def _term_note(contract: Contract, term: Term) -> str:
    if term.start == contract.start_date:
        return f"{contract.reference}: annual value {term.annual_value}"
    return (
        f"{contract.reference}: renewal from {term.start.isoformat()}, annual value "
        f"{term.annual_value} (+{contract.escalation_percent.normalize():f} % a term)"
    )


# The items' shares of each wanted month (the actuals' rule, ITEM_SHARE_CENTS_SQL), summed
# by target, category, opex/capex and currency over all those months.
RUN_RATE_SQL = f"""
    SELECT ci.service_id, ci.application_id, ci.contract_id, ci.pool_id,
           ci.category, ci.expenditure, ci.currency,
           CASE WHEN MIN(ci.pool_type) = MAX(ci.pool_type) THEN MIN(ci.pool_type) ELSE '' END,
           SUM({ITEM_SHARE_CENTS_SQL % {"serial": "m.serial"}}) AS cents
      FROM {CostItem._meta.db_table} ci
      JOIN {Period._meta.db_table} p ON p.id = ci.period_id
      JOIN unnest(%(serials)s::integer[]) AS m(serial)
        ON {ITEM_IN_MONTH_SQL % {"serial": "m.serial"}}
     GROUP BY 1, 2, 3, 4, 5, 6, 7
     ORDER BY 1, 2, 3, 4, 5, 6, 7
"""


def run_rate_months(fiscal_year: int, months: int) -> list[int]:
    """The serials of the last ``months`` closed periods before ``fiscal_year`` starts
    (fewer when fewer are closed), latest first."""
    first = fiscal_year_serials(fiscal_year)[0]
    return list(
        Period.objects.filter(status=PeriodStatus.CLOSED, serial__lt=first)
        .order_by("-serial")
        .values_list("serial", flat=True)[:months]
    )


def _retired_nodes() -> set[tco.Node]:
    retired: set[tco.Node] = set()
    retired |= {
        (tco.SERVICE, pk)
        for pk in Service.objects.filter(lifecycle=ServiceLifecycle.RETIRED).values_list(
            "pk", flat=True
        )
    }
    for pk, lifecycle, retired_at in Application.objects.values_list(
        "pk", "lifecycle", "retired_at"
    ):
        if lifecycle == ApplicationLifecycle.RETIRED or retired_at is not None:
            retired.add((tco.APPLICATION, pk))
    retired |= {
        (tco.CONTRACT, pk)
        for pk in Contract.objects.filter(retired_at__isnull=False).values_list("pk", flat=True)
    }
    retired |= {
        (tco.POOL, pk)
        for pk in CostPool.objects.filter(retired_at__isnull=False).values_list("pk", flat=True)
    }
    return retired


def run_rate_line_rows(fiscal_year: int, months: int) -> list[dict]:
    """The run-rate lines: per target (not retired), category, opex/capex and currency, the
    average month of its cost items over the last ``months`` closed periods before the year
    (each item counted by its share of each month, capex spread as the actuals spread it;
    a month without an item counts as zero; with fewer closed periods, over those there are).

    Cents: the year's total is twelve averages, 12 × total ÷ months rounded half to even to
    the cent; it is split into twelve months by largest remainder, whose remainders are all
    equal, so the odd cents go to the first months of the fiscal year
    (finance.selectors.inputs.monthly_share_cents): the twelve lines add up to it exactly."""
    chosen = run_rate_months(fiscal_year, months)
    if not chosen:
        return []
    with connection.cursor() as cursor:
        cursor.execute(RUN_RATE_SQL, {"serials": chosen})
        groups = cursor.fetchall()
    retired = _retired_nodes()
    serials = fiscal_year_serials(fiscal_year)
    rows = []
    basis = f"average of {', '.join(serial_label(s) for s in sorted(chosen))}"
    for s_id, a_id, c_id, p_id, category, expenditure, currency, pool_type, cents in groups:
        node = node_for(s_id, a_id, c_id, p_id)
        if node in retired:
            continue
        annual = round(Fraction(12 * int(cents), len(chosen)))
        if not annual:
            continue
        for fiscal_month, serial in enumerate(serials, start=1):
            share = monthly_share_cents(annual, fiscal_month)
            if not share:
                continue
            rows.append(
                {
                    "serial": serial,
                    f"{node[0]}_id": node[1],
                    "amount": from_cents(share),
                    "currency": currency,
                    "category": category,
                    "expenditure": expenditure,
                    "pool_type": pool_type or "",
                    "origin": BudgetOrigin.RUN_RATE.value,
                    "note": f"Run rate: {basis}",
                }
            )
    return rows


LINE_COLUMNS = (
    "version_id", "serial", "amount", "currency", "category", "expenditure", "spread_months",
    "pool_type", "service_id", "application_id", "contract_id", "pool_id", "note", "origin",
    "origin_contract_id", "source", "external_id", "created_at", "updated_at",
)  # fmt: skip


def build_budget(version: BudgetVersion, *, user) -> dict:
    """Replace the version's contract and run-rate lines by those today's data gives (the
    same data gives the same lines), keeping its planned and manual lines; then ask for its
    roll-up. An approved version is refused. The counts of lines by origin."""
    with transaction.atomic():
        locked = BudgetVersion.objects.select_for_update().get(pk=version.pk)
        refuse_if_approved(locked, "rebuilding it")
        built = contract_line_rows(locked.fiscal_year) + run_rate_line_rows(
            locked.fiscal_year, locked.run_rate_months
        )
        now = timezone.now()
        table = BudgetLine._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE version_id = %s AND origin = ANY(%s)",
                [locked.pk, list(BUILT_ORIGINS)],
            )
            with cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in built:
                    values = {
                        "version_id": locked.pk,
                        "spread_months": 1,
                        "pool_type": "",
                        "service_id": None,
                        "application_id": None,
                        "contract_id": None,
                        "pool_id": None,
                        "origin_contract_id": None,
                        "source": "",
                        "external_id": "",
                        "created_at": now,
                        "updated_at": now,
                        **row,
                    }
                    copy.write_row(tuple(values[column] for column in LINE_COLUMNS))
        locked.built_at = now
        locked.save(update_fields=["built_at", "updated_at"])
        counts = dict.fromkeys(BudgetOrigin.values, 0)
        for origin, count in _origin_counts(locked):
            counts[origin] = count
        queue_roll_up(locked.pk)
    version.refresh_from_db()
    return counts


def _origin_counts(version: BudgetVersion):
    from django.db.models import Count

    return (
        BudgetLine.objects.filter(version=version)
        .values("origin")
        .annotate(n=Count("id"))
        .values_list("origin", "n")
    )


ROLL_UP_TASK = "budgets.tasks.roll_up_budget"


def queue_roll_up(version_id: int) -> None:
    """Ask for the version's roll-up after the current transaction commits (through the
    finance outbox: a broker outage delays it, never loses it)."""
    queue_task(task=ROLL_UP_TASK, args=[version_id])


def ensure_draft(fiscal_year: int, *, user=None) -> BudgetVersion:
    """The latest draft of ``fiscal_year``, or a new one ("Draft", "Draft 2", …)."""
    draft = (
        BudgetVersion.objects.filter(fiscal_year=fiscal_year, status=BudgetStatus.DRAFT)
        .order_by("-created_at", "-pk")
        .first()
    )
    if draft is not None:
        return draft
    names = set(
        BudgetVersion.objects.filter(fiscal_year=fiscal_year).values_list("name", flat=True)
    )
    name, count = "Draft", 1
    while name in names:
        count += 1
        name = f"Draft {count}"
    return create_version(fiscal_year=fiscal_year, name=name, user=user)


# --- The roll-up -------------------------------------------------------------------------------

# Each line's share of each month of the year in whole cents, by the actuals' rule
# (ITEM_SHARE_CENTS_SQL: capex spread over its months, odd cents to the first), summed by
# target, category, opex/capex, currency and month.
LINE_SHARES_SQL = f"""
    SELECT ci.service_id, ci.application_id, ci.contract_id, ci.pool_id,
           ci.category, ci.expenditure, ci.currency, m.serial,
           SUM({ITEM_SHARE_CENTS_SQL % {"serial": "m.serial"}}) AS cents
      FROM {BudgetLine._meta.db_table} ci
     CROSS JOIN LATERAL (SELECT ci.serial AS serial) p
      JOIN unnest(%(serials)s::integer[]) AS m(serial)
        ON {ITEM_IN_MONTH_SQL % {"serial": "m.serial"}}
     WHERE ci.version_id = %(version)s
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
     ORDER BY 8, 1, 2, 3, 4, 5, 6, 7
"""


class BudgetRates:
    """The rate of a currency in a budget month: the month's own recorded rate, else the
    latest one recorded before it (a budget month may lie ahead of every rate)."""

    def __init__(self) -> None:
        self.serials: dict[str, list[int]] = defaultdict(list)
        self.rates: dict[str, list[Decimal]] = defaultdict(list)
        for currency, serial, rate in ExchangeRate.objects.order_by(
            "currency", "period__serial"
        ).values_list("currency", "period__serial", "rate"):
            self.serials[currency].append(serial)
            self.rates[currency].append(rate)

    def rate(self, currency: str, serial: int) -> Decimal | None:
        from django.conf import settings

        if currency == settings.PORTICO_CURRENCY:
            return Decimal(1)
        index = bisect.bisect_right(self.serials.get(currency, []), serial)
        return self.rates[currency][index - 1] if index else None


def _quantities_for(serial: int, measured: list[tuple[int, int]]) -> dict:
    """The driver quantities of the latest month at or before ``serial`` that has any: a
    budget month assumes the last measured consumption goes on."""
    index = bisect.bisect_right([s for s, _ in measured], serial)
    if not index:
        return {}
    return driver_quantities(Period(pk=measured[index - 1][1]))


@dataclass
class MonthRollUp:
    """One month's rounded figures, and what stayed unconverted (no rate at all)."""

    serial: int
    rounded: tco.Rounded
    unconverted: dict[tuple[tco.Node, str], int]


def roll_up_month(
    serial: int,
    groups: list[tuple],
    rates: BudgetRates,
    measured: list[tuple[int, int]],
    adjust=None,
) -> MonthRollUp:
    """The engine on one budget month: the edges in force on its 15th (load_graph), the
    lines' shares of the month as the costs, allocated and rounded as actuals are.
    ``adjust(inputs)``, when given, changes the inputs before the engine runs (a what-if)."""
    year, month = serial // 12, serial % 12 + 1
    period = Period.objects.filter(serial=serial).first() or Period(year=year, month=month)
    inputs = load_graph(period)
    if any(edge.driver is not None for edge in inputs.edges):
        inputs.quantities = _quantities_for(serial, measured)
    unconverted: dict[tuple[tco.Node, str], int] = {}
    with localcontext() as ctx:
        ctx.prec = tco.PRECISION
        for s_id, a_id, c_id, p_id, category, expenditure, currency, _, cents in groups:
            node = node_for(s_id, a_id, c_id, p_id)
            rate = rates.rate(currency, serial)
            if rate is None:
                unconverted[(node, currency)] = unconverted.get((node, currency), 0) + cents
                continue
            vector = inputs.costs.get(node)
            if vector is None:
                vector = inputs.costs[node] = tco.zeros()
            vector[tco.CELL_INDEX[(category, expenditure)]] += (Decimal(cents) * rate).scaleb(-2)
    if adjust is not None:
        adjust(inputs)
    return MonthRollUp(serial, tco.round_allocation(tco.allocate(inputs)), unconverted)


def line_shares(version: BudgetVersion) -> dict[int, list[tuple]]:
    """The lines' shares of each month of the version's year, by month, in one query."""
    by_month: dict[int, list[tuple]] = {serial: [] for serial in version.serials}
    with connection.cursor() as cursor:
        cursor.execute(LINE_SHARES_SQL, {"serials": version.serials, "version": version.pk})
        for row in cursor.fetchall():
            by_month[row[7]].append(row)
    return by_month


def measured_months() -> list[tuple[int, int]]:
    """(serial, period id) of the months with driver quantities, earliest first."""
    return sorted(DriverQuantity.objects.values_list("period__serial", "period_id").distinct())


def compute_budget(version: BudgetVersion, adjust=None) -> list[MonthRollUp]:
    """The version's budgeted TCO, month by month, in memory: nothing is written."""
    rates = BudgetRates()
    measured = measured_months()
    return [
        roll_up_month(serial, groups, rates, measured, adjust)
        for serial, groups in line_shares(version).items()
    ]


RESULT_FIGURES = tco.FIGURES
RESULT_COLUMNS = (
    "version_id", "serial", "service_id", *RESULT_FIGURES,
    *(f"tco_{c}" for c in tco.CATEGORIES), *(f"tco_{e}" for e in tco.EXPENDITURES),
    "breakdown",
)  # fmt: skip
UNALLOCATED_COLUMNS = (
    "version_id", "serial", "source_kind", "source_id", "source_label", "reason", "amount",
    "original_currency", "original_amount", "breakdown",
)  # fmt: skip


def _result_rows(version_id: int, month: MonthRollUp):
    category_of = [category for category, _ in tco.CELLS]
    expenditure_of = [expenditure for _, expenditure in tco.CELLS]
    for node, figures in sorted(month.rounded.services.items()):
        totals = {name: sum(figures[name]) for name in RESULT_FIGURES}
        if not any(totals.values()):
            continue
        by_category = dict.fromkeys(tco.CATEGORIES, 0)
        by_expenditure = dict.fromkeys(tco.EXPENDITURES, 0)
        for index, cents in enumerate(figures["tco"]):
            if cents:
                by_category[category_of[index]] += cents
                by_expenditure[expenditure_of[index]] += cents
        yield (
            version_id,
            month.serial,
            node[1],
            *(from_cents(totals[name]) for name in RESULT_FIGURES),
            *(from_cents(by_category[c]) for c in tco.CATEGORIES),
            *(from_cents(by_expenditure[e]) for e in tco.EXPENDITURES),
            json.dumps(
                {name: _cells_json(figures[name]) for name in RESULT_FIGURES if totals[name]}
            ),
        )


def _unallocated_rows(version_id: int, month: MonthRollUp, labels: dict):
    for (node, reason), cells in sorted(month.rounded.unallocated.items()):
        yield (
            version_id, month.serial, node[0], node[1], labels.get(node, "")[:300], reason,
            from_cents(sum(cells)), "", None, json.dumps(_cells_json(cells)),
        )  # fmt: skip
    for (node, currency), cents in sorted(month.unconverted.items()):
        yield (
            version_id, month.serial, node[0], node[1], labels.get(node, "")[:300],
            UnallocatedReason.NO_RATE.value, None, currency, from_cents(cents), "{}",
        )  # fmt: skip


def roll_up(version: BudgetVersion) -> None:
    """Roll the version's lines up through the TCO engine, month by month, and replace its
    results (BudgetResult, BudgetUnallocated): the same five buckets, roads and breakdown as
    actuals, and per month input = kept + unallocated to the cent. An approved version's
    figures are frozen: refused."""
    refuse_if_approved(version, "rolling it up again")
    months = compute_budget(version)
    nodes = {node for m in months for node, _ in m.rounded.unallocated} | {
        node for m in months for node, _ in m.unconverted
    }
    labels = node_labels(nodes)
    input_total = sum(m.rounded.input_total for m in months)
    kept_total = sum(m.rounded.kept_total for m in months)
    unallocated_total = sum(m.rounded.unallocated_total for m in months)
    with transaction.atomic():
        locked = BudgetVersion.objects.select_for_update().get(pk=version.pk)
        refuse_if_approved(locked, "rolling it up again")
        with connection.cursor() as cursor:
            for model, columns, rows in (
                (BudgetResult, RESULT_COLUMNS, (r for m in months for r in _result_rows(
                    locked.pk, m))),
                (BudgetUnallocated, UNALLOCATED_COLUMNS, (r for m in months
                    for r in _unallocated_rows(locked.pk, m, labels))),
            ):  # fmt: skip
                table = model._meta.db_table
                cursor.execute(f"DELETE FROM {table} WHERE version_id = %s", [locked.pk])
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        BudgetVersion.objects.filter(pk=locked.pk).update(
            rolled_up_at=timezone.now(),
            input_total=from_cents(input_total),
            kept_total=from_cents(kept_total),
            unallocated_total=from_cents(unallocated_total),
        )
    version.refresh_from_db()
