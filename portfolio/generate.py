"""Synthetic portfolios for benchmarks and load tests: ``manage.py generate_portfolio``.

    python manage.py generate_portfolio --services 10000 --items-per-service 5 \\
        --dependencies 30000 --seed 42 --clear

Everything generated has source "generated" and an external id numbered in creation order,
so it can never be mistaken for (or collide with) real or demo data, and ``--clear`` removes
exactly it. The same seed and options always give the same portfolio. Rows are written with
``bulk_create`` in batches, bypassing the per-row change log (10,000 services take seconds,
not minutes); ``--history`` also writes one "create" change record per row, as the sync API
does. Service owners are drawn from a pool of generated users ("generated-owner-001", ...)
with the Service owner role; the pool is kept (and reused) by ``--clear``.

The services generator makes a realistic topology: customer-facing and internal services
depend on supporting services, supporting services on a few platform services, platforms on
a handful of core services (network-like); a few pairs of supporting services depend on each
other (cycles), and there are no self-dependencies or duplicate pairs. About one service in
ten is left without support functioning items, so completeness filters have work to do.

Adding a generator (applications, contracts, cost pools, cost items, value streams...)
---------------------------------------------------------------------------------------
Write a function in ``<app>/generate.py`` (found by autodiscovery, like ``admin.py``) and
register it::

    from portfolio.generate import GENERATED, GenerationRun, Option, delete_rows, register

    def clear_applications() -> dict[str, int]:
        return {"applications": delete_rows(Application.objects.filter(source=GENERATED))}

    @register(
        "applications",
        order=20,
        clear=clear_applications,
        exists=lambda: Application.objects.filter(source=GENERATED).exists(),
        options=[Option("applications", int, 0, "applications to generate")],
    )
    def generate_applications(run: GenerationRun) -> dict[str, int]:
        count = run.options["applications"]
        if not count:
            return {}
        rng = run.rng("applications")            # its own random stream
        service_ids = run.shared["service_ids"]  # what earlier generators made
        apps = [Application(source=GENERATED, external_id=f"application-{n:06d}", ...)
                for n in range(1, count + 1)]
        run.bulk_create(Application, apps)        # batches, and --history
        return {"applications": count}

- Generators run by ascending ``order`` (services is 10) and clear in the reverse order, so a
  generator clears its rows before the rows they refer to are removed.
- Each option becomes a keyword of ``generate_portfolio`` and a ``--flag`` of the command
  (underscores become dashes). An option defaulting to 0 lets the generator stay off unless
  asked for.
- ``run.rng(name)`` is seeded from the run's seed and the name, so adding a generator never
  changes what the others produce.
- ``run.shared`` carries ids between generators; the services generator puts
  ``owner_ids``, ``service_ids`` and ``services_by_kind`` (kind -> ids) there.
"""

import random
import time
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import IntegrityError
from django.db import connection
from django.db import transaction
from django.db.models import Q
from django.utils.module_loading import autodiscover_modules
from django.utils.text import slugify

from core import changelog
from core import roles
from core.choices import Channel
from core.context import change_context
from core.models import ObjectChange
from portfolio.choices import Aspect
from portfolio.choices import Comparator
from portfolio.choices import Criticality
from portfolio.choices import Dimension
from portfolio.choices import MeasurementWindow
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem

GENERATED = "generated"
OWNER_PREFIX = "generated-owner-"
DEFAULT_BATCH_SIZE = 2000


class GenerationError(ValueError):
    """The options cannot give a portfolio (or generated data is in the way)."""


# --- The registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a generator: a keyword of generate_portfolio and a --flag of the command."""

    name: str
    type: type
    default: Any
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Generator:
    name: str
    generate: Callable[["GenerationRun"], dict[str, int]]
    clear: Callable[[], dict[str, int]]
    options: tuple[Option, ...] = ()
    order: int = 100
    exists: Callable[[], bool] | None = None  # whether its generated data is there


_registry: dict[str, Generator] = {}


def register(
    name: str,
    *,
    clear: Callable[[], dict[str, int]],
    options: Iterable[Option] = (),
    order: int = 100,
    exists: Callable[[], bool] | None = None,
):
    """Register the decorated function as the generator ``name`` (see the module docstring).

    ``clear`` removes its generated rows and returns what it removed by name; ``exists`` tells
    whether there are any (a new run without --clear then refuses to add to them)."""

    def decorator(function):
        _registry[name] = Generator(name, function, clear, tuple(options), order, exists)
        return function

    return decorator


def generators() -> list[Generator]:
    """Every registered generator, in the order they run (apps' generate.py discovered)."""
    autodiscover_modules("generate")
    return sorted(_registry.values(), key=lambda g: (g.order, g.name))


def all_options() -> list[Option]:
    return [option for generator in generators() for option in generator.options]


@dataclass
class GenerationRun:
    """What a generator gets: its options, a seed, batching, and what earlier ones made."""

    seed: int
    options: dict[str, Any]
    batch_size: int = DEFAULT_BATCH_SIZE
    history: bool = False
    stdout: TextIO | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    # Models written to, whose tables get fresh planner statistics at the end.
    written: set = field(default_factory=set)

    def rng(self, name: str) -> random.Random:
        """A random stream of its own for ``name``, the same for the same seed."""
        return random.Random(f"{self.seed}:{name}")

    def bulk_create(self, model, objects: list) -> list:
        """Insert ``objects`` in batches (primary keys are set on them); with ``history``,
        record a create change for each."""
        self.written.add(model)
        for start in range(0, len(objects), self.batch_size):
            batch = objects[start : start + self.batch_size]
            model.objects.bulk_create(batch)
            if self.history:
                changelog.record_created(batch)
        return objects

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)


def delete_rows(queryset) -> int:
    """Delete the rows in one statement, without loading them or sending signals: generated
    data has no history worth a change record, and 10,000 one-by-one deletes take minutes.
    Rows referring to them must be deleted first (foreign keys are checked at commit)."""
    return queryset._raw_delete(queryset.db) or 0  # None when nothing matched


# --- Generating and clearing ------------------------------------------------------------------


def generate_portfolio(
    *,
    services: int,
    items_per_service: int,
    dependencies: int | None,
    seed: int,
    owners: int = 20,
    clear: bool = False,
    history: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdout: TextIO | None = None,
    **options,
) -> dict[str, int]:
    """Generate a synthetic portfolio under source "generated"; returns the counts made.

    ``options`` are the options of the other registered generators (``applications=500``...);
    those left out take their defaults. With ``clear`` the previous generated data is removed
    first; without it, existing generated data is an error.
    """
    known = {option.name: option for option in all_options()}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise GenerationError(f"Unknown generator option: {', '.join(unknown)}.")
    values = {name: option.default for name, option in known.items()}
    values.update(options)
    values.update(
        services=services,
        items_per_service=items_per_service,
        dependencies=dependencies,
        owners=owners,
    )
    for name, value in values.items():
        if isinstance(value, int) and value < 0:
            raise GenerationError(f"{name} cannot be negative (got {value}).")
    if batch_size < 1:
        raise GenerationError("batch_size must be at least 1.")

    run = GenerationRun(
        seed=seed, options=values, batch_size=batch_size, history=history, stdout=stdout
    )
    counts: dict[str, int] = {}
    with transaction.atomic(), change_context(channel=Channel.COMMAND, source=GENERATED):
        if clear:
            cleared = clear_generated()
            run.say("Cleared: " + (describe(cleared) or "nothing"))
        elif has_generated_data():
            raise GenerationError(
                "Generated data exists already: clear it first (--clear) to generate anew."
            )
        for generator in generators():
            started = time.perf_counter()
            made = generator.generate(run)
            if made:
                run.say(
                    f"{generator.name}: {describe(made)} ({time.perf_counter() - started:.1f} s)"
                )
            for name, count in made.items():
                counts[name] = counts.get(name, 0) + count
    analyze(run.written)
    return counts


@transaction.atomic
def clear_generated() -> dict[str, int]:
    """Remove all generated data, the generators' own clear functions in reverse order."""
    removed: dict[str, int] = {}
    for generator in reversed(generators()):
        for name, count in generator.clear().items():
            removed[name] = removed.get(name, 0) + count
    removed["change records"] = delete_rows(ObjectChange.objects.filter(source=GENERATED))
    # Check now, not at commit, that nothing outside the generated data refers to it.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except IntegrityError as exc:
        raise GenerationError(
            f"Cannot clear the generated data: other records still refer to it ({exc})."
        ) from exc
    return {name: count for name, count in removed.items() if count}


def has_generated_data() -> bool:
    return any(g.exists() for g in generators() if g.exists is not None)


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {name}" for name, count in counts.items() if count)


def analyze(models) -> None:
    """Refresh the planner's statistics of the tables written, as autovacuum would a little
    later, so queries right after a bulk load are planned for the data that is there."""
    with connection.cursor() as cursor:
        for table in sorted({model._meta.db_table for model in models}):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


# --- The services generator -------------------------------------------------------------------

AREAS = (
    "Claims", "Policy", "Billing", "Broker", "Fleet", "Pricing", "Customer", "Payments",
    "Document", "Fraud", "Reinsurance", "Underwriting", "Partner", "Travel", "Home", "Motor",
    "Pension", "Health", "Marketing", "Payroll", "Ledger", "Data", "Identity", "Network",
    "Hosting", "Messaging", "Analytics", "Workplace", "Compliance", "Audit",
)  # fmt: skip
FACILITIES = (
    "Portal", "Platform", "Gateway", "Hub", "Service", "Desk", "Engine", "Archive", "Exchange",
    "Registry", "Workbench", "App", "Connect", "Insights", "Assist",
)  # fmt: skip
KIND_WEIGHTS = (
    (ServiceKind.CUSTOMER_FACING, 30),
    (ServiceKind.SUPPORTING, 50),
    (ServiceKind.INTERNAL, 20),
)
LIFECYCLE_WEIGHTS = (
    (ServiceLifecycle.LIVE, 75),
    (ServiceLifecycle.PIPELINE, 15),
    (ServiceLifecycle.RETIRED, 10),
)
CRITICALITY_WEIGHTS = (
    (Criticality.LOW, 20),
    (Criticality.MEDIUM, 45),
    (Criticality.HIGH, 25),
    (Criticality.CRITICAL, 10),
)
# Dates are drawn from a fixed range, not from today, so a seed gives the same data any day.
EPOCH = date(2010, 1, 4)
DATE_RANGE_DAYS = 365 * 15

QUADRANT_ORDER = (
    (Aspect.FACILITY, Dimension.FUNCTIONALITY),
    (Aspect.FACILITY, Dimension.FUNCTIONING),
    (Aspect.SUPPORT, Dimension.FUNCTIONALITY),
    (Aspect.SUPPORT, Dimension.FUNCTIONING),
)
FACILITY_STATEMENTS = (
    ("Self-service requests", "Users submit and follow their requests themselves."),
    ("Real-time status", "Every request shows its current state and next step."),
    ("Document upload", "Users attach documents and photos to a request."),
    ("Bulk import", "Large batches are loaded from a file."),
    ("Reporting", "Standard reports and exports of all records."),
    ("Notifications", "E-mail and push messages at every change of state."),
    ("Search", "Records are found by name, number or customer."),
    ("Approval workflow", "Changes above a limit are approved before they take effect."),
    ("Audit trail", "Every change is recorded with who, when and what."),
    ("API access", "Partners and internal systems use the same functions through an API."),
)
SUPPORT_STATEMENTS = (
    ("Service desk hours", "Portal, phone and chat on working days 08:00–18:00."),
    ("Around-the-clock line", "Priority-1 incidents handled 24/7 by the on-call team."),
    ("Chat support", "Chat with a specialist from within the application."),
    ("Request types", "Incident, access request, change request, question."),
    ("Training", "Onboarding sessions and e-learning for new users."),
    ("Knowledge base", "Articles and how-to guides, searchable in the portal."),
)
# (title, metric, comparator, targets, unit, window)
FACILITY_MEASURES = (
    ("Available", "Availability", Comparator.AT_LEAST, ("99.5", "99.9", "99.95"), "%",
     MeasurementWindow.MONTH),
    ("Responsive", "95th percentile response time", Comparator.AT_MOST, ("500", "1000", "2000"),
     "milliseconds", MeasurementWindow.MONTH),
    ("Enough capacity", "Peak throughput", Comparator.AT_LEAST, ("100", "500", "1000"),
     "transactions per minute", MeasurementWindow.HOUR),
    ("Quick recovery", "Recovery time after a disaster", Comparator.AT_MOST, ("2", "4", "8"),
     "hours", MeasurementWindow.YEAR),
    ("Fast processing", "Processing time", Comparator.AT_MOST, ("5", "10", "15"), "minutes",
     MeasurementWindow.DAY),
)  # fmt: skip
SUPPORT_MEASURES = (
    ("Quick first response", "Response time to priority-1 incidents", Comparator.AT_MOST,
     ("15", "30", "60"), "minutes", MeasurementWindow.MONTH),
    ("Quick resolution", "Resolution time", Comparator.AT_MOST, ("4", "8", "24"), "hours",
     MeasurementWindow.MONTH),
    ("Satisfied users", "Satisfaction score", Comparator.AT_LEAST, ("7", "8", "8.5"), "of 10",
     MeasurementWindow.QUARTER),
    ("Fixed at first contact", "First-contact resolution", Comparator.AT_LEAST,
     ("60", "70", "80"), "%", MeasurementWindow.MONTH),
)  # fmt: skip
DEPENDENCY_WEIGHTS = tuple(Decimal(w) for w in ("0.5", "1", "1", "1", "2", "3"))


def clear_services() -> dict[str, int]:
    generated = Service.objects.filter(source=GENERATED).values("pk")
    removed = {
        "specification items": delete_rows(
            SpecificationItem.objects.filter(Q(source=GENERATED) | Q(service__in=generated))
        ),
        "service dependencies": delete_rows(
            ServiceDependency.objects.filter(
                Q(source=GENERATED) | Q(consumer__in=generated) | Q(provider__in=generated)
            )
        ),
        "delegates": delete_rows(Service.delegates.through.objects.filter(service__in=generated)),
    }
    removed["services"] = delete_rows(Service.objects.filter(source=GENERATED))
    return removed


@register(
    "services",
    order=10,
    clear=clear_services,
    exists=lambda: Service.objects.filter(source=GENERATED).exists(),
    options=[
        Option("services", int, 1000, "services to generate"),
        Option("items_per_service", int, 4, "specification items per service"),
        Option("dependencies", int, None, "end-to-end dependencies (default: 3 per service)"),
        Option("owners", int, 20, "generated service owners to draw from"),
    ],
)
def generate_services(run: GenerationRun) -> dict[str, int]:
    count = run.options["services"]
    items_per_service = run.options["items_per_service"]
    dependencies = run.options["dependencies"]
    if dependencies is None:
        dependencies = min(3 * count, count * (count - 1))
    if count and not run.options["owners"]:
        raise GenerationError("owners must be at least 1 to generate services.")
    if dependencies > count * (count - 1):
        raise GenerationError(
            f"{count} services allow at most {count * (count - 1)} dependencies, "
            f"not {dependencies}."
        )
    if not count:
        run.shared.update(owner_ids=[], service_ids=[], services_by_kind={})
        return {}

    owner_ids = ensure_owner_pool(run.options["owners"])
    services = build_services(run.rng("services"), count, owner_ids)
    run.bulk_create(Service, services)
    delegates = build_delegates(run.rng("delegates"), services, owner_ids)
    Service.delegates.through.objects.bulk_create(delegates, batch_size=run.batch_size)
    run.written.add(Service.delegates.through)

    items = build_items(run.rng("items"), services, items_per_service)
    run.bulk_create(SpecificationItem, items)
    links = build_dependencies(run.rng("dependencies"), services, dependencies)
    run.bulk_create(ServiceDependency, links)

    by_kind: dict[str, list[int]] = {}
    for service in services:
        by_kind.setdefault(service.kind, []).append(service.pk)
    run.shared.update(
        owner_ids=owner_ids,
        service_ids=[service.pk for service in services],
        services_by_kind=by_kind,
    )
    return {
        "services": len(services),
        "specification items": len(items),
        "service dependencies": len(links),
        "delegates": len(delegates),
    }


def ensure_owner_pool(size: int) -> list[int]:
    """The ids of ``size`` generated users with the Service owner role (made if missing)."""
    User = get_user_model()
    usernames = [f"{OWNER_PREFIX}{n:03d}" for n in range(1, size + 1)]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    unusable = make_password(None)  # they never log in; the benchmark logs them in directly
    User.objects.bulk_create(
        [
            User(
                username=name,
                first_name="Generated",
                last_name=f"Owner {name.removeprefix(OWNER_PREFIX)}",
                email=f"{name}@example.org",
                password=unusable,
            )
            for name in usernames
            if name not in existing
        ]
    )
    ids = list(
        User.objects.filter(username__in=usernames)
        .order_by("username")
        .values_list("pk", flat=True)
    )
    group = Group.objects.get(name=roles.SERVICE_OWNER)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=pk, group_id=group.pk) for pk in ids],
        ignore_conflicts=True,
    )
    return ids


def pick(rng: random.Random, weighted) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def build_services(rng: random.Random, count: int, owner_ids: list[int]) -> list[Service]:
    width = max(5, len(str(count)))
    services = []
    for n in range(1, count + 1):
        area, facility = rng.choice(AREAS), rng.choice(FACILITIES)
        kind = pick(rng, KIND_WEIGHTS)
        lifecycle = pick(rng, LIFECYCLE_WEIGHTS)
        name = f"{area} {facility} {n:0{width}d}"
        # A live or retired service has had an accountable owner; some in the pipeline not yet.
        owner_id = rng.choice(owner_ids)
        if lifecycle == ServiceLifecycle.PIPELINE and rng.random() < 0.3:
            owner_id = None
        first = EPOCH + timedelta(days=rng.randrange(DATE_RANGE_DAYS))
        service = Service(
            source=GENERATED,
            external_id=f"service-{n:0{width}d}",
            name=name,
            slug=slugify(name),
            summary=(
                f"Synthetic {ServiceKind(kind).label.lower()} service for "
                f"{area.lower()}, generated for load tests."
            ),
            kind=kind,
            lifecycle=lifecycle,
            criticality=pick(rng, CRITICALITY_WEIGHTS),
            owner_id=owner_id,
        )
        if lifecycle == ServiceLifecycle.PIPELINE:
            service.pipeline_on = first
        else:
            service.live_on = first
        if lifecycle == ServiceLifecycle.RETIRED:
            service.retired_on = first + timedelta(days=rng.randrange(90, 3000))
        services.append(service)
    return services


def build_delegates(rng: random.Random, services: list[Service], owner_ids: list[int]) -> list:
    """One service in ten has one or two delegates besides its owner."""
    Through = Service.delegates.through
    rows = []
    for service in services:
        if rng.random() >= 0.1:
            continue
        others = [pk for pk in owner_ids if pk != service.owner_id]
        for user_id in rng.sample(others, min(len(others), rng.randint(1, 2))):
            rows.append(Through(service_id=service.pk, user_id=user_id))
    return rows


def build_items(
    rng: random.Random, services: list[Service], per_service: int
) -> list[SpecificationItem]:
    """``per_service`` items per service, round the four quadrants; one service in ten gets
    none in support functioning (not fully specified)."""
    items = []
    number = 0
    for service in services:
        quadrants = QUADRANT_ORDER if rng.random() >= 0.1 else QUADRANT_ORDER[:3]
        positions: dict[tuple, int] = {}
        for j in range(per_service):
            aspect, dimension = quadrants[j % len(quadrants)]
            position = positions.get((aspect, dimension), 0)
            positions[aspect, dimension] = position + 1
            number += 1
            item = SpecificationItem(
                source=GENERATED,
                external_id=f"item-{number:07d}",
                service=service,
                aspect=aspect,
                dimension=dimension,
                position=position,
            )
            if dimension == Dimension.FUNCTIONALITY:
                statements = (
                    FACILITY_STATEMENTS if aspect == Aspect.FACILITY else SUPPORT_STATEMENTS
                )
                item.title, item.description = rng.choice(statements)
            else:
                measures = FACILITY_MEASURES if aspect == Aspect.FACILITY else SUPPORT_MEASURES
                fill_measure(rng, item, rng.choice(measures))
            items.append(item)
    return items


def fill_measure(rng: random.Random, item: SpecificationItem, measure) -> None:
    title, metric, comparator, targets, unit, window = measure
    item.title, item.metric, item.comparator = title, metric, comparator
    item.target = Decimal(rng.choice(targets))
    item.unit, item.window = unit, window


def build_dependencies(
    rng: random.Random, services: list[Service], count: int
) -> list[ServiceDependency]:
    """``count`` distinct consumer → provider pairs in a layered topology, with a few cycles.

    Layers: customer-facing and internal services on supporting ones; supporting services on
    platforms (one in twenty supporting services); platforms on a few core services.
    """
    supporting = [s.pk for s in services if s.kind == ServiceKind.SUPPORTING]
    top = [s.pk for s in services if s.kind != ServiceKind.SUPPORTING]
    core = supporting[: max(1, len(supporting) // 200)] if len(supporting) > 2 else []
    platforms = supporting[len(core) : len(core) + max(1, len(supporting) // 20)]
    middle = supporting[len(core) + len(platforms) :]
    # (share of the edges, consumers, providers)
    layers = [
        (60, top, middle),
        (10, top, platforms),
        (20, middle, platforms),
        (7, platforms, core),
        (3, middle, core),
    ]
    layers = [layer for layer in layers if layer[1] and layer[2]]

    pairs: dict[tuple[int, int], None] = {}  # insertion-ordered, for determinism
    # Deliberate cycles: pairs of supporting services that depend on each other.
    cycles = 0
    if count >= 2 and len(middle) >= 2:
        cycles = max(1, min(count // 200, len(middle) // 2))
    for _ in range(cycles):
        a, b = rng.sample(middle, 2)
        if (a, b) not in pairs and (b, a) not in pairs and len(pairs) + 2 <= count:
            pairs[a, b] = pairs[b, a] = None

    attempts = 0
    while len(pairs) < count and layers and attempts < 20 * count:
        attempts += 1
        _share, consumers, providers = pick(rng, [(layer, layer[0]) for layer in layers])
        pair = (rng.choice(consumers), rng.choice(providers))
        if pair[0] != pair[1]:
            pairs.setdefault(pair, None)
    if len(pairs) < count:
        # Small portfolios run out of layered pairs: fill up with any others, in random order.
        ids = [s.pk for s in services]
        rest = [(a, b) for a in ids for b in ids if a != b and (a, b) not in pairs]
        rng.shuffle(rest)
        for pair in rest[: count - len(pairs)]:
            pairs[pair] = None

    by_pk = {service.pk: service for service in services}  # so str() needs no query
    return [
        ServiceDependency(
            source=GENERATED,
            external_id=f"dependency-{number:07d}",
            consumer=by_pk[consumer],
            provider=by_pk[provider],
            weight=rng.choice(DEPENDENCY_WEIGHTS),
        )
        for number, (consumer, provider) in enumerate(pairs, start=1)
    ]
