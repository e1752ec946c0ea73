"""Cloud bills: the tag rules' write rules, matching lines to rules, and the import.

The import books each (billing account, billing period) of a FOCUS file:

- its lines are stored as read (FocusLine), each with the first rule, by priority, that
  matches it, or as untagged when none does;
- their EffectiveCost is booked as finance cost items, one per target, category,
  expenditure and BillingCurrency, with a deterministic (source, external_id), so the
  roll-up converts them with the period's exchange rates and shares them as any other cost;
  the untagged rest goes to the account's untagged pool, which is allocated to nothing: the
  roll-up reports it as unallocated, reason "untagged", naming the provider, the account and
  its largest untagged resources (cloud.selectors.untagged_explanations);
- the cents of the cost items of a currency add up to the lines' EffectiveCost rounded once
  (half to even), shared by largest remainder (finance.tco.apportion): Σ EffectiveCost =
  allocated + untagged, to the cent.

Re-importing a billing period replaces the account's lines and cost items of that period; the
same lines with the same rules write nothing. A closed period's figures stay as they were
until it is restated (finance.services.restate_period), as for any cost item.
"""

import datetime
import fnmatch
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

from cloud import focus
from cloud.models import FOCUS_COLUMNS
from cloud.models import TARGET_FIELDS
from cloud.models import BillingImport
from cloud.models import CloudAccount
from cloud.models import FocusLine
from cloud.models import TagKeySynonym
from cloud.models import TagRule
from core import rules
from core.money import to_cents
from core.rules import Change
from core.slugs import generate_slugs
from finance import services as finance_services
from finance import tco
from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PoolType
from finance.models import CostPool
from finance.models import month_serial
from finance.models import serial_label

SOURCE = "focus"  # the source of the cost items the import books
TOP_UNTAGGED = 5  # resources named per account and period
MATCHES_KEPT = 500_000  # lines alike, matched once (Matcher.match)


# --- Keys, synonyms and rules ----------------------------------------------------------------


def normalise_key(key: str) -> str:
    """A tag key as rules compare it: case and runs of spaces do not matter (``' Org'`` is
    ``org``, ``Cost  Department`` is ``cost department``)."""
    return " ".join(key.split()).casefold()


@rules.rule(TagKeySynonym)
def synonym_rule(change: Change, facts: None) -> None:
    """Both keys are stored normalised; a key is no synonym of itself."""
    change.row["synonym"] = normalise_key(change.row["synonym"] or "")
    change.row["key"] = normalise_key(change.row["key"] or "")
    if not change.row["synonym"]:
        change.error("synonym", "Name the tag key that is read as another.")
    if not change.row["key"]:
        change.error("key", "Name the tag key it is read as.")
    elif change.row["synonym"] == change.row["key"]:
        change.error("key", "A key is not a synonym of itself.")


def save_synonym(*, synonym: TagKeySynonym) -> TagKeySynonym:
    return rules.save_checked(synonym)


def remove_synonym(*, synonym: TagKeySynonym) -> str:
    synonym.delete()
    return "deleted"


CRITERIA = ("account_id", "tag_key", "resource_name_pattern", "provider_service_name")


@rules.rule(TagRule)
def tag_rule_rule(change: Change, facts: None) -> None:
    """A rule names at least one criterion; its tag key is stored normalised, and a value
    needs a key."""
    row = change.row
    row["tag_key"] = normalise_key(row["tag_key"] or "")
    row["tag_value"] = (row["tag_value"] or "").strip()
    row["resource_name_pattern"] = (row["resource_name_pattern"] or "").strip()
    row["provider_service_name"] = (row["provider_service_name"] or "").strip()
    if not any(row[name] for name in CRITERIA):
        change.error(
            "tag_key",
            "Give at least one criterion: a tag key, an account, a resource name pattern or a "
            "provider service.",
        )
    if row["tag_value"] and not row["tag_key"]:
        change.error("tag_key", "A tag value needs the tag key it belongs to.")


def save_rule(*, rule: TagRule) -> TagRule:
    return rules.save_checked(rule)


def remove_rule(*, rule: TagRule) -> str:
    rule.delete()
    return "deleted"


generate_slugs(CloudAccount, "name")


@dataclass(frozen=True)
class CompiledRule:
    rule: TagRule
    account: tuple[str, str] | None
    tag_key: str
    tag_value: str
    pattern: re.Pattern | None
    service_name: str

    def matches(self, account: tuple[str, str], tags: dict[str, str], values: dict) -> bool:
        """Whether the line meets every criterion but the resource name pattern."""
        if self.account is not None and self.account != account:
            return False
        if self.service_name and values["ServiceName"].casefold() != self.service_name:
            return False
        if self.tag_key:
            if self.tag_key not in tags:
                return False
            if self.tag_value and tags[self.tag_key] != self.tag_value:
                return False
        return True


class Matcher:
    """The rules, by priority, and the key synonyms: which rule takes a line."""

    def __init__(self, tag_rules: list[TagRule], synonyms: dict[str, str]):
        self.synonyms = synonyms
        self.rules = [
            CompiledRule(
                rule=rule,
                account=(rule.account.provider_name, rule.account.billing_account_id)
                if rule.account is not None
                else None,
                tag_key=self.key(rule.tag_key),
                tag_value=rule.tag_value.strip().casefold(),
                pattern=re.compile(fnmatch.translate(rule.resource_name_pattern), re.IGNORECASE)
                if rule.resource_name_pattern
                else None,
                service_name=rule.provider_service_name.strip().casefold(),
            )
            for rule in sorted(tag_rules, key=lambda r: (r.priority, r.pk or 0))
        ]
        self.known: dict[tuple, list[CompiledRule]] = {}

    @classmethod
    def stored(cls, *, replacing: TagRule | None = None) -> "Matcher":
        """The stored rules and synonyms; ``replacing`` (a rule not saved yet, or edited)
        takes its stored version's place."""
        tag_rules = list(TagRule.objects.select_related("account"))
        if replacing is not None:
            tag_rules = [rule for rule in tag_rules if rule.pk != replacing.pk] + [replacing]
        synonyms = dict(TagKeySynonym.objects.values_list("synonym", "key"))
        return cls(tag_rules, synonyms)

    def key(self, key: str) -> str:
        normal = normalise_key(key)
        return self.synonyms.get(normal, normal)

    def tags(self, tags: dict[str, str]) -> dict[str, str]:
        return {self.key(key): value.strip().casefold() for key, value in tags.items()}

    def match(self, values: dict, *, tags_key: str | None = None) -> TagRule | None:
        """The first rule that takes the line. With ``tags_key`` (its tags as read), the
        rules a line's account, service and tags admit are found once for all lines alike;
        only their resource name patterns are tried on each line."""
        candidates: list[CompiledRule] | None = None
        if tags_key is not None:
            key = (values["ProviderName"], values["BillingAccountId"], values["ServiceName"],
                   tags_key)  # fmt: skip
            candidates = self.known.get(key)
            if candidates is None:
                if len(self.known) >= MATCHES_KEPT:
                    self.known.clear()
                candidates = self.known[key] = self.candidates(values)
        if candidates is None:
            candidates = self.candidates(values)
        resource = None
        for compiled in candidates:
            if compiled.pattern is None:
                return compiled.rule
            if resource is None:
                resource = values["ResourceName"] or values["ResourceId"]
            if compiled.pattern.match(resource):
                return compiled.rule
        return None

    def candidates(self, values: dict) -> list[CompiledRule]:
        """The rules, by priority, whose criteria other than the resource name pattern the
        line meets, up to the first that has no pattern."""
        account = (values["ProviderName"], values["BillingAccountId"])
        tags = self.tags(values["Tags"]) if values["Tags"] else {}
        found = []
        for compiled in self.rules:
            if compiled.matches(account, tags, values):
                found.append(compiled)
                if compiled.pattern is None:
                    break
        return found

    def fingerprint(self) -> str:
        """What the rules and synonyms map lines by: a billing period imported again under
        other rules is mapped again."""
        described = [
            [
                r.rule.pk, r.account, r.tag_key, r.tag_value,
                r.pattern.pattern if r.pattern else "", r.service_name,
                [getattr(r.rule, f"{name}_id") for name in TARGET_FIELDS],
                r.rule.category, r.rule.expenditure,
            ]
            for r in self.rules
        ]  # fmt: skip
        text = json.dumps([described, sorted(self.synonyms.items())], default=str)
        return hashlib.sha256(text.encode()).hexdigest()


# --- Testing rules against a file ------------------------------------------------------------


@dataclass
class RuleTake:
    """What one rule (or the untagged bucket: rule None) takes of a file."""

    rule: TagRule | None
    lines: int = 0
    effective_cost: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, amount: Decimal) -> None:
        self.lines += 1
        self.effective_cost[currency] = self.effective_cost.get(currency, Decimal(0)) + amount

    def as_json(self) -> dict:
        return {
            "rule": self.rule.pk if self.rule is not None else None,
            "name": self.rule.name if self.rule is not None else "Untagged",
            "lines": self.lines,
            "effective_cost": {
                currency: str(to_cents(amount))
                for currency, amount in sorted(self.effective_cost.items())
            },
        }


@dataclass
class RuleTest:
    """How the rules (with one candidate among them) would map a file's lines."""

    takes: list[RuleTake]
    untagged: RuleTake
    lines: int
    candidate: RuleTake | None

    def as_json(self) -> dict:
        return {
            "lines": self.lines,
            "rules": [take.as_json() for take in self.takes],
            "candidate": self.candidate.as_json() if self.candidate is not None else None,
            "untagged": self.untagged.as_json(),
        }


def try_rules(*, stream: IO[bytes], name: str = "", candidate: TagRule | None = None) -> RuleTest:
    """How many lines of the file, and how much EffectiveCost, each rule would take, with
    ``candidate`` (validated, not saved) in its place by priority. Writes nothing."""
    if candidate is not None:
        rules.enforce(candidate)
        candidate.full_clean()
    matcher = Matcher.stored(replacing=candidate)
    takes = {id(compiled.rule): RuleTake(compiled.rule) for compiled in matcher.rules}
    untagged = RuleTake(None)
    count = 0
    for line in focus.read_lines(stream, name=name):
        values = line.values
        rule = matcher.match(values, tags_key=line.tags_json)
        take = takes[id(rule)] if rule is not None else untagged
        take.add(values["BillingCurrency"], values["EffectiveCost"])
        count += 1
    ordered = [takes[id(compiled.rule)] for compiled in matcher.rules]
    return RuleTest(
        takes=ordered,
        untagged=untagged,
        lines=count,
        candidate=takes[id(candidate)] if candidate is not None else None,
    )


# --- The import ------------------------------------------------------------------------------

STAGING = "cloud_focus_staging"
LINE_FIELDS = list(FOCUS_COLUMNS.values())
TAGS_AT = list(FOCUS_COLUMNS).index("Tags")
STAGING_SQL = f"""
    CREATE TEMPORARY TABLE {STAGING} (
        grp integer, line_no integer, bucket bigint, untagged boolean,
        billing_account_id text, billing_account_name text, sub_account_id text,
        sub_account_name text, provider_name text, publisher_name text,
        invoice_issuer_name text, charge_period_start timestamptz,
        charge_period_end timestamptz, billing_period_start timestamptz,
        billing_period_end timestamptz, charge_category text, charge_description text,
        service_category text, service_name text, resource_id text, resource_name text,
        region_id text, tags jsonb, billed_cost numeric, effective_cost numeric,
        list_cost numeric, billing_currency text
    ) ON COMMIT DROP
"""


@dataclass
class Group:
    """One billing account's lines of one billing period, as the file holds them."""

    index: int
    provider_name: str
    billing_account_id: str
    billing_account_name: str
    serial: int
    billing_period_start: datetime.datetime
    billing_period_end: datetime.datetime
    digest: Any = field(default_factory=hashlib.sha256)
    lines: int = 0
    untagged_lines: int = 0
    effective: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    billed: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # (rule id, 0 for untagged; currency) -> EffectiveCost
    buckets: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # (currency, ResourceId) -> [EffectiveCost, ResourceName, ServiceName]
    untagged_resources: dict[tuple[str, str], list] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    """What the import did with one account's billing period."""

    account: CloudAccount
    period_label: str
    outcome: str  # cloud.choices.ImportOutcome
    lines: int
    untagged_lines: int
    totals: dict

    def as_json(self) -> dict:
        return {
            "account": self.account.pk,
            "provider_name": self.account.provider_name,
            "billing_account_id": self.account.billing_account_id,
            "period": self.period_label,
            "outcome": self.outcome,
            "lines": self.lines,
            "untagged_lines": self.untagged_lines,
            "totals": self.totals,
        }


def _stage(cursor, stream: IO[bytes], name: str, matcher: Matcher) -> list[Group]:
    """Read the file into the staging table, each line with its rule; the groups it holds."""
    groups: dict[tuple[str, str, int], Group] = {}
    with cursor.copy(f"COPY {STAGING} FROM STDIN") as copy:
        for line in focus.read_lines(stream, name=name):
            values = line.values
            start = values["BillingPeriodStart"]
            key = (
                values["ProviderName"],
                values["BillingAccountId"],
                month_serial(start.year, start.month),
            )
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(
                    index=len(groups),
                    provider_name=key[0],
                    billing_account_id=key[1],
                    billing_account_name=values["BillingAccountName"],
                    serial=key[2],
                    billing_period_start=start,
                    billing_period_end=values["BillingPeriodEnd"],
                )
            group.digest.update(line.raw.encode())
            group.digest.update(b"\x1e")
            group.lines += 1
            rule = matcher.match(values, tags_key=line.tags_json)
            currency = values["BillingCurrency"]
            effective = values["EffectiveCost"]
            group.effective[currency] += effective
            group.billed[currency] += values["BilledCost"]
            group.buckets[(rule.pk if rule is not None else 0, currency)] += effective
            if rule is None:
                group.untagged_lines += 1
                resource = values["ResourceId"] or values["ResourceName"] or values["ServiceName"]
                seen = group.untagged_resources.get((currency, resource))
                if seen is None:
                    group.untagged_resources[(currency, resource)] = [
                        effective,
                        values["ResourceName"],
                        values["ServiceName"],
                    ]
                else:
                    seen[0] += effective
            row = [values[column] for column in FOCUS_COLUMNS]
            row[TAGS_AT] = line.tags_json
            copy.write_row((group.index, line.number, rule.pk if rule is not None else 0,
                            rule is None, *row))  # fmt: skip
    return list(groups.values())


def _account_for(group: Group, *, user) -> CloudAccount:
    account = (
        CloudAccount.objects.filter(
            provider_name=group.provider_name, billing_account_id=group.billing_account_id
        )
        .select_related("untagged_pool")
        .first()
    )
    if account is not None:
        return account
    name = group.billing_account_name or group.billing_account_id
    pool = finance_services.save_pool(
        pool=CostPool(
            name=f"Untagged cloud spend: {group.provider_name} {name}"[:200],
            pool_type=PoolType.OTHER,
            description=(
                f"Lines of {group.provider_name} billing account {group.billing_account_id} "
                "that no tag rule maps: allocated to nothing, shown as unallocated."
            ),
        )
    )
    return rules.save_checked(
        CloudAccount(
            name=name[:200],
            provider_name=group.provider_name[:200],
            billing_account_id=group.billing_account_id[:300],
            untagged_pool=pool,
        ),
        user=user,
    )


def _cost_item_keys(group: Group, account: CloudAccount, rule_by_id: dict[int, TagRule]):
    """(target field, target id, category, expenditure, currency) -> exact EffectiveCost, and
    bucket -> that key."""
    exact: dict[tuple, Decimal] = defaultdict(Decimal)
    key_of: dict[tuple[int, str], tuple] = {}
    for (rule_id, currency), amount in group.buckets.items():
        if rule_id:
            rule = rule_by_id[rule_id]
            target = next(n for n in TARGET_FIELDS if getattr(rule, f"{n}_id") is not None)
            key = (target, getattr(rule, f"{target}_id"), rule.category, rule.expenditure, currency)
        else:
            key = ("pool", account.untagged_pool_id, CostCategory.INFRASTRUCTURE,
                   Expenditure.OPEX, currency)  # fmt: skip
        exact[key] += amount
        key_of[(rule_id, currency)] = key
    return exact, key_of


def _rounded(exact: dict[tuple, Decimal]) -> dict[tuple, Decimal]:
    """Each key's cents, so that a currency's keys add up to its total rounded once."""
    by_currency: dict[str, list[tuple]] = defaultdict(list)
    for key in sorted(exact, key=str):
        by_currency[key[4]].append(key)
    rounded = {}
    for keys in by_currency.values():
        values = [exact[key] for key in keys]
        total = int(to_cents(sum(values, Decimal(0))) * 100)
        for key, cents in zip(keys, tco.apportion(values, total), strict=True):
            rounded[key] = Decimal(cents) / 100
    return rounded


def _book(group: Group, account: CloudAccount, period, rule_by_id) -> dict[tuple[int, str], int]:
    """Book the group's cost items (in bulk, under their external id; stale ones removed);
    bucket -> cost item id."""
    exact, key_of = _cost_item_keys(group, account, rule_by_id)
    rounded = _rounded(exact)
    prefix = f"{account.pk}/{period.label}/"
    names: dict[tuple, list[str]] = defaultdict(list)
    for (rule_id, _currency), key in key_of.items():
        if rule_id:
            names[key].append(rule_by_id[rule_id].name)
    external_ids: dict[tuple, str] = {}
    wanted: dict[str, dict] = {}
    for key, amount in rounded.items():
        target, target_id, category, expenditure, currency = key
        external_id = f"{prefix}{target}-{target_id}/{category}/{expenditure}/{currency}"
        if target_id == account.untagged_pool_id and target == "pool" and not names[key]:
            description = f"Untagged cloud spend: {account.provider_name} {account.name}"
        else:
            description = f"Cloud {account.provider_name} {account.name}: " + ", ".join(
                sorted(set(names[key]))
            )
        wanted[external_id] = {
            "description": description[:200],
            "amount": amount,
            "currency": currency,
            "category": category,
            "expenditure": expenditure,
            **{f"{name}_id": target_id if name == target else None for name in TARGET_FIELDS},
        }
        external_ids[key] = external_id
    ids = finance_services.book_cost_items(
        source=SOURCE, prefix=prefix, period=period, wanted=wanted
    )
    return {bucket: ids[external_ids[key]] for bucket, key in key_of.items()}


def _totals(group: Group) -> dict:
    totals = {}
    for currency in sorted(group.effective):
        untagged = group.buckets.get((0, currency), Decimal(0))
        totals[currency] = {
            "effective": str(group.effective[currency]),
            "billed": str(group.billed[currency]),
            "allocated": str(group.effective[currency] - untagged),
            "untagged": str(untagged),
        }
    return totals


def _top_untagged(group: Group) -> list[dict]:
    largest = sorted(
        group.untagged_resources.items(), key=lambda item: (-abs(item[1][0]), item[0])
    )[:TOP_UNTAGGED]
    return [
        {
            "resource_id": resource,
            "resource_name": name,
            "service_name": service,
            "currency": currency,
            "effective_cost": str(amount),
        }
        for (currency, resource), (amount, name, service) in largest
    ]


def _insert_lines(cursor, group: Group, billing_import: BillingImport, items: dict) -> None:
    columns = ", ".join(LINE_FIELDS)
    mapping = [(bucket, currency, item_id) for (bucket, currency), item_id in items.items()]
    values = ", ".join(["(%s::bigint, %s::text, %s::bigint)"] * len(mapping))
    cursor.execute(
        f"INSERT INTO {FocusLine._meta.db_table} "
        f"(billing_import_id, {columns}, rule_id, untagged, cost_item_id) "
        f"SELECT %s, {', '.join(f's.{c}' for c in LINE_FIELDS)}, NULLIF(s.bucket, 0), "
        f"s.untagged, m.item FROM {STAGING} AS s "
        f"JOIN (VALUES {values}) AS m(bucket, currency, item) "
        "ON m.bucket = s.bucket AND m.currency = s.billing_currency "
        "WHERE s.grp = %s",
        [billing_import.pk, *[v for row in mapping for v in row], group.index],
    )


def import_focus(*, stream: IO[bytes], name: str = "", user=None) -> list[ImportResult]:
    """Import a FOCUS file (CSV or Parquet): every billing account's billing period in it,
    in one transaction. See the module's docstring."""
    results = []
    with transaction.atomic(), connection.cursor() as cursor:
        matcher = Matcher.stored()
        rule_by_id = {compiled.rule.pk: compiled.rule for compiled in matcher.rules}
        fingerprint = matcher.fingerprint()
        # Inside a caller's transaction (ON COMMIT has not come yet) a table may be left.
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(STAGING_SQL)
        groups = _stage(cursor, stream, name, matcher)
        if not groups:
            raise ValidationError({"file": "The file holds no lines."})
        months = sorted({group.serial for group in groups})
        refused = finance_services.open_periods(
            [(serial // 12, serial % 12 + 1) for serial in months]
        )
        if refused:
            raise ValidationError({"BillingPeriodStart": "; ".join(refused.values())})
        for group in groups:
            account = _account_for(group, user=user)
            period = finance_services.period_for(serial_label(group.serial))
            digest = group.digest.copy()
            digest.update(fingerprint.encode())
            hexdigest = digest.hexdigest()
            stored = (
                BillingImport.objects.select_for_update()
                .filter(account=account, period=period)
                .first()
            )
            if stored is not None and stored.digest == hexdigest:
                results.append(
                    ImportResult(
                        account,
                        period.label,
                        "unchanged",
                        stored.line_count,
                        stored.untagged_count,
                        stored.totals,
                    )
                )
                continue
            items = _book(group, account, period, rule_by_id)
            billing_import = stored or BillingImport(account=account, period=period)
            if stored is not None:
                cursor.execute(
                    f"DELETE FROM {FocusLine._meta.db_table} WHERE billing_import_id = %s",
                    [stored.pk],
                )
            billing_import.billing_period_start = group.billing_period_start
            billing_import.billing_period_end = group.billing_period_end
            billing_import.file_name = name[:300]
            billing_import.digest = hexdigest
            billing_import.line_count = group.lines
            billing_import.untagged_count = group.untagged_lines
            billing_import.totals = _totals(group)
            billing_import.top_untagged = _top_untagged(group)
            billing_import.imported_at = timezone.now()
            billing_import.imported_by = user if getattr(user, "is_authenticated", False) else None
            billing_import.save()
            _insert_lines(cursor, group, billing_import, items)
            results.append(
                ImportResult(
                    account,
                    period.label,
                    "replaced" if stored else "imported",
                    group.lines,
                    group.untagged_lines,
                    billing_import.totals,
                )
            )
        cursor.execute(f"DROP TABLE {STAGING}")
    return results
