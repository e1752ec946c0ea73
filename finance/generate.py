"""Synthetic cost data for benchmarks and load tests, a generator of
``manage.py generate_portfolio`` (registered with portfolio.generate; see its docstring):

    python manage.py generate_portfolio --services 5000 --dependencies 20000 \\
        --applications 2000 --contracts 500 --cost-pools 50 --cost-items 200000 --clear

With ``--customers`` and ``--value-streams`` (the "showback" generator) customers subscribe
to services (one to four subscriptions each, in unlike units) and value streams (three to
eight stages, each underpinned by one to five services, every tenth with a future state) give
the roll-up something to share the kept cost over.

One period (``--cost-period``, default 2030-01, far from real and demo months) gets the cost
items; applications support services, contracts cover services or applications, pools are
allocated to services. A few applications support nothing and a few items are in a currency
without a rate, so the unallocated paths are exercised too. Cost items are written with
PostgreSQL's COPY (200,000 rows in seconds); with ``--history`` they go through the bulk
writer instead, which records their change records.
"""

import datetime
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from finance.choices import CostCategory
from finance.choices import Expenditure
from finance.choices import PoolType
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import StageCost
from finance.models import StatementLine
from finance.models import TcoFlow
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from finance.models import ValueStreamCost
from finance.models import parse_label
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import CustomerKind
from portfolio.generate import GENERATED
from portfolio.generate import GenerationError
from portfolio.generate import GenerationRun
from portfolio.generate import Option
from portfolio.generate import delete_rows
from portfolio.generate import register
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import Subscription
from portfolio.models import Supplier
from valuestreams.choices import StreamState
from valuestreams.models import Stage
from valuestreams.models import StageService
from valuestreams.models import ValueStream

WEIGHTS = tuple(Decimal(w) for w in ("0.5", "1", "1", "1", "2", "3"))
CATEGORIES = tuple(CostCategory.values)
POOL_TYPES = tuple(PoolType.values)
# (currency, share of the items, rate to the reporting currency or None: no rate)
CURRENCIES = (("", 90), ("USD", 8), ("GBP", 1.9), ("CHF", 0.1))
RATES = {"USD": Decimal("0.9213"), "GBP": Decimal("1.1702")}
SUPPLIERS_PER_CONTRACT = 5
COST_ITEM_COLUMNS = (
    "created_at", "updated_at", "source", "external_id", "description", "period_id", "amount",
    "currency", "category", "expenditure", "spread_months", "pool_type", "service_id",
    "application_id", "contract_id", "pool_id",
)  # fmt: skip


def generated_periods():
    """Periods whose cost items all come from the generator."""
    return (
        Period.objects.filter(cost_items__source=GENERATED)
        .exclude(pk__in=CostItem.objects.exclude(source=GENERATED).values("period_id"))
        .distinct()
    )


def clear_costs() -> dict[str, int]:
    periods = list(generated_periods().values_list("pk", flat=True))
    generated_services = Service.objects.filter(source=GENERATED).values("pk")
    in_periods = Q(period_id__in=periods)
    removed = {
        **clear_showback_results(in_periods),
        "TCO results": delete_rows(
            TcoResult.objects.filter(in_periods | Q(service__in=generated_services))
        ),
        "TCO flows": delete_rows(TcoFlow.objects.filter(in_periods)),
        "unallocated rows": delete_rows(TcoUnallocated.objects.filter(in_periods)),
        "TCO runs": delete_rows(TcoRun.objects.filter(in_periods)),
        "cost items": delete_rows(CostItem.objects.filter(source=GENERATED)),
        "exchange rates": delete_rows(
            ExchangeRate.objects.filter(Q(source=GENERATED) | in_periods)
        ),
        "pool allocations": delete_rows(
            PoolAllocation.objects.filter(Q(source=GENERATED) | Q(service__in=generated_services))
        ),
        "cost pools": delete_rows(CostPool.objects.filter(source=GENERATED)),
        "contract coverages": delete_rows(
            ContractCoverage.objects.filter(Q(source=GENERATED) | Q(service__in=generated_services))
        ),
        "contracts": delete_rows(Contract.objects.filter(source=GENERATED)),
        "suppliers": delete_rows(Supplier.objects.filter(source=GENERATED)),
        "application supports": delete_rows(
            ApplicationSupport.objects.filter(
                Q(source=GENERATED) | Q(service__in=generated_services)
            )
        ),
        "applications": delete_rows(Application.objects.filter(source=GENERATED)),
    }
    removed["driver quantities"] = delete_rows(
        DriverQuantity.objects.filter(
            Q(source=GENERATED) | in_periods | Q(service__in=generated_services)
        )
    )
    removed["drivers"] = delete_rows(Driver.objects.filter(source=GENERATED))
    removed["periods"] = delete_rows(Period.objects.filter(pk__in=periods))
    return removed


@register(
    "costs",
    order=50,
    clear=clear_costs,
    options=[
        Option("applications", int, 0, "applications, each supporting 1-3 services"),
        Option("contracts", int, 0, "contracts, each covering 1-3 services or applications"),
        Option("cost_pools", int, 0, "cost pools, each allocated to 5-40 services"),
        Option("cost_items", int, 0, "cost items in the cost period"),
        Option("cost_period", str, "2030-01", "the period (YYYY-MM) of the cost items"),
    ],
)
def generate_costs(run: GenerationRun) -> dict[str, int]:
    options = run.options
    wanted = [options[name] for name in ("applications", "contracts", "cost_pools", "cost_items")]
    if not any(wanted):
        return {}
    service_ids = run.shared.get("service_ids") or []
    if not service_ids:
        raise GenerationError("Cost data needs services: generate some (--services).")
    try:
        year, month = parse_label(options["cost_period"])
    except ValidationError as exc:
        raise GenerationError(f"cost_period: {' '.join(exc.messages)}") from None
    if (
        Period.objects.filter(year=year, month=month)
        .exclude(pk__in=generated_periods().values("pk"))
        .filter(Q(cost_items__isnull=False) | Q(results__isnull=False))
        .exists()
    ):
        raise GenerationError(
            f"The period {options['cost_period']} holds real data: choose another --cost-period."
        )
    period, _ = Period.objects.get_or_create(year=year, month=month)
    live = live_services(service_ids)
    made: dict[str, int] = {}

    applications = build_applications(run.rng("applications"), options["applications"])
    run.bulk_create(Application, applications)
    supports = build_supports(run.rng("supports"), applications, live)
    run.bulk_create(ApplicationSupport, supports)
    made.update(applications=len(applications), **{"application supports": len(supports)})

    suppliers, contracts = build_contracts(run.rng("contracts"), options["contracts"], period)
    run.bulk_create(Supplier, suppliers)
    for contract in contracts:
        contract.supplier_id = contract.supplier.pk
    run.bulk_create(Contract, contracts)
    coverages = build_coverages(run.rng("coverages"), contracts, live, applications)
    run.bulk_create(ContractCoverage, coverages)
    made.update(suppliers=len(suppliers), contracts=len(contracts))
    made["contract coverages"] = len(coverages)

    pools = build_pools(run.rng("pools"), options["cost_pools"])
    run.bulk_create(CostPool, pools)
    allocations = build_allocations(run.rng("allocations"), pools, live)
    run.bulk_create(PoolAllocation, allocations)
    made.update({"cost pools": len(pools), "pool allocations": len(allocations)})

    rates = [
        ExchangeRate(
            source=GENERATED,
            external_id=f"rate-{currency}-{period.label}",
            period=period,
            currency=currency,
            rate=rate,
        )
        for currency, rate in RATES.items()
        if not ExchangeRate.objects.filter(period=period, currency=currency).exists()
    ]
    run.bulk_create(ExchangeRate, rates)
    made["exchange rates"] = len(rates)

    targets = {
        "service": service_ids,
        "application": [a.pk for a in applications],
        "contract": [c.pk for c in contracts],
        "pool": [p.pk for p in pools],
    }
    count = write_cost_items(run, run.rng("cost items"), options["cost_items"], period, targets)
    made["cost items"] = count
    with connection.cursor() as cursor:
        for model in (
            CostItem,
            Application,
            ApplicationSupport,
            Contract,
            ContractCoverage,
            CostPool,
            PoolAllocation,
        ):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    run.shared["cost_period_id"] = period.pk
    return made


# --- Showback: customers, subscriptions and value streams to share the kept cost over -------

UNIT_NAMES = (("user", 5), ("vehicle", 2), ("policy", 2), ("GB", 1))


def clear_showback_results(condition: Q) -> dict[str, int]:
    """Statements and stream costs of the periods ``condition`` selects (by ``period_id``) or
    of generated records: they refer to periods, runs, customers, streams and services that
    are removed after them."""
    # Roll-ups since the generator's ANALYZE filled these tables: without fresh statistics the
    # planner takes them for empty and joins every statement with every line, per statement.
    with connection.cursor() as cursor:
        for model in (CustomerStatement, StatementLine, ValueStreamCost, StageCost):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    generated_services = Service.objects.filter(source=GENERATED).values("pk")
    statements = CustomerStatement.objects.filter(
        condition | Q(customer__source=GENERATED) | Q(lines__service__in=generated_services)
    ).values("pk")
    stream_costs = ValueStreamCost.objects.filter(
        condition | Q(value_stream__source=GENERATED)
    ).values("pk")
    return {
        "statement lines": delete_rows(
            StatementLine.objects.filter(
                Q(statement__in=statements)
                | Q(subscription__source=GENERATED)
                | Q(service__in=generated_services)
            )
        ),
        "customer statements": delete_rows(CustomerStatement.objects.filter(pk__in=statements)),
        "stage costs": delete_rows(
            StageCost.objects.filter(
                Q(stream_cost__in=stream_costs) | Q(stage__value_stream__source=GENERATED)
            )
        ),
        "value-stream costs": delete_rows(ValueStreamCost.objects.filter(pk__in=stream_costs)),
    }


def clear_showback() -> dict[str, int]:
    generated_services = Service.objects.filter(source=GENERATED).values("pk")
    generated_streams = ValueStream.objects.filter(source=GENERATED).values("pk")
    removed = clear_showback_results(Q(pk__in=[]))
    removed["stage services"] = delete_rows(
        StageService.objects.filter(
            Q(source=GENERATED)
            | Q(service__in=generated_services)
            | Q(stage__value_stream__in=generated_streams)
        )
    )
    removed["stages"] = delete_rows(Stage.objects.filter(value_stream__in=generated_streams))
    removed["value streams"] = delete_rows(ValueStream.objects.filter(source=GENERATED))
    removed["subscriptions"] = delete_rows(
        Subscription.objects.filter(Q(source=GENERATED) | Q(service__in=generated_services))
    )
    removed["customers"] = delete_rows(Customer.objects.filter(source=GENERATED))
    return removed


@register(
    "showback",
    order=60,
    clear=clear_showback,
    exists=lambda: (
        Customer.objects.filter(source=GENERATED).exists()
        or ValueStream.objects.filter(source=GENERATED).exists()
    ),
    options=[
        Option("customers", int, 0, "customers, each subscribing to 1-4 services"),
        Option("value_streams", int, 0, "value streams of 3-8 stages on 1-5 services each"),
    ],
)
def generate_showback(run: GenerationRun) -> dict[str, int]:
    customers_wanted, streams_wanted = run.options["customers"], run.options["value_streams"]
    if not customers_wanted and not streams_wanted:
        return {}
    service_ids = run.shared.get("service_ids") or []
    owner_ids = run.shared.get("owner_ids") or []
    if not service_ids or not owner_ids:
        raise GenerationError("Customers and value streams need services: generate some.")
    live = live_services(service_ids)
    made: dict[str, int] = {}

    rng = run.rng("customers")
    customers = [
        Customer(
            source=GENERATED,
            external_id=f"customer-{n:06d}",
            name=f"Generated Customer {n:06d}",
            slug=f"generated-customer-{n:06d}",
            kind=rng.choice(CustomerKind.values),
        )
        for n in range(1, customers_wanted + 1)
    ]
    run.bulk_create(Customer, customers)
    names, name_weights = zip(*UNIT_NAMES, strict=True)
    subscriptions = []
    for customer in customers:
        for service_id in rng.sample(live, min(len(live), rng.randint(1, 4))):
            annual = rng.random() < 0.3
            subscriptions.append(
                Subscription(
                    source=GENERATED,
                    external_id=f"subscription-{len(subscriptions) + 1:07d}",
                    customer_id=customer.pk,
                    service_id=service_id,
                    units=Decimal(rng.randint(1, 500)),
                    unit_name=rng.choices(names, name_weights)[0],
                    price_per_unit=None if annual else Decimal(rng.randrange(50, 5_000)) / 100,
                    annual_charge=Decimal(rng.randrange(1_000_00, 500_000_00)) / 100
                    if annual
                    else None,
                    currency="EUR",
                    start_date=datetime.date(2000, 1, 1),
                )
            )
    run.bulk_create(Subscription, subscriptions)
    made.update(customers=len(customers), subscriptions=len(subscriptions))

    rng = run.rng("value streams")
    streams = [
        ValueStream(
            source=GENERATED,
            external_id=f"stream-{n:05d}",
            name=f"Deliver generated outcome {n:05d}",
            slug=f"generated-stream-{n:05d}",
            owner_id=rng.choice(owner_ids),
        )
        for n in range(1, streams_wanted + 1)
    ]
    run.bulk_create(ValueStream, streams)
    futures = [
        ValueStream(
            source=GENERATED,
            external_id=f"{stream.external_id}-future",
            name=f"{stream.name} (future state)",
            slug=f"{stream.slug}-future",
            owner_id=stream.owner_id,
            state=StreamState.FUTURE,
            current_state_id=stream.pk,
        )
        for stream in streams[::10]
    ]
    run.bulk_create(ValueStream, futures)
    stages, services_of = [], []
    for stream in [*streams, *futures]:
        for position in range(rng.randint(3, 8)):
            stages.append(
                Stage(
                    source=GENERATED,
                    external_id=f"{stream.external_id}-stage-{position}",
                    value_stream_id=stream.pk,
                    position=position,
                    name=f"Handle step {position + 1}",
                )
            )
            services_of.append(rng.sample(live, min(len(live), rng.randint(1, 5))))
    run.bulk_create(Stage, stages)
    links = [
        StageService(
            source=GENERATED,
            external_id=f"{stage.external_id}-{service_id}",
            stage_id=stage.pk,
            service_id=service_id,
            weight=rng.choice((Decimal(0), *WEIGHTS)),
        )
        for stage, chosen in zip(stages, services_of, strict=True)
        for service_id in chosen
    ]
    run.bulk_create(StageService, links)
    made.update(
        {"value streams": len(streams) + len(futures), "stages": len(stages)},
        **{"stage services": len(links)},
    )
    return made


def live_services(service_ids: list[int]) -> list[int]:
    return list(
        Service.objects.filter(pk__in=service_ids)
        .exclude(lifecycle="retired")
        .values_list("pk", flat=True)
        .order_by("pk")
    )


def build_applications(rng: random.Random, count: int) -> list[Application]:
    width = max(5, len(str(count)))
    lifecycles = (
        (ApplicationLifecycle.ACTIVE, 80),
        (ApplicationLifecycle.PHASE_OUT, 10),
        (ApplicationLifecycle.PLAN, 8),
        (ApplicationLifecycle.RETIRED, 2),
    )
    values, weights = zip(*lifecycles, strict=True)
    return [
        Application(
            source=GENERATED,
            external_id=f"application-{n:0{width}d}",
            name=f"Generated Application {n:0{width}d}",
            slug=f"generated-application-{n:0{width}d}",
            lifecycle=rng.choices(values, weights)[0],
        )
        for n in range(1, count + 1)
    ]


def build_supports(rng, applications, live: list[int]) -> list[ApplicationSupport]:
    """Each application supports one to three live services; one in fifty supports none
    (its cost stays unallocated)."""
    rows = []
    number = 0
    for application in applications:
        if rng.random() < 0.02 or not live:
            continue
        for service_id in rng.sample(live, min(len(live), rng.randint(1, 3))):
            number += 1
            rows.append(
                ApplicationSupport(
                    source=GENERATED,
                    external_id=f"support-{number:07d}",
                    application_id=application.pk,
                    service_id=service_id,
                    weight=rng.choice(WEIGHTS),
                )
            )
    return rows


def build_contracts(rng, count: int, period: Period):
    suppliers = [
        Supplier(
            source=GENERATED,
            external_id=f"supplier-{n:05d}",
            name=f"Generated Supplier {n:05d}",
            slug=f"generated-supplier-{n:05d}",
        )
        for n in range(1, (count + SUPPLIERS_PER_CONTRACT - 1) // SUPPLIERS_PER_CONTRACT + 1)
    ]
    start = period.first_day - datetime.timedelta(days=rng.randrange(30, 900))
    contracts = []
    for n in range(1, count + 1):
        begins = start + datetime.timedelta(days=rng.randrange(0, 300))
        contracts.append(
            Contract(
                source=GENERATED,
                external_id=f"contract-{n:05d}",
                supplier=suppliers[(n - 1) // SUPPLIERS_PER_CONTRACT],
                reference=f"GEN-{n:05d}",
                title=f"Generated contract {n:05d}",
                start_date=min(begins, period.first_day),
                end_date=period.last_day + datetime.timedelta(days=rng.randrange(30, 1500)),
                annual_value=Decimal(rng.randrange(12_000_00, 2_400_000_00)) / 100,
                currency="EUR",
            )
        )
    return suppliers, contracts


def build_coverages(rng, contracts, live: list[int], applications) -> list[ContractCoverage]:
    rows = []
    number = 0
    application_ids = [a.pk for a in applications]
    for contract in contracts:
        for _ in range(rng.randint(1, 3)):
            number += 1
            on_application = application_ids and rng.random() < 0.4
            rows.append(
                ContractCoverage(
                    source=GENERATED,
                    external_id=f"coverage-{number:07d}",
                    contract_id=contract.pk,
                    application_id=rng.choice(application_ids) if on_application else None,
                    service_id=None if on_application else rng.choice(live),
                    weight=rng.choice(WEIGHTS),
                )
            )
    # A contract covers each target once.
    seen, unique = set(), []
    for row in rows:
        key = (row.contract_id, row.service_id, row.application_id)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def build_pools(rng, count: int) -> list[CostPool]:
    return [
        CostPool(
            source=GENERATED,
            external_id=f"pool-{n:04d}",
            name=f"Generated Cost Pool {n:04d}",
            slug=f"generated-cost-pool-{n:04d}",
            pool_type=rng.choice(POOL_TYPES),
        )
        for n in range(1, count + 1)
    ]


def build_allocations(rng, pools, live: list[int]) -> list[PoolAllocation]:
    rows = []
    number = 0
    for pool in pools:
        for service_id in rng.sample(live, min(len(live), rng.randint(5, 40))):
            number += 1
            rows.append(
                PoolAllocation(
                    source=GENERATED,
                    external_id=f"allocation-{number:06d}",
                    pool_id=pool.pk,
                    service_id=service_id,
                    weight=rng.choice(WEIGHTS),
                )
            )
    return rows


def cost_item_rows(rng, count: int, period: Period, targets: dict[str, list[int]]):
    """The cost items as tuples in COST_ITEM_COLUMNS order."""
    kinds = [(kind, share) for kind, share in (
        ("service", 30), ("application", 40), ("contract", 10), ("pool", 20)
    ) if targets[kind]]  # fmt: skip
    kind_values, kind_weights = zip(*kinds, strict=True)
    currencies, currency_weights = zip(*CURRENCIES, strict=True)
    from django.conf import settings

    reporting = settings.PORTICO_CURRENCY
    now = timezone.now()
    width = max(7, len(str(count)))
    for n in range(1, count + 1):
        kind = rng.choices(kind_values, kind_weights)[0]
        capex = rng.random() < 0.1
        ids = dict.fromkeys(("service", "application", "contract", "pool"))
        ids[kind] = rng.choice(targets[kind])
        yield (
            now, now, GENERATED, f"cost-{n:0{width}d}", f"Generated cost line {n}", period.pk,
            Decimal(rng.randrange(1_00, 50_000_00)) / 100,
            rng.choices(currencies, currency_weights)[0] or reporting,
            rng.choice(CATEGORIES),
            Expenditure.CAPEX if capex else Expenditure.OPEX,
            rng.choice((12, 24, 36, 60)) if capex else 1,
            rng.choice(POOL_TYPES) if rng.random() < 0.5 else "",
            ids["service"], ids["application"], ids["contract"], ids["pool"],
        )  # fmt: skip


def write_cost_items(run, rng, count: int, period: Period, targets) -> int:
    if not count:
        return 0
    rows = cost_item_rows(rng, count, period, targets)
    if run.history:
        items = [CostItem(**dict(zip(COST_ITEM_COLUMNS, row, strict=True))) for row in rows]
        run.bulk_create(CostItem, items)
        return len(items)
    columns = ", ".join(COST_ITEM_COLUMNS)
    table = CostItem._meta.db_table
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return count
