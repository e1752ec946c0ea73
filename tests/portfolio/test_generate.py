from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError
from django.core.management import call_command
from django.db.models import Count
from django.db.models import Exists
from django.db.models import F
from django.db.models import OuterRef

from core import roles
from core.models import ObjectChange
from portfolio import generate
from portfolio import selectors
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.generate import GENERATED
from portfolio.generate import GenerationError
from portfolio.generate import Option
from portfolio.generate import generate_portfolio
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.services import save_service

pytestmark = pytest.mark.django_db

SMALL = {"services": 60, "items_per_service": 5, "dependencies": 150, "seed": 7}


def generated(model):
    return model.objects.filter(source=GENERATED)


def portfolio_snapshot() -> dict:
    """The generated portfolio by external ids: what must be equal for equal seeds."""
    services = list(
        generated(Service)
        .order_by("external_id")
        .values_list(
            "external_id", "name", "slug", "kind", "lifecycle", "criticality", "owner__username",
            "live_on", "pipeline_on", "retired_on",
        )
    )  # fmt: skip
    items = list(
        generated(SpecificationItem)
        .order_by("external_id")
        .values_list(
            "external_id", "service__external_id", "aspect", "dimension", "position", "title",
            "metric", "target", "window",
        )
    )  # fmt: skip
    dependencies = list(
        generated(ServiceDependency)
        .order_by("external_id")
        .values_list("consumer__external_id", "provider__external_id", "weight")
    )
    delegates = sorted(
        Service.delegates.through.objects.filter(service__source=GENERATED).values_list(
            "service__external_id", "user__username"
        )
    )
    return {"services": services, "items": items, "dependencies": dependencies, "d": delegates}


def test_generate_portfolio_creates_the_numbers_asked():
    counts = generate_portfolio(**SMALL)

    assert counts["services"] == generated(Service).count() == 60
    assert counts["specification items"] == generated(SpecificationItem).count() == 300
    assert counts["service dependencies"] == generated(ServiceDependency).count() == 150
    assert generated(Service).values("slug").distinct().count() == 60
    assert generated(Service).values("external_id").distinct().count() == 60


def test_generate_portfolio_mixes_kinds_lifecycles_and_owners():
    generate_portfolio(**SMALL)

    services = generated(Service)
    assert {s.kind for s in services} == set(ServiceKind.values)
    assert {s.lifecycle for s in services} == set(ServiceLifecycle.values)
    assert not services.filter(lifecycle=ServiceLifecycle.LIVE, owner=None).exists()
    owners = services.exclude(owner=None).values("owner").distinct()
    assert owners.count() > 5
    owner_role = Group.objects.get(name=roles.SERVICE_OWNER)
    assert owner_role.user_set.filter(pk__in=owners).count() == owners.count()


def test_generate_portfolio_fills_all_quadrants_and_leaves_some_incomplete():
    generate_portfolio(**SMALL)

    quadrants = set(generated(SpecificationItem).values_list("aspect", "dimension").distinct())
    assert quadrants == set(selectors.QUADRANTS)
    services = selectors.with_completeness(generated(Service))
    complete = services.filter(is_complete=True).count()
    assert 0 < complete < services.count()
    functioning = [item for item in generated(SpecificationItem) if item.is_functioning]
    assert all(item.metric and item.unit and item.target is not None for item in functioning)


def test_generate_portfolio_dependencies_have_no_self_loops_or_duplicates_but_cycles():
    generate_portfolio(**SMALL)

    links = generated(ServiceDependency)
    assert not links.filter(consumer=F("provider")).exists()
    pairs = links.values("consumer", "provider").annotate(n=Count("pk")).filter(n__gt=1)
    assert not pairs.exists()
    reverse = ServiceDependency.objects.filter(
        consumer=OuterRef("provider"), provider=OuterRef("consumer")
    )
    assert links.filter(Exists(reverse)).exists()


def test_generate_portfolio_same_seed_same_portfolio():
    generate_portfolio(**SMALL)
    first = portfolio_snapshot()

    generate_portfolio(**SMALL, clear=True)

    assert portfolio_snapshot() == first


def test_generate_portfolio_other_seed_other_portfolio():
    generate_portfolio(**SMALL)
    first = portfolio_snapshot()

    generate_portfolio(**{**SMALL, "seed": 8}, clear=True)

    assert portfolio_snapshot() != first


def test_generate_portfolio_clear_replaces_only_generated_data(service_owner):
    own = save_service(
        service=Service(name="Claims Desk", kind=ServiceKind.SUPPORTING, owner=service_owner)
    )
    generate_portfolio(**SMALL)
    some_generated = generated(Service).first()
    ServiceDependency.objects.create(consumer=some_generated, provider=own)

    counts = generate_portfolio(
        services=10, items_per_service=2, dependencies=5, seed=1, clear=True
    )

    assert counts["services"] == generated(Service).count() == 10
    assert generated(SpecificationItem).count() == 20
    assert generated(ServiceDependency).count() == 5
    assert Service.objects.filter(pk=own.pk).exists()
    assert not Service.objects.filter(pk=some_generated.pk).exists()


def test_generate_portfolio_refuses_to_add_to_existing_generated_data():
    generate_portfolio(**SMALL)

    with pytest.raises(GenerationError, match="--clear"):
        generate_portfolio(**SMALL)


def test_generate_portfolio_rejects_impossible_numbers():
    with pytest.raises(GenerationError, match="at most 6 dependencies"):
        generate_portfolio(services=3, items_per_service=1, dependencies=7, seed=1)
    with pytest.raises(GenerationError, match="services cannot be negative"):
        generate_portfolio(services=-1, items_per_service=1, dependencies=0, seed=1)
    with pytest.raises(GenerationError, match="Unknown generator option: widgets"):
        generate_portfolio(services=3, items_per_service=1, dependencies=1, seed=1, widgets=4)
    assert not generated(Service).exists()


def test_generate_portfolio_small_numbers_fill_up_dependencies():
    counts = generate_portfolio(services=4, items_per_service=0, dependencies=12, seed=2)

    assert counts["service dependencies"] == 12  # every possible pair of 4 services
    assert not generated(ServiceDependency).filter(consumer=F("provider")).exists()


def test_generate_portfolio_history_writes_change_records_and_clear_removes_them():
    generate_portfolio(services=5, items_per_service=2, dependencies=4, seed=1, history=True)

    records = ObjectChange.objects.filter(source=GENERATED, action="create")
    assert records.count() == 5 + 10 + 4

    generate_portfolio(services=5, items_per_service=2, dependencies=4, seed=1, clear=True)

    assert not ObjectChange.objects.filter(source=GENERATED).exists()


def test_generate_portfolio_runs_registered_generators_with_their_options(monkeypatch):
    calls = []

    def extra(run):
        calls.append((run.options["widgets"], len(run.shared["service_ids"])))
        return {"widgets": run.options["widgets"]}

    registered = generate.Generator(
        "widgets", extra, lambda: {}, (Option("widgets", int, 0, "widgets"),), order=50
    )
    monkeypatch.setitem(generate._registry, "widgets", registered)

    counts = generate_portfolio(services=6, items_per_service=1, dependencies=3, seed=1, widgets=4)

    assert calls == [(4, 6)]
    assert counts["widgets"] == 4


def test_generate_portfolio_command(service_owner):
    out = StringIO()
    call_command(
        "generate_portfolio", "--services", "12", "--items-per-service", "4",
        "--dependencies", "20", "--seed", "5", stdout=out,
    )  # fmt: skip
    assert "Generated 12 services, 48 specification items, 20 service dependencies" in (
        out.getvalue()
    )

    with pytest.raises(CommandError, match="--clear"):
        call_command("generate_portfolio", "--services", "3", stdout=StringIO())

    out = StringIO()
    call_command("generate_portfolio", "--services", "3", "--clear", stdout=out)
    assert "Cleared: " in out.getvalue()
    assert generated(Service).count() == 3
