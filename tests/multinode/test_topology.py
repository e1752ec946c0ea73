"""Portico as several nodes, proven on one machine: two web processes (gunicorn, as the image
runs it) behind a round-robin balancer, a roll-up worker and a report worker on queues of
their own, an active and a standby beat, a Redis and the test database. API scripts sync in
bulk and write cost data, people edit services and cost items through the pages' forms and
press "Recompute now", a report is run; in the middle one web process dies with a write in
flight and the roll-up worker dies in the middle of a roll-up (SIGKILL, its replacement
starts as an orchestrator would start it). At the end a change is committed while a roll-up of
its period computes from the data read before it.

Then: every write a client was told succeeded is stored, every write whose process died is
stored whole or not at all (its change record with it), no period was computed by two
processes at once, one beat sent every scheduled task, each queue's tasks ran on its own
workers, every period ends computed, and its figures are those one process computes from
the same data, to the cent.
"""

import itertools
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_celery_beat.models import IntervalSchedule
from django_celery_beat.models import PeriodicTask

from core.api.tokens import issue_token
from core.choices import ChangeAction
from core.models import ObjectChange
from finance import services
from finance.choices import PeriodStatus
from finance.choices import ReportFormat
from finance.choices import ReportOutcome
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.models import CostItem
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import QueuedTask
from finance.models import ReportRun
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import TcoUnallocated
from portfolio.choices import ServiceKind
from portfolio.models import Service
from portfolio.models import ServiceDependency
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import CostPoolFactory
from tests.factories.finance import ExchangeRateFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import PoolAllocationFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import ApplicationSupportFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.multinode.clients import Backends
from tests.multinode.clients import Browser
from tests.multinode.clients import Ledger
from tests.multinode.clients import Script
from tests.multinode.clients import Write
from tests.multinode.conftest import REPORT_QUEUE
from tests.multinode.conftest import ROLLUP_QUEUE

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# How long the clients keep writing, and when the two nodes die (seconds into the load).
LOAD_SECONDS = 30
WEB_DIES_AFTER = 6
# Bounds on waiting; a healthy run needs a fraction of each.
WAIT_SECONDS = 90
SETTLE_SECONDS = 180
# The sweep (and with it the reaping of dead runs) every few seconds instead of every minute.
SWEEP_EVERY_SECONDS = 3
# A task a dead worker took goes to another after this long (production: 1,800).
VISIBILITY_TIMEOUT = "20"
OPEN_MONTHS = ("2025-03", "2025-04", "2025-05")
CLOSED_MONTH = "2025-02"
# "Recompute now" is pressed on this month only, so the others stay the workers'.
RECOMPUTED_IN_THE_BROWSER = "2025-03"
# Money figures of a result compared to the cent (with the breakdown in cents).
FIGURES = [
    field.name
    for field in TcoResult._meta.concrete_fields
    if field.name not in ("id", "period", "version", "run")
]


def wait_until(condition, what: str, seconds: float = WAIT_SECONDS, topology=None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            logs = f"\n{topology.logs()}" if topology else ""
            pytest.fail(f"timed out after {seconds} s waiting for {what}{logs}")
        time.sleep(0.2)


# --- The estate: what the clients find when they start ------------------------------------


class Estate:
    """The data the load starts from, made and committed by the test itself."""

    def __init__(self):
        periods = {label: _period(label) for label in (CLOSED_MONTH, *OPEN_MONTHS)}
        self.periods = periods
        self.base = [
            ServiceFactory(name=f"Base service {n}", kind=ServiceKind.SUPPORTING) for n in range(10)
        ]
        # Dependencies with a cycle (2 -> 3 -> 4 -> 2) and a chain out of it to 0.
        for consumer, provider, weight in [
            (0, 1, "3"),
            (0, 2, "1"),
            (2, 3, "1"),
            (3, 4, "2"),
            (4, 2, "1"),
            (1, 5, "1"),
            (6, 5, "2"),
            (7, 6, "1"),
            (8, 9, "1"),
            (9, 8, "1"),
            (0, 8, "1"),
        ]:
            ServiceDependencyFactory(
                consumer=self.base[consumer], provider=self.base[provider], weight=Decimal(weight)
            )
        pool = CostPoolFactory(name="Data centre")
        for n, weight in ((5, "2"), (6, "1"), (9, "1")):
            PoolAllocationFactory(pool=pool, service=self.base[n], weight=Decimal(weight))
        claims_app = ApplicationFactory(name="Claims app")
        ApplicationSupportFactory(application=claims_app, service=self.base[0])
        ApplicationSupportFactory(application=claims_app, service=self.base[7])
        ApplicationFactory(name="Idle app")  # supports nothing: its cost is unallocated
        for label, period in periods.items():
            CostItemFactory(period=period, pool=pool, amount=Decimal("900.00"))
            CostItemFactory(period=period, application=claims_app, amount=Decimal("480.00"))
            for n, service in enumerate(self.base):
                CostItemFactory(
                    period=period, service=service, amount=Decimal(100 + 7 * n) + Decimal("0.25")
                )
            CostItemFactory(
                period=period, service=self.base[4], amount=Decimal("55.55"), currency="USD"
            )
            if label != "2025-04":  # 2025-04's USD cost stays unconverted
                ExchangeRateFactory(period=period, currency="USD", rate=Decimal("0.9"))
        self.usd_rate = ExchangeRate.objects.get(period=periods["2025-05"], currency="USD")

        self.people = {
            name: UserFactory(username=name, role="Portfolio manager") for name in ("ana", "ben")
        }
        # Services and cost items each person alone edits (so any conflict would be a defect).
        self.owned_services = {
            name: [
                ServiceFactory(name=f"{name} service {n}", kind=ServiceKind.INTERNAL)
                for n in range(3)
            ]
            for name in self.people
        }
        for owned in self.owned_services.values():
            for n, service in enumerate(owned):
                ServiceDependencyFactory(consumer=self.base[n], provider=service)
        self.owned_items = {
            name: [
                CostItemFactory(period=periods[label], service=service, amount=Decimal("10.00"))
                for service, label in zip(self.owned_services[name], OPEN_MONTHS, strict=True)
            ]
            for name in self.people
        }
        # The service whose edit is in flight when its web process dies.
        self.held_service = ServiceFactory(name="Held service", kind=ServiceKind.INTERNAL)
        self.holder = UserFactory(username="hal", role="Portfolio manager")

        cmdb_bot = UserFactory(username="cmdb-bot", role="Portfolio manager")
        ledger_bot = UserFactory(username="ledger-bot", role="Finance")
        self.tokens = {
            "cmdb-1": issue_token(user=cmdb_bot, name="sync 1", write=True)[1],
            "cmdb-2": issue_token(user=cmdb_bot, name="sync 2", write=True)[1],
            "ledger": issue_token(user=ledger_bot, name="costs", write=True)[1],
        }
        self.ledger_items = [
            CostItemFactory(period=periods[label], service=self.base[n], amount=Decimal("20.00"))
            for n, label in enumerate(OPEN_MONTHS * 2)
        ]
        self.report = ReportDefinitionFactory(
            name="Monthly TCO", formats=[ReportFormat.XLSX, ReportFormat.CSV]
        )

        # February is closed (the report's month); the open months start computed and clean.
        services.close_period(period=periods[CLOSED_MONTH])
        for label in OPEN_MONTHS:
            services.recompute_tco(period=periods[label])
        # Only the sweep is scheduled, every few seconds; the other entries would not fire
        # during the test anyway.
        every, _ = IntervalSchedule.objects.get_or_create(
            every=SWEEP_EVERY_SECONDS, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.update(enabled=False)
        PeriodicTask.objects.update_or_create(
            task="finance.tasks.sweep",
            defaults={"name": "Sweep", "interval": every, "crontab": None, "enabled": True},
        )


def _period(label: str) -> Period:
    year, month = map(int, label.split("-"))
    return PeriodFactory(year=year, month=month)


# --- The clients ---------------------------------------------------------------------------


class RecomputePause:
    """Keeps "Recompute now" from being pressed while the test holds the results table: a
    roll-up in a web request would wait there, holding its period's row, and with it every
    commit that marks that period dirty, past gunicorn's 30-second timeout. Each person
    says at the start of each step that she has seen the pause (her request before it is
    done by then)."""

    def __init__(self, people):
        self.people = set(people)
        self.requested = threading.Event()
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    def may_recompute(self, name: str) -> bool:
        if not self.requested.is_set():
            return True
        with self._lock:
            self.seen.add(name)
        return False

    def leave(self, name: str) -> None:
        with self._lock:
            self.people.discard(name)

    def everyone_saw(self) -> bool:
        with self._lock:
            return self.seen >= self.people

    def hold(self) -> None:
        self.requested.set()
        wait_until(self.everyone_saw, "every person to see the pause")

    def release(self) -> None:
        with self._lock:
            self.seen.clear()
        self.requested.clear()


# Amounts unique to each write (in cents), so a stored amount tells which write made it.
_cents = itertools.count(100_001)
_cents_lock = threading.Lock()


def unique_amount() -> str:
    with _cents_lock:
        return str(Decimal(next(_cents)).scaleb(-2))


def api_sync(script: Script, source: str, base_ids: list[int], stop: threading.Event) -> None:
    """A CMDB pushing batches: new services, their dependencies, and cost lines for them."""
    for batch in itertools.count():
        if stop.is_set():
            return
        keys = [f"{source}-{batch}-{n}" for n in range(4)]
        pushed = script.send(
            "sync services",
            "POST",
            "/api/v1/sync/services/",
            {
                "source": source,
                "items": [
                    {
                        "external_id": key,
                        "name": f"{key} service",
                        "kind": "supporting",
                        "summary": f"Pushed by {source}",
                    }
                    for key in keys
                ],
            },
            key=(source, keys),
            value=[f"{key} service" for key in keys],
        )
        if not pushed.acknowledged:
            continue  # what it refers to may not exist
        consumers = [base_ids[(batch + n) % len(base_ids)] for n in range(len(keys))]
        script.send(
            "sync dependencies",
            "POST",
            "/api/v1/sync/service-dependencies/",
            {
                "source": source,
                "items": [
                    {"consumer": consumer, "provider": {"external_id": key}, "weight": "2"}
                    for consumer, key in zip(consumers, keys, strict=True)
                ],
            },
            key=(source, keys),
            value=consumers,
        )
        amounts = [unique_amount() for _ in keys]
        script.send(
            "sync cost items",
            "POST",
            "/api/v1/sync/cost-items/",
            {
                "source": source,
                "items": [
                    {
                        "external_id": f"{key}-cost",
                        "description": f"{key} hosting",
                        "period": OPEN_MONTHS[(batch + n) % len(OPEN_MONTHS)],
                        "amount": amount,
                        "category": "infrastructure",
                        "service": {"external_id": key},
                    }
                    for n, (key, amount) in enumerate(zip(keys, amounts, strict=True))
                ],
            },
            key=(source, [f"{key}-cost" for key in keys]),
            value=amounts,
        )


def api_costs(
    script: Script, items: list[int], service_ids: list[int], rate_id: int, stop: threading.Event
) -> None:
    """A ledger script: new cost lines one by one, amounts corrected, a rate revised."""
    for step in itertools.count():
        if stop.is_set():
            return
        amount = unique_amount()
        if step % 3 == 0:
            description = f"Ledger line {step}"
            script.send(
                "add cost item",
                "POST",
                "/api/v1/cost-items/",
                {
                    "description": description,
                    "period": OPEN_MONTHS[step % len(OPEN_MONTHS)],
                    "amount": amount,
                    "category": "vendor",
                    "service": service_ids[step % len(service_ids)],
                },
                key=description,
                value=amount,
            )
        elif step % 3 == 1:
            item = items[step % len(items)]
            script.send(
                "edit cost item",
                "PATCH",
                f"/api/v1/cost-items/{item}/",
                {"amount": amount},
                key=item,
                value=amount,
            )
        else:
            rate = f"0.{8000 + step:04d}"
            script.send(
                "edit rate",
                "PATCH",
                f"/api/v1/exchange-rates/{rate_id}/",
                {"rate": rate},
                key=rate_id,
                value=rate,
            )


def browser_edits(
    browser: Browser, name: str, estate_view: dict, pause: RecomputePause, stop: threading.Event
) -> None:
    """A person at work: edits her services and cost items in their forms, books new cost,
    presses "Recompute now", and runs the report once."""
    try:
        for step in itertools.count():
            if stop.is_set():
                return
            browser_step(browser, name, estate_view, step, pause.may_recompute(name))
    finally:
        pause.leave(name)  # she presses nothing any more


def browser_step(browser: Browser, name: str, estate_view: dict, step: int, may_recompute: bool):
    """One step of ``browser_edits``."""
    owned, items = estate_view["services"], estate_view["items"]
    turn = step // 5
    if step == 2:
        path = f"/reports/{estate_view['report']}/run/"
        fields = browser.form(f"/reports/{estate_view['report']}/", action=path)
        browser.submit("run report", path, fields, key=estate_view["report"], value=name)
    elif step % 5 in (0, 3):
        slug, pk = owned[turn % len(owned)]
        path = f"/services/{slug}/edit/"
        fields = browser.form(path, form_id="object-form")
        summary = f"{name} wrote this in step {step}"
        fields["summary"] = [summary]
        browser.submit("edit service", path, fields, key=pk, value=summary)
    elif step % 5 == 1:
        description = f"{name} booked this in step {step}"
        amount = unique_amount()
        fields = browser.form("/costs/items/new/", form_id="object-form")
        fields.update(
            description=[description],
            period_label=[OPEN_MONTHS[turn % len(OPEN_MONTHS)]],
            amount=[amount],
            category=["support"],
            service=[owned[turn % len(owned)][0]],
        )
        browser.submit("add cost item", "/costs/items/new/", fields, key=description, value=amount)
    elif step % 5 == 2:
        item = items[turn % len(items)]
        path = f"/costs/items/{item}/edit/"
        fields = browser.form(path, form_id="object-form")
        amount = unique_amount()
        fields["amount"] = [amount]
        browser.submit("edit cost item", path, fields, key=item, value=amount)
    elif turn % 2 == 0 and may_recompute:
        page = f"/costs/periods/{RECOMPUTED_IN_THE_BROWSER}/"
        path = f"{page}recompute/"
        fields = browser.form(page, action=path)
        browser.submit("recompute", path, fields, key=RECOMPUTED_IN_THE_BROWSER, value=name)


# --- Killing nodes at known points -----------------------------------------------------------


@contextmanager
def own_session():
    """A database session of the test's own (not Django's), rolled back at the end."""
    database = settings.DATABASES["default"]
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
    ) as session:
        yield session
        session.rollback()


def blocked_by(session, application: str) -> int:
    """How many sessions of the process named ``application`` wait for a lock ``session``
    holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND %s = ANY(pg_blocking_pids(pid))",
            [application, session.info.backend_pid],
        )
        return cursor.fetchone()[0]


def kill_web_mid_write(topology, web, browser: Browser, service: Service) -> Write:
    """Kill ``web`` (the master and its workers) while it writes an edit of ``service``: the
    test holds the service's row, so the edit waits inside its transaction until the process
    is gone."""
    path = f"/services/{service.slug}/edit/"
    fields = browser.form(path, form_id="object-form", backend=web.url)
    fields["summary"] = ["An edit whose process died"]
    # The lock goes first on the way out: the request in the pool waits for it.
    with ThreadPoolExecutor(max_workers=1) as pool, own_session() as holder:
        # NO KEY UPDATE: it stops the edit's UPDATE, not the roll-ups' references to the row.
        holder.execute(
            "SELECT 1 FROM portfolio_service WHERE id = %s FOR NO KEY UPDATE", [service.pk]
        )
        in_flight = pool.submit(
            browser.submit,
            "edit service",
            path,
            fields,
            key=service.pk,
            value=fields["summary"][0],
            backend=web.url,
        )
        wait_until(lambda: blocked_by(holder, web.name) > 0, "the edit to wait", topology=topology)
        web.kill()
    return in_flight.result(WAIT_SECONDS)


def kill_worker_mid_rollup(topology, worker) -> None:
    """Kill ``worker`` (its pool with it) in the middle of a roll-up: the test holds the
    results table, so the roll-up stops at the writing of its results, run started, period
    locked, nothing written."""
    with own_session() as holder:
        holder.execute(f"LOCK TABLE {TcoResult._meta.db_table} IN SHARE MODE")
        wait_until(
            lambda: blocked_by(holder, worker.name) > 0,
            f"a roll-up on {worker.name} to reach its results",
            topology=topology,
        )
        running = list(
            TcoRun.objects.filter(outcome=RunOutcome.RUNNING).values_list("pk", flat=True)
        )
        worker.kill()
    assert running, "a run was in progress"


def change_during_rollup(
    topology, web, browser: Browser, script: Script, label: str, item: int
) -> Write:
    """Commit a change to ``label``'s cost while a roll-up of it computes from the data read
    before it: the test holds the exchange rates, which a roll-up reads after the cost items,
    so the roll-up ("Recompute now") stops between the two. The change must not be lost to
    it: the period stays to be computed again. Returns the "Recompute now"."""
    page = f"/costs/periods/{label}/"
    fields = browser.form(page, action=f"{page}recompute/")
    # The lock goes first on the way out: the request in the pool waits for it.
    with ThreadPoolExecutor(max_workers=1) as pool, own_session() as holder:
        holder.execute(f"LOCK TABLE {ExchangeRate._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        computing = pool.submit(
            browser.submit,
            "recompute",
            f"{page}recompute/",
            fields,
            key=label,
            value="hal",
            backend=web.url,
        )
        wait_until(
            lambda: blocked_by(holder, web.name) > 0, "the roll-up to read", topology=topology
        )
        amount = unique_amount()
        changed = script.send(
            "edit cost item",
            "PATCH",
            f"/api/v1/cost-items/{item}/",
            {"amount": amount},
            key=item,
            value=amount,
        )
        assert changed.acknowledged, changed
    return computing.result(WAIT_SECONDS)


# --- The checks ------------------------------------------------------------------------------


def changes_of(model, object_ids, action: str | None = None):
    changes = ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id__in=[str(pk) for pk in object_ids],
    )
    return changes.filter(action=action) if action else changes


def check_created(writes: list[Write], found, what: str) -> None:
    """Writes that create records: ``found(write)`` gives (records the write would have
    made that exist, how many it would have made, how many of them have a change record)."""
    for write in writes:
        present, expected, logged = found(write)
        assert logged == present, f"{what} {write.key}: stored without its change record"
        if write.acknowledged:
            assert present == expected, f"{what} {write.key} acknowledged but not stored"
        elif write.unanswered:
            assert present in (0, expected), f"{what} {write.key}: half written ({present})"
        else:
            assert present == 0, f"{what} {write.key} refused ({write.status}) but stored"


def check_edits(writes: list[Write], model, field: str, convert=str) -> None:
    """Edits of one field, each writing a value of its own: the change log holds every
    acknowledged value once, no refused one, an unanswered one at most once, and the stored
    value is the last one logged."""
    by_record: dict[int, list[Write]] = {}
    for write in writes:
        by_record.setdefault(write.key, []).append(write)
    for pk, attempts in by_record.items():
        logged = [
            convert(change.after[field])
            for change in changes_of(model, [pk], ChangeAction.UPDATE).order_by("id")
            if (change.before or {}).get(field) != change.after.get(field)
        ]
        counted = Counter(logged)
        for write in attempts:
            value = convert(write.value)
            if write.acknowledged:
                assert counted[value] == 1, f"{model.__name__} {pk}: acknowledged {value} lost"
            elif write.unanswered:
                assert counted[value] <= 1
            else:
                assert counted[value] == 0, f"{model.__name__} {pk}: refused {value} stored"
        assert set(counted) <= {convert(write.value) for write in attempts}
        stored = convert(getattr(model.objects.get(pk=pk), field))
        assert stored == (logged[-1] if logged else stored), f"{model.__name__} {pk}: half write"


def check_writes(ledger: Ledger) -> None:
    def synced_services(write):
        source, keys = write.key
        rows = Service.objects.filter(source=source, external_id__in=keys)
        stored = rows.filter(name__in=write.value).count()
        logged = changes_of(Service, rows.values_list("pk", flat=True), ChangeAction.CREATE)
        return stored, len(keys), logged.count()

    def synced_dependencies(write):
        source, keys = write.key
        rows = ServiceDependency.objects.filter(
            provider__source=source, provider__external_id__in=keys, consumer_id__in=write.value
        )
        logged = changes_of(ServiceDependency, rows.values_list("pk", flat=True))
        return rows.count(), len(keys), logged.count()

    def synced_costs(write):
        source, keys = write.key
        rows = CostItem.objects.filter(source=source, external_id__in=keys)
        stored = rows.filter(amount__in=[Decimal(amount) for amount in write.value]).count()
        logged = changes_of(CostItem, rows.values_list("pk", flat=True), ChangeAction.CREATE)
        return stored, len(keys), logged.count()

    def added_cost(write):
        rows = CostItem.objects.filter(description=write.key, amount=Decimal(write.value))
        logged = changes_of(CostItem, rows.values_list("pk", flat=True), ChangeAction.CREATE)
        return rows.count(), 1, logged.count()

    check_created(ledger.of("sync services"), synced_services, "synced services")
    check_created(ledger.of("sync dependencies"), synced_dependencies, "synced dependencies")
    check_created(ledger.of("sync cost items"), synced_costs, "synced cost items")
    check_created(ledger.of("add cost item"), added_cost, "new cost item")
    check_edits(ledger.of("edit service"), Service, "summary")
    check_edits(ledger.of("edit cost item"), CostItem, "amount", convert=Decimal)
    check_edits(ledger.of("edit rate"), ExchangeRate, "rate", convert=Decimal)

    # Each acknowledged "Recompute now" ran a roll-up in its web process, recorded as asked
    # by its user; one whose process died may have started one.
    for name in ("ana", "ben"):
        asked = [w for w in ledger.of("recompute") if w.value == name]
        runs = TcoRun.objects.filter(trigger=RunTrigger.MANUAL, requested_by__username=name)
        acknowledged = sum(w.acknowledged for w in asked)
        unanswered = sum(w.unanswered for w in asked)
        assert acknowledged <= runs.count() <= acknowledged + unanswered


def check_one_computation_at_a_time() -> dict[str, int]:
    """No two runs of a period overlap: each starts after the one before it finished."""
    figures = {"runs": 0, "interrupted": 0}
    for period in Period.objects.all():
        runs = list(TcoRun.objects.filter(period=period).order_by("started_at", "id"))
        for earlier, later in itertools.pairwise(runs):
            assert earlier.finished_at is not None
            assert later.started_at >= earlier.finished_at, (
                f"{period}: run {later.pk} ({later.trigger}) started at {later.started_at}, "
                f"before run {earlier.pk} ({earlier.trigger}) finished at {earlier.finished_at}"
            )
        figures["runs"] += len(runs)
        figures["interrupted"] += sum(run.error == services.INTERRUPTED for run in runs)
    return figures


def stored_figures(period: Period) -> dict:
    version = period.current_version
    results = {
        row["service"]: row
        for row in TcoResult.objects.filter(period=period, version=version).values(*FIGURES)
    }
    unallocated = sorted(
        TcoUnallocated.objects.filter(period=period, version=version).values_list(
            "source_kind",
            "source_id",
            "reason",
            "amount",
            "original_currency",
            "original_amount",
            "breakdown",
        ),
        key=repr,
    )
    return {"results": results, "unallocated": unallocated}


def differences(topology: dict, one_process: dict) -> list:
    """The first figures that differ: (service, figure, the topology's, one process's)."""
    found = [
        (service, name, row.get(name), one_process["results"].get(service, {}).get(name))
        for service, row in topology["results"].items()
        for name in FIGURES
        if row.get(name) != one_process["results"].get(service, {}).get(name)
    ]
    if set(topology["results"]) != set(one_process["results"]):
        found.append(("services", set(topology["results"]) ^ set(one_process["results"])))
    if topology["unallocated"] != one_process["unallocated"]:
        found.append(("unallocated", topology["unallocated"], one_process["unallocated"]))
    return found[:10]


# --- The test --------------------------------------------------------------------------------


# Sockets the test's clients leave open to the web nodes (a gthread worker keeps a client's
# connection alive) are closed with the process, not leaked by Portico.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_topology_loses_nothing_and_computes_each_period_once(topology):
    estate = Estate()
    topology.environment["CELERY_VISIBILITY_TIMEOUT"] = VISIBILITY_TIMEOUT
    web_settings = {"DJANGO_SETTINGS_MODULE": "tests.multinode.settings"}
    web_a = topology.web("web-a", **web_settings)
    web_b = topology.web("web-b", **web_settings)
    rollups = topology.worker("worker-rollups", [ROLLUP_QUEUE], concurrency=2)
    reports = topology.worker("worker-reports", [REPORT_QUEUE, "celery"])
    beats = [topology.beat("beat-1"), topology.beat("beat-2")]
    topology.wait_ready(web_a, web_b, rollups, reports, *beats)

    backends = Backends([web_a.url, web_b.url])
    ledger = Ledger()
    stop = threading.Event()
    pause = RecomputePause(estate.people)
    people = {
        name: Browser(backends, ledger, name, username=name, password=TEST_PASSWORD)
        for name in estate.people
    }
    views = {
        name: {
            "services": [(service.slug, service.pk) for service in estate.owned_services[name]],
            "items": [item.pk for item in estate.owned_items[name]],
            "report": estate.report.pk,
        }
        for name in estate.people
    }
    base_ids = [service.pk for service in estate.base]
    scripts = {
        name: Script(backends, ledger, name, token=token) for name, token in estate.tokens.items()
    }
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(people) + len(scripts)) as pool:
        actors = [
            pool.submit(api_sync, scripts["cmdb-1"], "cmdb-1", base_ids, stop),
            pool.submit(api_sync, scripts["cmdb-2"], "cmdb-2", base_ids, stop),
            pool.submit(
                api_costs,
                scripts["ledger"],
                [item.pk for item in estate.ledger_items],
                base_ids,
                estate.usd_rate.pk,
                stop,
            ),
            *(pool.submit(browser_edits, people[n], n, views[n], pause, stop) for n in people),
        ]
        try:
            time.sleep(WEB_DIES_AFTER)
            hal = Browser(backends, ledger, "hal", username="hal", password=TEST_PASSWORD)
            died_with = kill_web_mid_write(topology, web_a, hal, estate.held_service)
            pause.hold()
            kill_worker_mid_rollup(topology, rollups)
            pause.release()
            replacement = topology.worker("worker-rollups-2", [ROLLUP_QUEUE], concurrency=2)
            topology.wait_ready(replacement)
            time.sleep(max(0, LOAD_SECONDS - (time.monotonic() - started)))
        finally:
            stop.set()
        for actor in actors:
            try:
                actor.result(WAIT_SECONDS)
            except AssertionError as failure:  # a 500, or a client that could not go on
                pytest.fail(f"{failure}\n{topology.errors() or topology.logs()}")
    load_seconds = time.monotonic() - started

    # The edit in flight got no answer; the load went on on the other web process.
    assert died_with.unanswered, died_with
    assert backends.down == {web_a.url}
    assert web_b.alive and reports.alive and replacement.alive

    asked = sum(write.acknowledged for write in ledger.of("run report"))

    def reports_done() -> list[str]:
        return re.findall(r"Task finance\.tasks\.run_report\[\S+\] succeeded", reports.output())

    def settled() -> bool:
        return len(reports_done()) >= asked and not (
            QueuedTask.objects.exists()
            or TcoRun.objects.filter(outcome=RunOutcome.RUNNING).exists()
            or Period.objects.filter(
                status=PeriodStatus.OPEN, recompute_requested_at__isnull=False
            ).exists()
            or ReportRun.objects.filter(finished_at__isnull=True).exists()
        )

    wait_until(settled, "every period to be computed", SETTLE_SECONDS, topology)
    # The load is over and every period computed: a change now, during a roll-up of its
    # period, is the last one, and only a later roll-up can take it in.
    during = estate.ledger_items[1]
    computed = change_during_rollup(
        topology, web_b, hal, scripts["ledger"], during.period.label, during.pk
    )
    assert computed.acknowledged, computed
    wait_until(settled, "the change's period to be computed again", SETTLE_SECONDS, topology)
    settle_seconds = time.monotonic() - started - load_seconds
    # Read before shutting down: when the scheduling beat stops, the standby takes over.
    sent = {beat.name: beat.output().count("Sending due task ") for beat in beats}
    standby = [beat for beat in beats if "standing by" in beat.output()]
    topology.stop()

    # 1. Nothing a client was told is done is lost; nothing half written. And every kind of
    # write was done, not only refused: refusals alone (a broken form or token) prove nothing.
    check_writes(ledger)
    never_done = [kind for kind, row in ledger.counts().items() if not row["acknowledged"]]
    assert not never_done, (never_done, ledger.counts())
    # 2. One computation of a period at a time, across web processes and workers; the
    # roll-up the worker died in was found dead and done again.
    runs = check_one_computation_at_a_time()
    assert runs["interrupted"] >= 1
    # 3. One beat scheduled: the other stood by and sent nothing.
    assert len(standby) == 1 and sent[standby[0].name] == 0, sent
    assert sum(sent.values()) >= 3, sent
    # 4. Each queue's tasks ran on its own workers only.
    for worker in (rollups, replacement):
        assert "run_report[" not in worker.output()
    assert "finance.tasks.sweep[" in rollups.output() + replacement.output()
    assert "run_report[" in reports.output()
    for task in ("sweep[", "recompute_dirty_periods[", "recompute_period["):
        assert task not in reports.output()
    # Each acknowledged "Run now" went through the outbox to the report worker, which made
    # the month's files again each time and e-mailed them once.
    assert len(reports_done()) >= asked > 0
    [report_run] = ReportRun.objects.filter(definition=estate.report)
    assert (report_run.period_key, report_run.outcome) == (CLOSED_MONTH, ReportOutcome.SUCCEEDED)
    assert report_run.email_count == 1
    assert sorted(report_run.files.values_list("format", flat=True)) == ["csv", "xlsx"]
    # 5. The figures are those of one process: each open period computed again here, from the
    # same data, gives every service the same figures to the cent.
    for label in OPEN_MONTHS:
        period = Period.objects.get(pk=estate.periods[label].pk)
        assert period.recompute_requested_at is None
        by_the_topology = stored_figures(period)
        services.recompute_tco(period=period)
        by_one_process = stored_figures(period)
        difference = differences(by_the_topology, by_one_process)
        assert by_one_process == by_the_topology, (label, difference)
        assert len(by_the_topology["results"]) == Service.objects.count()

    print(
        f"\nmulti-node: {load_seconds:.0f} s of load, settled {settle_seconds:.0f} s later;"
        f" writes {ledger.counts()}; roll-up runs {runs}; beat sends {sent}"
    )
