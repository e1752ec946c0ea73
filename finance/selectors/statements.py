"""Reads of the customer statements and of the cost the roll-up shares out beyond services:
per customer (cost to serve, and what no customer is charged) and per value stream (the
streams' apportioned cost, and what no stream carries)."""

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from django.db.models import F
from django.db.models import Prefetch
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from finance.models import CustomerStatement
from finance.models import Period
from finance.models import StageCost
from finance.models import StatementLine
from finance.models import TcoResult
from finance.models import ValueStreamCost
from finance.selectors.results import MONEY

ZERO = Decimal(0)
RATIO = Decimal("0.0001")


def current_statements() -> QuerySet:
    """Every statement of its period's current version (a restated period's earlier versions
    stay stored, for the difference)."""
    return CustomerStatement.objects.filter(version=F("period__current_version"))


def with_lines(statements: QuerySet) -> QuerySet:
    """``statements`` with their customer, relationship manager, period and lines (service
    and subscription) read in a constant number of queries."""
    lines = StatementLine.objects.select_related("service", "subscription").order_by(
        "service__name", "subscription_id"
    )
    return statements.select_related(
        "period", "customer", "customer__relationship_manager"
    ).prefetch_related(Prefetch("lines", queryset=lines))


def lineage_url(service, period: Period) -> str:
    """The TCO lineage page of ``service`` in ``period``: where its cost came from."""
    url = reverse("finance:service_lineage", args=[service.slug])
    return f"{url}?period={period.label}"


def ratio(revenue: Decimal, cost: Decimal) -> Decimal | None:
    return (revenue / cost).quantize(RATIO) if cost else None


@dataclass
class StatementTotals:
    revenue: Decimal = ZERO
    cost_to_serve: Decimal = ZERO
    statements: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost_to_serve

    @property
    def recovery_ratio(self) -> Decimal | None:
        return ratio(self.revenue, self.cost_to_serve)


def totals_of(statements) -> StatementTotals:
    totals = StatementTotals()
    for statement in statements:
        totals.revenue += statement.revenue
        totals.cost_to_serve += statement.cost_to_serve
        totals.statements += 1
    return totals


def prepare_lines(statement: CustomerStatement) -> list[StatementLine]:
    """The statement's lines (prefetched by ``with_lines``), each with its margin and the
    lineage page of its service and period."""
    lines = list(statement.lines.all())
    for line in lines:
        line.margin = line.revenue - line.cost_to_serve
        line.lineage_url = lineage_url(line.service, statement.period)
    return lines


@dataclass
class StatementChange:
    """What a restatement changed in one customer's statement: the totals and each line."""

    old: CustomerStatement | None
    new: CustomerStatement
    lines: list[dict] = field(default_factory=list)

    @property
    def revenue_change(self) -> Decimal:
        return self.new.revenue - (self.old.revenue if self.old else ZERO)

    @property
    def cost_change(self) -> Decimal:
        return self.new.cost_to_serve - (self.old.cost_to_serve if self.old else ZERO)

    @property
    def margin_change(self) -> Decimal:
        return self.new.margin - (self.old.margin if self.old else ZERO)

    @property
    def changed(self) -> bool:
        return bool(self.lines) or any((self.revenue_change, self.cost_change))


def statement_change(statement: CustomerStatement) -> StatementChange | None:
    """For a statement of version 2 or later: the same customer's statement in the version
    before, and what moved per subscription (None for a first version)."""
    if statement.version <= 1:
        return None
    old = (
        with_lines(
            CustomerStatement.objects.filter(
                period_id=statement.period_id,
                customer_id=statement.customer_id,
                version=statement.version - 1,
            )
        )
        .order_by()
        .first()
    )
    before = {line.subscription_id: line for line in (old.lines.all() if old else [])}
    after = {line.subscription_id: line for line in statement.lines.all()}
    lines = []
    for subscription_id in sorted(set(before) | set(after)):
        was, now = before.get(subscription_id), after.get(subscription_id)
        old_revenue = was.revenue if was else ZERO
        old_cost = was.cost_to_serve if was else ZERO
        new_revenue = now.revenue if now else ZERO
        new_cost = now.cost_to_serve if now else ZERO
        if (old_revenue, old_cost) == (new_revenue, new_cost) and was and now:
            continue
        line = now or was
        assert line is not None
        lines.append(
            {
                "service": line.service,
                "subscription": line.subscription,
                "old_revenue": old_revenue,
                "new_revenue": new_revenue,
                "old_cost": old_cost,
                "new_cost": new_cost,
                "revenue_change": new_revenue - old_revenue,
                "cost_change": new_cost - old_cost,
            }
        )
    lines.sort(key=lambda row: (row["service"].name, row["subscription"].pk))
    return StatementChange(old=old, new=statement, lines=lines)


def customer_statement_panel(*, request, customer) -> dict:
    """The statements panel of a customer page: the period asked for (``?statement_period=``)
    or the latest computed period with a statement of the customer, its current version.
    Whoever sees the customer's page sees its statements (the query still asks
    core.permissions)."""
    if request is None:
        return {"allowed": False}
    periods = list(
        Period.objects.filter(
            statements__customer=customer, statements__version=F("current_version")
        )
        .distinct()
        .order_by("-serial")[:36]
    )
    wanted = request.GET.get("statement_period", "")
    period = next((p for p in periods if p.label == wanted), periods[0] if periods else None)
    statement = change = None
    lines: list = []
    if period is not None:
        statement = (
            with_lines(
                CustomerStatement.objects.restrict(request.user, "view").filter(
                    period=period, version=period.current_version, customer=customer
                )
            )
            .order_by()
            .first()
        )
        if statement is not None:
            lines = prepare_lines(statement)
            change = statement_change(statement)
    return {
        "allowed": True,
        "periods": periods,
        "period": period,
        "statement": statement,
        "lines": lines,
        "change": change,
    }


def customer_differences(*, period: Period, statements: QuerySet) -> dict | None:
    """For a restated period: each customer whose statement moved between the version before
    the current one and the current one (``statements``: those the reader may see)."""
    new = period.current_version
    if new <= 1:
        return None
    old = new - 1
    rows: dict[int, dict] = {}
    for statement in (
        statements.filter(period=period, version__in=(old, new))
        .select_related("customer")
        .order_by("customer__name")
    ):
        entry = rows.setdefault(
            statement.customer_id, {"customer": statement.customer, "old": None, "new": None}
        )
        entry["old" if statement.version == old else "new"] = statement
    changed = []
    for entry in rows.values():
        was, now = entry["old"], entry["new"]
        row = {
            "customer": entry["customer"],
            "new_pk": now.pk if now else None,
            "old_revenue": was.revenue if was else ZERO,
            "new_revenue": now.revenue if now else ZERO,
            "old_cost": was.cost_to_serve if was else ZERO,
            "new_cost": now.cost_to_serve if now else ZERO,
        }
        same = (row["old_revenue"], row["old_cost"]) == (row["new_revenue"], row["new_cost"])
        if same and was and now:
            continue
        row["margin_change"] = (row["new_revenue"] - row["new_cost"]) - (
            row["old_revenue"] - row["old_cost"]
        )
        changed.append(row)
    return {"period": period, "old": old, "new": new, "rows": changed}


# --- The Fund services page's views by customer and by value stream ---------------------------


def _kept_total(period: Period, version: int) -> Decimal:
    return TcoResult.objects.filter(period=period, version=version).aggregate(
        total=Coalesce(Sum("kept"), ZERO, output_field=MONEY)
    )["total"]


# How many rows each list of the Fund services views shows (the totals count every row).
SHOWN = 100


def _sum(queryset: QuerySet, field_name: str) -> Decimal:
    return queryset.aggregate(total=Coalesce(Sum(field_name), ZERO, output_field=MONEY))["total"]


def by_customer(*, period: Period, version: int) -> dict:
    """Each customer's cost to serve (and revenue) in ``period`` and ``version``, and the kept
    cost charged to no customer, per service: the two add up to the kept total. The lists
    hold the SHOWN largest; the totals are over every row."""
    statements = CustomerStatement.objects.filter(period=period, version=version)
    uncharged = TcoResult.objects.filter(period=period, version=version).exclude(not_charged=0)
    charged_total = _sum(statements, "cost_to_serve")
    not_charged_total = _sum(uncharged, "not_charged")
    return {
        "statements": list(
            statements.select_related("customer", "customer__relationship_manager").order_by(
                "-cost_to_serve", "customer__name"
            )[:SHOWN]
        ),
        "statement_count": statements.count(),
        "not_charged": list(
            uncharged.select_related("service").order_by("-not_charged", "service__name")[:SHOWN]
        ),
        "not_charged_count": uncharged.count(),
        "charged_total": charged_total,
        "not_charged_total": not_charged_total,
        "revenue_total": _sum(statements, "revenue"),
        "total": charged_total + not_charged_total,
        "kept_total": _kept_total(period, version),
        "shown": SHOWN,
    }


def by_value_stream(*, period: Period, version: int) -> dict:
    """Each current-state value stream's apportioned cost in ``period`` and ``version`` (with
    its stages), the kept cost in no value stream, and the future states' what-if figures
    (never added to the total). The lists hold the SHOWN largest; the totals are over every
    row."""
    stages = StageCost.objects.select_related("stage").order_by("stage__position", "stage_id")
    costs = ValueStreamCost.objects.filter(period=period, version=version)
    outside = TcoResult.objects.filter(period=period, version=version).exclude(in_no_value_stream=0)
    streams_total = _sum(costs.filter(what_if=False), "cost")
    outside_total = _sum(outside, "in_no_value_stream")

    def listed(what_if: bool) -> list:
        return list(
            costs.filter(what_if=what_if)
            .select_related("value_stream", "value_stream__current_state")
            .prefetch_related(Prefetch("stages", queryset=stages))
            .order_by("-cost", "value_stream__name")[:SHOWN]
        )

    return {
        "streams": listed(False),
        "stream_count": costs.filter(what_if=False).count(),
        "what_if": listed(True),
        "in_no_stream": list(
            outside.select_related("service").order_by("-in_no_value_stream", "service__name")[
                :SHOWN
            ]
        ),
        "in_no_stream_count": outside.count(),
        "streams_total": streams_total,
        "in_no_stream_total": outside_total,
        "total": streams_total + outside_total,
        "kept_total": _kept_total(period, version),
        "shown": SHOWN,
    }


def statements_in(*, periods: list[Period]) -> QuerySet:
    """The current version's statements of ``periods`` (for a report), with their lines."""
    condition = Q(pk__in=[])
    for period in periods:
        condition |= Q(period=period, version=period.current_version)
    return with_lines(CustomerStatement.objects.filter(condition)).order_by(
        "customer__name", "period__serial"
    )


def by_unit(*, period: Period, version: int) -> dict:
    """Each organisation unit's kept cost in ``period`` and ``version``: that of the services
    that belong to it (``own``) and, rolled up, to it and every unit below it (``total``),
    in the hierarchy's order (``depth`` for the indent); and the kept cost of services that
    belong to no unit. The top units' totals and that add up to the kept total. Two queries
    and a walk of the tree; sums in Decimal, rounded only when shown."""
    from people.models import OrganisationUnit

    own = dict(
        TcoResult.objects.filter(period=period, version=version)
        .values("service__unit_id")
        .annotate(kept_sum=Coalesce(Sum("kept"), ZERO, output_field=MONEY))
        .order_by()
        .values_list("service__unit_id", "kept_sum")
    )
    units = list(OrganisationUnit.objects.order_by("name"))
    children: dict = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    rows: list[dict] = []

    def walk(unit, depth: int) -> Decimal:
        row = {"unit": unit, "depth": depth, "indent": "· " * depth, "own": own.get(unit.pk, ZERO)}
        rows.append(row)
        row["total"] = row["own"] + sum(
            (walk(child, depth + 1) for child in children.get(unit.pk, ())), start=ZERO
        )
        return row["total"]

    top_total = sum((walk(unit, 0) for unit in children.get(None, ())), start=ZERO)
    in_no_unit = own.get(None, ZERO)
    return {
        "rows": [row for row in rows if row["total"] or not row["unit"].is_retired],
        "units_total": top_total,
        "in_no_unit_total": in_no_unit,
        "total": top_total + in_no_unit,
        "kept_total": _kept_total(period, version),
    }
