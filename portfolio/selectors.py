"""Reusable reads of the service portfolio."""

from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.contrib.postgres.aggregates import BitOr
from django.db import connection
from django.db.models import BooleanField
from django.db.models import Case
from django.db.models import Count
from django.db.models import DateField
from django.db.models import DecimalField
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Func
from django.db.models import IntegerField
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import Sum
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import in_force_on
from core.money import reporting_currency
from portfolio.choices import Aspect
from portfolio.choices import Dimension
from portfolio.models import Contract
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription

QUADRANTS = (
    (Aspect.FACILITY, Dimension.FUNCTIONALITY),
    (Aspect.FACILITY, Dimension.FUNCTIONING),
    (Aspect.SUPPORT, Dimension.FUNCTIONALITY),
    (Aspect.SUPPORT, Dimension.FUNCTIONING),
)


def quadrant_key(aspect: str, dimension: str) -> str:
    return f"{aspect}_{dimension}"


QUADRANT_BITS = {quadrant: 1 << n for n, quadrant in enumerate(QUADRANTS)}
ALL_QUADRANTS = sum(QUADRANT_BITS.values())


def with_completeness(services: QuerySet) -> QuerySet:
    """Annotate each service with ``quadrant_mask`` (a bit per filled quadrant) and
    ``is_complete``.

    Complete means: all four quadrants filled and an owner set. Every functioning item is
    measurable by construction (a database constraint), so it needs no check here. One
    correlated subquery per row keeps a page of the list independent of the portfolio's size.
    """
    bit_per_item = Case(
        *(
            When(aspect=aspect, dimension=dimension, then=Value(bit))
            for (aspect, dimension), bit in QUADRANT_BITS.items()
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    mask = (
        SpecificationItem.objects.filter(service=OuterRef("pk"))
        .order_by()
        .values("service")
        .annotate(mask=BitOr(bit_per_item))
        .values("mask")
    )
    return services.annotate(
        quadrant_mask=Coalesce(Subquery(mask, output_field=IntegerField()), Value(0))
    ).annotate(
        is_complete=ExpressionWrapper(
            Q(quadrant_mask=ALL_QUADRANTS, owner__isnull=False), output_field=BooleanField()
        )
    )


def filled_quadrants(service) -> list[tuple[str, str]]:
    """The quadrants of an annotated service that have at least one item."""
    return [q for q, bit in QUADRANT_BITS.items() if service.quadrant_mask & bit]


def missing_parts(service) -> list[str]:
    """What keeps an annotated service from being fully specified, in plain words."""
    filled = filled_quadrants(service)
    missing = [
        f"{aspect} {dimension}"
        for aspect, dimension in QUADRANTS
        if (aspect, dimension) not in filled
    ]
    if service.owner_id is None:
        missing.append("an owner")
    return missing


def service_ids_of(user) -> QuerySet:
    """The ids of the services ``user`` owns or is a delegate of, for a subquery."""
    return Service.objects.filter(
        Q(owner=user) | Q(pk__in=user.delegated_services.values("pk"))
    ).values("pk")


def services_owned_by(user) -> QuerySet:
    return with_completeness(Service.objects.filter(pk__in=service_ids_of(user))).order_by(
        "is_complete", "name"
    )


# A dependency (alias ``d``) in force on ``%(today)s``, in the raw reads below.
IN_FORCE_SQL = """(d.valid_from IS NULL OR d.valid_from <= %(today)s)
                  AND (d.valid_to IS NULL OR d.valid_to >= %(today)s)"""


def in_dependency_cycle(service: Service) -> bool:
    """Whether ``service`` can reach itself along its dependencies in force today.

    Cycles are allowed (services may support each other) but shown as a warning. UNION (not
    UNION ALL) visits each service once, so dense portfolios stay cheap.
    """
    table = ServiceDependency._meta.db_table
    sql = f"""
        WITH RECURSIVE reach(service_id) AS (
            SELECT d.provider_id FROM {table} d
             WHERE d.consumer_id = %(service)s AND {IN_FORCE_SQL}
            UNION
            SELECT d.provider_id FROM reach r JOIN {table} d ON d.consumer_id = r.service_id
             WHERE {IN_FORCE_SQL}
        )
        SELECT EXISTS (SELECT 1 FROM reach WHERE service_id = %(service)s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"service": service.pk, "today": timezone.localdate()})
        return cursor.fetchone()[0]


def dependency_levels(service: Service, *, levels: int = 2) -> dict[int, int]:
    """The services around ``service`` along the dependencies in force today, up to ``levels``
    steps each way, by level: -1 its providers, -2 theirs; 1 its consumers, 2 theirs. A
    service found both ways (a cycle through ``service``) takes the nearer side, the provider
    side on a tie; ``service`` itself is left out. One query, whatever the neighbourhood's
    size: the depth bound ends the recursion, cycles included."""
    table = ServiceDependency._meta.db_table
    sql = f"""
        WITH RECURSIVE up(service_id, depth) AS (
            SELECT d.provider_id, 1 FROM {table} d
             WHERE d.consumer_id = %(service)s AND {IN_FORCE_SQL}
            UNION
            SELECT d.provider_id, u.depth + 1
              FROM up u JOIN {table} d ON d.consumer_id = u.service_id
             WHERE u.depth < %(levels)s AND {IN_FORCE_SQL}
        ), down(service_id, depth) AS (
            SELECT d.consumer_id, 1 FROM {table} d
             WHERE d.provider_id = %(service)s AND {IN_FORCE_SQL}
            UNION
            SELECT d.consumer_id, w.depth + 1
              FROM down w JOIN {table} d ON d.provider_id = w.service_id
             WHERE w.depth < %(levels)s AND {IN_FORCE_SQL}
        )
        SELECT service_id, -MIN(depth) FROM up GROUP BY service_id
        UNION ALL
        SELECT service_id, MIN(depth) FROM down GROUP BY service_id
    """
    params = {"service": service.pk, "today": timezone.localdate(), "levels": levels}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found: dict[int, int] = {}
    for service_id, level in rows:
        if service_id == service.pk:
            continue
        known = found.get(service_id)
        if known is None or (abs(level), level) < (abs(known), known):
            found[service_id] = level
    return found


def dependency_cycle_members(service: Service) -> set[int]:
    """The services on a dependency cycle (in force today) through ``service``: its strongly
    connected component, the services it reaches along its providers that also reach it
    along their providers; ``service`` itself is in the set when it is on a cycle. One
    query; UNION visits each service once."""
    table = ServiceDependency._meta.db_table
    sql = f"""
        WITH RECURSIVE up(service_id) AS (
            SELECT d.provider_id FROM {table} d
             WHERE d.consumer_id = %(service)s AND {IN_FORCE_SQL}
            UNION
            SELECT d.provider_id FROM up u JOIN {table} d ON d.consumer_id = u.service_id
             WHERE {IN_FORCE_SQL}
        ), down(service_id) AS (
            SELECT d.consumer_id FROM {table} d
             WHERE d.provider_id = %(service)s AND {IN_FORCE_SQL}
            UNION
            SELECT d.consumer_id FROM down w JOIN {table} d ON d.provider_id = w.service_id
             WHERE {IN_FORCE_SQL}
        )
        SELECT service_id FROM up INTERSECT SELECT service_id FROM down
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"service": service.pk, "today": timezone.localdate()})
        return {row[0] for row in cursor.fetchall()}


def dependants_by_level(service: Service) -> dict[int, int]:
    """Every service that depends on ``service`` directly or through others (dependencies in
    force today), with its level: 1 for a direct consumer, 2 for a consumer of one, and so
    on (the shortest way). Two queries whatever the size: the consumers reached (UNION visits
    each once, so cycles end), then the edges among them, walked breadth first here."""
    table = ServiceDependency._meta.db_table
    sql = f"""
        WITH RECURSIVE down(service_id) AS (
            SELECT d.consumer_id FROM {table} d
             WHERE d.provider_id = %(service)s AND {IN_FORCE_SQL}
            UNION
            SELECT d.consumer_id FROM down w JOIN {table} d ON d.provider_id = w.service_id
             WHERE {IN_FORCE_SQL}
        )
        SELECT service_id FROM down
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"service": service.pk, "today": timezone.localdate()})
        reached = {row[0] for row in cursor.fetchall()}
    reached.discard(service.pk)
    if not reached:
        return {}
    consumers_of: dict[int, list[int]] = {}
    edges = ServiceDependency.objects.filter(
        in_force_on(timezone.localdate()),
        provider_id__in=reached | {service.pk},
        consumer_id__in=reached,
    ).values_list("provider_id", "consumer_id")
    for provider_id, consumer_id in edges:
        consumers_of.setdefault(provider_id, []).append(consumer_id)
    levels: dict[int, int] = {}
    frontier = [service.pk]
    level = 0
    while frontier:
        level += 1
        following = []
        for provider_id in frontier:
            for consumer_id in consumers_of.get(provider_id, ()):
                if consumer_id not in levels:
                    levels[consumer_id] = level
                    following.append(consumer_id)
        frontier = following
    return levels


# --- Customers, suppliers and contracts, applications -----------------------------------------

# A contract whose notice deadline falls this many days ahead or fewer needs a decision now.
NOTICE_HORIZON_DAYS = 90


def notice_deadline_expression():
    """The contract's last day to give notice, in the database: the renewal date (or, without
    one, the end date) less the notice period. Matches ``Contract.notice_deadline``."""
    return Func(
        Coalesce(F("renewal_date"), F("end_date")),
        F("notice_period_days"),
        template="(%(expressions)s)",
        arg_joiner=" - ",  # PostgreSQL: date - integer is a date
        output_field=DateField(),
    )


def with_notice_deadline(contracts: QuerySet) -> QuerySet:
    return contracts.annotate(notice_deadline=notice_deadline_expression())


def notice_due_q(*, days: int = NOTICE_HORIZON_DAYS, today=None) -> Q:
    """Live contracts whose notice deadline (annotated) falls within ``days`` from today: the
    same set ``contracts_near_notice`` returns."""
    today = today or timezone.localdate()
    return Q(
        retired_at__isnull=True,
        notice_deadline__gte=today,
        notice_deadline__lte=today + timedelta(days=days),
    )


def contracts_near_notice(*, days: int = NOTICE_HORIZON_DAYS, today=None) -> list[Contract]:
    """Live contracts whose notice deadline falls within ``days`` from today, soonest first."""
    contracts = with_notice_deadline(Contract.objects.select_related("supplier"))
    return list(contracts.filter(notice_due_q(days=days, today=today)).order_by("notice_deadline"))


def subscriptions_in_force(
    day: date, *, not_retired_before: datetime | None = None, prefix: str = ""
) -> Q:
    """Subscriptions in force on ``day`` (the one rule of a current subscription): started by
    it, not ended before it, and not retired; with ``not_retired_before``, not retired before
    that moment (the roll-up counts a subscription retired on a month's middle day in that
    month). ``prefix`` reaches the subscriptions through a relation (``"subscriptions__"``)."""
    retired = Q(**{f"{prefix}retired_at__isnull": True})
    if not_retired_before is not None:
        retired |= Q(**{f"{prefix}retired_at__gte": not_retired_before})
    return (
        Q(**{f"{prefix}start_date__lte": day})
        & (Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": day}))
        & retired
    )


def subscription_revenue_expression():
    """A subscription's annual revenue, as ``Subscription.annual_revenue`` computes it."""
    money = DecimalField(max_digits=30, decimal_places=4)
    return Coalesce(
        F("annual_charge"),
        F("units") * F("price_per_unit") * Value(12),
        Value(Decimal(0)),
        output_field=money,
    )


def per_outer_row(rows: QuerySet, outer: str, aggregate, condition: Q | None = None) -> Subquery:
    """``aggregate`` over those of ``rows`` that meet ``condition``, as a subquery giving one
    value for each outer record (``rows`` are tied to it by ``outer``, an OuterRef)."""
    return Subquery(
        rows.filter(condition or Q()).values(outer).annotate(result=aggregate).values("result")
    )


def customers_with_revenue(customers: QuerySet, *, today=None) -> QuerySet:
    """Annotate each customer with its current subscriptions: ``subscription_count`` and
    ``annual_revenue`` (only subscriptions in the reporting currency: sums never mix
    currencies; ``other_currency_count`` says how many were left out)."""
    today = today or timezone.localdate()
    current = subscriptions_in_force(today)
    in_reporting = Q(currency=reporting_currency())
    subscriptions = Subscription.objects.filter(current, customer=OuterRef("pk")).order_by()
    per_customer = partial(per_outer_row, subscriptions, "customer")

    money = DecimalField(max_digits=30, decimal_places=4)
    return customers.annotate(
        subscription_count=Coalesce(per_customer(Count("pk")), Value(0)),
        annual_revenue=Coalesce(
            per_customer(Sum(subscription_revenue_expression()), in_reporting),
            Value(0),
            output_field=money,
        ),
        other_currency_count=Coalesce(per_customer(Count("pk"), ~in_reporting), Value(0)),
    )


def suppliers_with_value(suppliers: QuerySet) -> QuerySet:
    """Annotate each supplier with its live contracts: ``contract_count`` and
    ``annual_value`` (reporting currency only, as for customer revenue)."""
    in_reporting = Q(currency=reporting_currency())
    contracts = Contract.objects.filter(retired_at__isnull=True, supplier=OuterRef("pk")).order_by()
    per_supplier = partial(per_outer_row, contracts, "supplier")

    money = DecimalField(max_digits=30, decimal_places=2)
    return suppliers.annotate(
        contract_count=Coalesce(per_supplier(Count("pk")), Value(0)),
        annual_value=Coalesce(
            per_supplier(Sum("annual_value"), in_reporting), Value(0), output_field=money
        ),
        other_currency_count=Coalesce(per_supplier(Count("pk"), ~in_reporting), Value(0)),
    )


def totals_by_currency(amounts) -> list[tuple[str, object]]:
    """Sum (currency, Decimal amount) pairs per currency, reporting currency first."""
    totals: dict[str, Decimal] = {}
    for currency, amount in amounts:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    first = reporting_currency()
    return sorted(totals.items(), key=lambda pair: (pair[0] != first, pair[0]))


def services_by_lifecycle() -> dict[str, dict[str, int]]:
    """Lifecycle -> how many services are fully specified and how many are not (one query)."""
    counts: dict[str, dict[str, int]] = {}
    rows = with_completeness(Service.objects.order_by()).values("lifecycle", "is_complete")
    for row in rows.annotate(n=Count("pk")):
        complete = "complete" if row["is_complete"] else "incomplete"
        counts.setdefault(row["lifecycle"], {"complete": 0, "incomplete": 0})[complete] = row["n"]
    return counts


def service_summary_for(user) -> dict:
    """How many services ``user`` owns or is a delegate for, and how many are incomplete."""
    return services_owned_by(user).aggregate(
        total=Count("pk"), incomplete=Count("pk", filter=Q(is_complete=False))
    )
