"""Scenarios: a named copy of a budget version with changes, computed in memory.

A scenario's changes (ScenarioChange) are applied to the engine's inputs of every month of
its base version (budgets.services.compute_budget's ``adjust``): the base's lines as they are,
the graph of each month as the budget rolls up through it, then the changes. Nothing is
written. The difference per service and bucket is the scenario's TCO over the year minus the
base's, both computed now, so that it is the scenario's changes alone (docs/whatif.md).

Turning a scenario into a new draft copies the base's lines (budgets.services.new_draft) and
writes the line changes (a contract's value: the lines on the contract scaled); the graph
changes (a dependency's weight, a new dependency, a retired service or dependency) belong to
the portfolio, not to a budget, and are not written: the draft lists them to be made there.
"""

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from django.db import transaction

from budgets import services as budget_services
from budgets.choices import GRAPH_CHANGES
from budgets.choices import ScenarioChangeKind
from budgets.models import BudgetLine
from budgets.models import BudgetVersion
from budgets.models import Scenario
from budgets.models import ScenarioChange
from core import rules
from core.money import CENT
from core.money import from_cents
from core.rules import Change
from finance import tco
from finance.services.whatif import BUCKETS
from finance.services.whatif import ServiceDelta
from portfolio.models import Contract
from portfolio.models import Service
from portfolio.models import ServiceDependency


def scenario_facts(changes: Sequence[Change]) -> dict[tuple[int, str], int]:
    """The stored scenarios named as the changes' are, on the same bases: (base, name) -> id."""
    bases = {c.row["base_id"] for c in changes if c.row["base_id"] is not None}
    return {
        (base, name): pk
        for pk, base, name in Scenario.objects.filter(base_id__in=bases).values_list(
            "pk", "base_id", "name"
        )
    }


@rules.rule(Scenario, facts=scenario_facts)
def scenario_rule(change: Change, facts: dict[tuple[int, str], int]) -> None:
    """A scenario's name is unique on its base (said on the name, not the pair)."""
    owner = facts.get((change.row["base_id"], change.row["name"]))
    if owner is not None and owner != change.row.get("id"):
        change.error("name", "This budget version already has a scenario of this name.")


def save_scenario(*, scenario: Scenario, user=None) -> Scenario:
    """Make or rename a scenario: whatever the status of its base, which it never writes."""
    if scenario.pk is None and user is not None and user.is_authenticated:
        scenario.created_by = user
    return rules.save_checked(scenario, user=user, validate_unique=True)


def remove_scenario(*, scenario: Scenario) -> None:
    """Delete a scenario and its changes; its base and any draft made from it stay."""
    scenario.delete()


def save_scenario_change(*, change: ScenarioChange, user=None) -> ScenarioChange:
    """Add or change one change of a scenario: it names what its kind needs (clean)."""
    return rules.save_checked(change, user=user)


def remove_scenario_change(*, change: ScenarioChange) -> None:
    change.delete()


def adjustment(changes: list[ScenarioChange]) -> Callable[[tco.Inputs], None]:
    """What the changes do to one month's engine inputs, in place, read in a fixed number of
    queries: a contract's budgeted cost scaled by its new value over its current one; a
    dependency's weight replaced; a dependency added; a service marked retired (it receives
    nothing, and still passes on what it has); a dependency removed."""
    contracts = dict(
        Contract.objects.filter(
            pk__in=[c.contract_id for c in changes if c.contract_id is not None]
        ).values_list("pk", "annual_value")
    )
    edges = {
        pk: ((tco.SERVICE, provider), (tco.SERVICE, consumer))
        for pk, provider, consumer in ServiceDependency.objects.filter(
            pk__in=[c.dependency_id for c in changes if c.dependency_id is not None]
        ).values_list("pk", "provider_id", "consumer_id")
    }

    def adjust(inputs: tco.Inputs) -> None:
        for change in changes:
            kind = change.kind
            value = change.value if change.value is not None else Decimal(0)
            service = (tco.SERVICE, change.service_id or 0)
            if kind == ScenarioChangeKind.CONTRACT_VALUE:
                node = (tco.CONTRACT, change.contract_id or 0)
                current = contracts.get(change.contract_id or 0)
                vector = inputs.costs.get(node)
                if vector is not None and current:
                    inputs.costs[node] = tco.scaled(vector, value / current)
            elif kind == ScenarioChangeKind.EDGE_WEIGHT and change.dependency_id in edges:
                pair = edges[change.dependency_id or 0]
                inputs.edges = [
                    edge._replace(weight=value) if (edge.source, edge.target) == pair else edge
                    for edge in inputs.edges
                ]
            elif kind == ScenarioChangeKind.NEW_DEPENDENCY:
                provider = (tco.SERVICE, change.provider_id or 0)
                inputs.edges.append(tco.Edge(provider, service, value))
            elif kind == ScenarioChangeKind.RETIRED_SERVICE:
                inputs.nodes[service] = True
            elif kind == ScenarioChangeKind.RETIRED_DEPENDENCY and change.dependency_id in edges:
                pair = edges[change.dependency_id or 0]
                inputs.edges = [e for e in inputs.edges if (e.source, e.target) != pair]

    return adjust


def _year_figures(months: list[budget_services.MonthRollUp]) -> dict[int, dict[str, Decimal]]:
    """Each service's buckets (TCO and its five categories) summed over the months."""
    category_of = [category for category, _ in tco.CELLS]
    cents: dict[int, dict[str, int]] = {}
    for month in months:
        for (kind, pk), figures in month.rounded.services.items():
            if kind != tco.SERVICE:
                continue
            mine = cents.setdefault(pk, dict.fromkeys(BUCKETS, 0))
            for index, value in enumerate(figures["tco"]):
                if value:
                    mine["tco"] += value
                    mine[f"tco_{category_of[index]}"] += value
    return {
        pk: {bucket: from_cents(value) for bucket, value in buckets.items()}
        for pk, buckets in cents.items()
    }


@dataclass
class ScenarioEffect:
    """The budgeted TCO of the year per service, base against scenario, for the services
    whose figures change (largest change first)."""

    scenario: Scenario
    services: list[ServiceDelta] = field(default_factory=list)


def scenario_effect(scenario: Scenario) -> ScenarioEffect:
    """The difference the scenario's changes make to the base version's budgeted TCO, per
    service and bucket, over the fiscal year: the engine run on the base's lines twice, as
    they are and with the changes. Nothing is written."""
    changes = list(scenario.changes.all())
    before = _year_figures(budget_services.compute_budget(scenario.base))
    after = _year_figures(budget_services.compute_budget(scenario.base, adjustment(changes)))
    zero = dict.fromkeys(BUCKETS, Decimal(0))
    changed = sorted(
        pk for pk in before.keys() | after.keys() if before.get(pk, zero) != after.get(pk, zero)
    )
    names = {
        pk: (name, slug)
        for pk, name, slug in Service.objects.filter(pk__in=changed).values_list(
            "pk", "name", "slug"
        )
    }
    rows = [
        ServiceDelta(pk, names[pk][0], names[pk][1], before.get(pk, zero), after.get(pk, zero))
        for pk in changed
        if pk in names
    ]
    rows.sort(key=lambda row: (-abs(row.delta["tco"]), row.name, row.service_id))
    return ScenarioEffect(scenario=scenario, services=rows)


def graph_changes(scenario: Scenario) -> list[ScenarioChange]:
    """The changes a draft made from the scenario does not carry: they change the portfolio's
    graph, which every budget rolls up through."""
    return [change for change in scenario.changes.all() if change.kind in GRAPH_CHANGES]


def scenario_to_draft(scenario: Scenario, *, user, name: str) -> BudgetVersion:
    """A new draft of the base's fiscal year with the base's lines and the scenario's line
    changes: every line on a contract whose value the scenario changes is scaled by the new
    value over the contract's current one (to the cent, half to even), then the draft is
    rolled up. Graph changes are not written (graph_changes): make them in the portfolio."""
    with transaction.atomic():
        draft = budget_services.new_draft(scenario.base, user=user, name=name)
        values = {
            change.contract_id: Decimal(change.value)
            for change in scenario.changes.all()
            if change.kind == ScenarioChangeKind.CONTRACT_VALUE
        }
        current = dict(Contract.objects.filter(pk__in=values).values_list("pk", "annual_value"))
        scaled = []
        for line in BudgetLine.objects.filter(version=draft, contract_id__in=values):
            if current.get(line.contract_id):
                factor = values[line.contract_id] / current[line.contract_id]
                line.amount = (line.amount * factor).quantize(CENT)
                scaled.append(line)
        BudgetLine.objects.bulk_update(scaled, ["amount"])
    budget_services.roll_up(draft)
    return draft
