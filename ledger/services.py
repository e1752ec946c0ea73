"""The general ledger: the mapping rules' write rules, matching lines to rules, testing rules
against a file, and the import.

The import books each period of a ledger file (CSV or XLSX, ledger.files):

- its lines are stored as read (LedgerLine), each with the first rule, by priority, that
  matches it, or as unmapped when none does;
- their amounts are booked as finance cost items, one per rule and currency, on the rule's
  target with its category, expenditure and pool type, under a deterministic
  (source ``ledger``, external_id), so the roll-up converts and shares them as any other cost;
  the unmapped rest goes, per currency, to the unmapped pool, which is allocated to nothing:
  the roll-up reports it as unallocated, reason "unmapped", naming the largest unmapped
  accounts (ledger.selectors.unmapped_explanations) - never dropped;
- the cents of a currency's cost items add up to the lines' amounts rounded once (half to
  even), shared by largest remainder (finance.tco.apportion): file = mapped + unmapped, to
  the cent.

Importing a period again replaces its lines and cost items; the same lines under the same
rules write nothing. A closed period's figures stay as they were until it is restated
(finance.services.restate_period), as for any cost item.
"""

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import IO
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction
from django.utils import timezone

from core import rules
from core.money import to_cents
from core.rules import Change
from finance import services as finance_services
from finance import tco
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PoolType
from finance.models import CostPool
from finance.models import Period
from finance.models import month_serial
from finance.models import serial_label
from ledger import files
from ledger.choices import ImportOutcome
from ledger.choices import MatchKind
from ledger.models import CRITERIA
from ledger.models import TARGET_FIELDS
from ledger.models import LedgerImport
from ledger.models import LedgerLine
from ledger.models import LedgerRule

SOURCE = "ledger"  # the source of the cost items the import books, and of the unmapped pool
UNMAPPED_POOL_ID = "unmapped"  # the unmapped pool's external id
TOP_UNMAPPED = 5  # (account, cost centre, vendor) named per period
MATCHES_KEPT = 200_000  # distinct values of a field whose rules are remembered (Matcher.mask)
CRITERION_LABELS = {"account": "account", "cost_centre": "cost centre", "vendor": "vendor"}


# --- Rules ------------------------------------------------------------------------------------


def compile_pattern(pattern: str) -> re.Pattern:
    """A rule's regular expression as lines are matched by it (case does not matter); raises
    re.error for one that is not valid."""
    return re.compile(pattern, re.IGNORECASE)


@rules.rule(LedgerRule)
def ledger_rule_rule(change: Change, facts: None) -> None:
    """A rule names at least one criterion; each is stored without stray spaces, and a regular
    expression must compile (its error is told beside its field)."""
    row = change.row
    for name in CRITERIA:
        row[name] = " ".join((row[name] or "").split())
        kind = row[f"{name}_match"]
        if row[name] and kind == MatchKind.REGEX:
            try:
                compile_pattern(row[name])
            except re.error as exc:
                change.error(name, f"This is not a valid regular expression: {exc}.")
    if not any(row[name] for name in CRITERIA):
        change.error(
            "account", "Give at least one criterion: an account, a cost centre or a vendor."
        )


def save_rule(*, rule: LedgerRule) -> LedgerRule:
    return rules.save_checked(rule)


def remove_rule(*, rule: LedgerRule) -> str:
    rule.delete()
    return "deleted"


@dataclass(frozen=True)
class Criterion:
    """One of a rule's criteria, ready to compare with a line's value."""

    name: str
    kind: str
    text: str  # casefolded, for exact and prefix
    pattern: re.Pattern | None

    def matches(self, value: str) -> bool:
        if self.kind == MatchKind.REGEX:
            assert self.pattern is not None
            return self.pattern.fullmatch(value) is not None
        if self.kind == MatchKind.PREFIX:
            return value.casefold().startswith(self.text)
        return value.casefold() == self.text


@dataclass(frozen=True)
class CompiledRule:
    rule: LedgerRule
    criteria: tuple[Criterion, ...]


def compiled(rule: LedgerRule) -> CompiledRule:
    criteria = []
    for name in CRITERIA:
        value = getattr(rule, name)
        if not value:
            continue
        kind = getattr(rule, f"{name}_match")
        pattern = compile_pattern(value) if kind == MatchKind.REGEX else None
        criteria.append(Criterion(name, kind, value.casefold(), pattern))
    return CompiledRule(rule, tuple(criteria))


class Matcher:
    """The rules by priority: which rule takes a line.

    A line's values are few and repeat (hundreds of accounts over thousands of lines), so
    each distinct value of each field is compared with the rules once: its mask has bit i set
    when rule i (by priority) accepts the value (or names no criterion on the field). The
    rules that take a line are then the AND of its three masks, and the first is the lowest
    bit set.
    """

    def __init__(self, ledger_rules: list[LedgerRule]):
        self.rules = [
            compiled(rule) for rule in sorted(ledger_rules, key=lambda r: (r.priority, r.pk or 0))
        ]
        # field -> value -> mask
        self.masks: dict[str, dict[str, int]] = {name: {} for name in CRITERIA}

    @classmethod
    def stored(cls, *, replacing: LedgerRule | None = None) -> "Matcher":
        """The stored rules; ``replacing`` (a rule not saved yet, or edited) takes its stored
        version's place."""
        ledger_rules = list(LedgerRule.objects.all())
        if replacing is not None:
            ledger_rules = [rule for rule in ledger_rules if rule.pk != replacing.pk or
                            replacing.pk is None] + [replacing]  # fmt: skip
        return cls(ledger_rules)

    def mask(self, name: str, value: str) -> int:
        """The rules (bits by priority) that accept ``value`` of the field ``name``."""
        known = self.masks[name]
        found = known.get(value)
        if found is None:
            if len(known) >= MATCHES_KEPT:
                known.clear()
            found = 0
            for index, rule in enumerate(self.rules):
                if all(c.matches(value) for c in rule.criteria if c.name == name):
                    found |= 1 << index
            known[value] = found
        return found

    def match(self, line: files.Line) -> LedgerRule | None:
        """The first rule that takes the line."""
        taking = (
            self.mask("account", line.account)
            & self.mask("cost_centre", line.cost_centre)
            & self.mask("vendor", line.vendor)
        )
        if not taking:
            return None
        return self.rules[(taking & -taking).bit_length() - 1].rule

    def fingerprint(self) -> str:
        """What the rules map and book lines by: a period imported again under other rules is
        mapped again."""
        described = [
            [
                c.rule.pk, c.rule.name, c.rule.priority,
                [(k.name, k.kind, k.text) for k in c.criteria],
                [getattr(c.rule, f"{name}_id") for name in TARGET_FIELDS],
                c.rule.category, c.rule.expenditure, c.rule.pool_type,
            ]
            for c in self.rules
        ]  # fmt: skip
        return hashlib.sha256(json.dumps(described, default=str).encode()).hexdigest()


# --- Testing rules against a file ------------------------------------------------------------


@dataclass
class RuleTake:
    """What one rule (or the unmapped bucket: rule None) takes of a file."""

    rule: LedgerRule | None
    lines: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, amount: Decimal) -> None:
        self.lines += 1
        self.amounts[currency] = self.amounts.get(currency, Decimal(0)) + amount

    def as_json(self) -> dict:
        return {
            "rule": self.rule.pk if self.rule is not None else None,
            "name": self.rule.name if self.rule is not None else "Unmapped",
            "lines": self.lines,
            "amount": {currency: str(amount) for currency, amount in sorted(self.amounts.items())},
        }


@dataclass
class RuleTest:
    """How the rules (with one candidate among them) would map a file's lines."""

    takes: list[RuleTake]
    unmapped: RuleTake
    total: RuleTake
    candidate: RuleTake | None

    @property
    def lines(self) -> int:
        return self.total.lines

    def as_json(self) -> dict:
        return {
            "lines": self.lines,
            "total": self.total.as_json()["amount"],
            "rules": [take.as_json() for take in self.takes],
            "candidate": self.candidate.as_json() if self.candidate is not None else None,
            "unmapped": self.unmapped.as_json(),
        }


def try_rules(
    *, stream: IO[bytes], name: str = "", candidate: LedgerRule | None = None
) -> RuleTest:
    """How many lines of the file, and how much money, each rule would take, with
    ``candidate`` (validated, not saved) in its place by priority, and what stays unmapped.
    Writes nothing."""
    if candidate is not None:
        rules.enforce(candidate)
        candidate.full_clean()
    matcher = Matcher.stored(replacing=candidate)
    takes = {id(c.rule): RuleTake(c.rule) for c in matcher.rules}
    unmapped = RuleTake(None)
    total = RuleTake(None)
    for line in files.read_lines(stream, name=name):
        rule = matcher.match(line)
        (takes[id(rule)] if rule is not None else unmapped).add(line.currency, line.amount)
        total.add(line.currency, line.amount)
    return RuleTest(
        takes=[takes[id(c.rule)] for c in matcher.rules],
        unmapped=unmapped,
        total=total,
        candidate=takes[id(candidate)] if candidate is not None else None,
    )


# --- The import ------------------------------------------------------------------------------


@dataclass
class Group:
    """A period's lines, as the file holds them."""

    serial: int
    digest: Any = field(default_factory=hashlib.sha256)
    lines: list[tuple[files.Line, int]] = field(default_factory=list)  # (line, rule id or 0)
    unmapped_lines: int = 0
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # (rule id, 0 for unmapped; currency) -> amount
    buckets: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # (currency, account, cost centre, vendor) -> [amount, lines]
    unmapped: dict[tuple[str, str, str, str], list] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    """What the import did with one period of the file."""

    ledger_import: LedgerImport
    period_label: str
    outcome: str  # ledger.choices.ImportOutcome
    lines: int
    unmapped_lines: int
    totals: dict

    def as_json(self) -> dict:
        return {
            "ledger_import": self.ledger_import.pk,
            "period": self.period_label,
            "outcome": self.outcome,
            "lines": self.lines,
            "unmapped_lines": self.unmapped_lines,
            "totals": self.totals,
        }


def _read(stream: IO[bytes], name: str, matcher: Matcher) -> list[Group]:
    groups: dict[int, Group] = {}
    for line in files.read_lines(stream, name=name):
        serial = month_serial(line.year, line.month)
        group = groups.get(serial)
        if group is None:
            group = groups[serial] = Group(serial=serial)
        group.digest.update(line.digest_text().encode())
        group.digest.update(b"\x1e")
        rule = matcher.match(line)
        rule_id = rule.pk if rule is not None else 0
        group.lines.append((line, rule_id))
        group.totals[line.currency] += line.amount
        group.buckets[(rule_id, line.currency)] += line.amount
        if rule is None:
            group.unmapped_lines += 1
            key = (line.currency, line.account, line.cost_centre, line.vendor)
            seen = group.unmapped.setdefault(key, [Decimal(0), 0])
            seen[0] += line.amount
            seen[1] += 1
    return sorted(groups.values(), key=lambda group: group.serial)


def unmapped_pool() -> CostPool:
    """The pool unmapped lines are booked on: allocated to nothing, so the roll-up reports
    its cost as unallocated (reason "unmapped"). Made by the first import."""
    pool = CostPool.objects.filter(source=SOURCE, external_id=UNMAPPED_POOL_ID).first()
    if pool is not None:
        return pool
    return finance_services.save_pool(
        pool=CostPool(
            name="Unmapped ledger lines",
            pool_type=PoolType.OTHER,
            source=SOURCE,
            external_id=UNMAPPED_POOL_ID,
            description=(
                "General-ledger lines that no ledger rule maps: allocated to nothing, shown as "
                "unallocated (reason unmapped) until a rule takes them and the period is "
                "imported again."
            ),
        )
    )


def _rounded(buckets: dict[tuple[int, str], Decimal]) -> dict[tuple[int, str], Decimal]:
    """Each bucket's cents, so that a currency's buckets add up to its total rounded once."""
    by_currency: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key in sorted(buckets):
        by_currency[key[1]].append(key)
    rounded = {}
    for keys in by_currency.values():
        values = [buckets[key] for key in keys]
        total = int(to_cents(sum(values, Decimal(0))) * 100)
        for key, cents in zip(keys, tco.apportion(values, total), strict=True):
            rounded[key] = Decimal(cents) / 100
    return rounded


def _book(
    group: Group, period: Period, rule_by_id: dict[int, LedgerRule], pool: CostPool
) -> dict[tuple[int, str], int]:
    """Book the period's cost items (in bulk, under their external id; stale ones removed);
    bucket -> cost item id."""
    prefix = f"{period.label}/"
    external_ids = {}
    wanted = {}
    for (rule_id, currency), amount in _rounded(group.buckets).items():
        if rule_id:
            rule = rule_by_id[rule_id]
            external_id = f"{prefix}rule-{rule_id}/{currency}"
            description = f"Ledger: {rule.name}"
            targets = {name: getattr(rule, f"{name}_id") for name in TARGET_FIELDS}
            category, expenditure, pool_type = rule.category, rule.expenditure, rule.pool_type
        else:
            external_id = f"{prefix}unmapped/{currency}"
            description = "Ledger: unmapped lines"
            targets = {name: pool.pk if name == "pool" else None for name in TARGET_FIELDS}
            category, expenditure, pool_type = (
                CostCategory.INFRASTRUCTURE, Expenditure.OPEX, PoolType.OTHER
            )  # fmt: skip
        wanted[external_id] = {
            "description": description[:200], "amount": amount, "currency": currency,
            "category": category, "expenditure": expenditure, "pool_type": pool_type,
            "spread_months": 1, **{f"{name}_id": value for name, value in targets.items()},
        }  # fmt: skip
        external_ids[(rule_id, currency)] = external_id
    ids = finance_services.book_cost_items(
        source=SOURCE, prefix=prefix, period=period, wanted=wanted
    )
    return {bucket: ids[external_id] for bucket, external_id in external_ids.items()}


def _totals(group: Group) -> dict:
    totals = {}
    for currency in sorted(group.totals):
        unmapped = group.buckets.get((0, currency), Decimal(0))
        totals[currency] = {
            "total": str(group.totals[currency]),
            "mapped": str(group.totals[currency] - unmapped),
            "unmapped": str(unmapped),
        }
    return totals


def _top_unmapped(group: Group) -> list[dict]:
    largest = sorted(group.unmapped.items(), key=lambda item: (-abs(item[1][0]), item[0]))
    return [
        {"account": account, "cost_centre": cost_centre, "vendor": vendor,
         "currency": currency, "amount": str(amount), "lines": lines}
        for (currency, account, cost_centre, vendor), (amount, lines) in largest[:TOP_UNMAPPED]
    ]  # fmt: skip


LINE_COLUMNS = ("ledger_import_id", "row_number", "account", "cost_centre", "vendor",
                "description", "amount", "currency", "posting_date", "rule_id", "unmapped",
                "cost_item_id")  # fmt: skip


def _insert_lines(cursor, group: Group, ledger_import: LedgerImport, items: dict) -> None:
    table = LedgerLine._meta.db_table
    with cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
        for line, rule_id in group.lines:
            copy.write_row((
                ledger_import.pk, line.row, line.account, line.cost_centre, line.vendor,
                line.description, line.amount, line.currency, line.posting_date,
                rule_id or None, not rule_id, items[(rule_id, line.currency)],
            ))  # fmt: skip


def import_ledger(*, stream: IO[bytes], name: str = "", user=None) -> list[ImportResult]:
    """Import a ledger file (CSV or XLSX): every period in it, in one transaction, all or
    nothing. See the module's docstring."""
    results = []
    with transaction.atomic(), connection.cursor() as cursor:
        matcher = Matcher.stored()
        rule_by_id = {c.rule.pk: c.rule for c in matcher.rules}
        fingerprint = matcher.fingerprint()
        groups = _read(stream, name, matcher)
        if not groups:
            raise ValidationError({"file": "The file holds no lines."})
        refused = finance_services.open_periods(
            [(group.serial // 12, group.serial % 12 + 1) for group in groups]
        )
        if refused:
            raise ValidationError({"period": "; ".join(refused.values())})
        pool = unmapped_pool()
        for group in groups:
            period = finance_services.period_for(serial_label(group.serial))
            digest = group.digest.copy()
            digest.update(fingerprint.encode())
            hexdigest = digest.hexdigest()
            stored = LedgerImport.objects.select_for_update().filter(period=period).first()
            if stored is not None and stored.digest == hexdigest:
                results.append(
                    ImportResult(
                        stored,
                        period.label,
                        ImportOutcome.UNCHANGED,
                        stored.line_count,
                        stored.unmapped_count,
                        stored.totals,
                    )
                )
                continue
            items = _book(group, period, rule_by_id, pool)
            ledger_import = stored or LedgerImport(period=period)
            if stored is not None:
                cursor.execute(
                    f"DELETE FROM {LedgerLine._meta.db_table} WHERE ledger_import_id = %s",
                    [stored.pk],
                )
            ledger_import.file_name = name[:300]
            ledger_import.digest = hexdigest
            ledger_import.line_count = len(group.lines)
            ledger_import.unmapped_count = group.unmapped_lines
            ledger_import.totals = _totals(group)
            ledger_import.top_unmapped = _top_unmapped(group)
            ledger_import.imported_at = timezone.now()
            ledger_import.imported_by = user if getattr(user, "is_authenticated", False) else None
            ledger_import.save()
            _insert_lines(cursor, group, ledger_import, items)
            results.append(
                ImportResult(
                    ledger_import,
                    period.label,
                    ImportOutcome.REPLACED if stored else ImportOutcome.IMPORTED,
                    len(group.lines),
                    group.unmapped_lines,
                    ledger_import.totals,
                )
            )
    return results


def unmapped_pool_if_any() -> CostPool | None:
    """The unmapped pool, once an import has made it."""
    return CostPool.objects.filter(source=SOURCE, external_id=UNMAPPED_POOL_ID).first()
