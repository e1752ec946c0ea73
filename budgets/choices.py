from django.db import models


class BudgetStatus(models.TextChoices):
    """A draft is built and edited; an approved version is locked for the year."""

    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


class BudgetOrigin(models.TextChoices):
    """Where a budget line comes from: the build writes contract and run-rate lines again on
    every build; planned and manual lines are people's and survive a rebuild."""

    CONTRACT = "contract", "Contract"
    RUN_RATE = "run_rate", "Run rate"
    PLANNED = "planned", "Planned"
    MANUAL = "manual", "Manual"


BUILT_ORIGINS = (BudgetOrigin.CONTRACT.value, BudgetOrigin.RUN_RATE.value)


class ScenarioChangeKind(models.TextChoices):
    """What a scenario changes against its base version: a contract's value (its budgeted
    lines scaled), the weight of a dependency, a new dependency, a retired service or a
    retired dependency (the last four change the graph the budget rolls up through)."""

    CONTRACT_VALUE = "contract_value", "Contract value"
    EDGE_WEIGHT = "edge_weight", "Dependency weight"
    NEW_DEPENDENCY = "new_dependency", "New dependency"
    RETIRED_SERVICE = "retired_service", "Retired service"
    RETIRED_DEPENDENCY = "retired_dependency", "Retired dependency"


GRAPH_CHANGES = (
    ScenarioChangeKind.EDGE_WEIGHT.value,
    ScenarioChangeKind.NEW_DEPENDENCY.value,
    ScenarioChangeKind.RETIRED_SERVICE.value,
    ScenarioChangeKind.RETIRED_DEPENDENCY.value,
)

# What each kind of change names, and whether it takes a value (ScenarioChange.clean; the
# change form shows only these fields for the kind chosen).
CHANGE_NEEDS: dict[str, tuple[tuple[str, ...], bool]] = {
    ScenarioChangeKind.CONTRACT_VALUE.value: (("contract",), True),
    ScenarioChangeKind.EDGE_WEIGHT.value: (("dependency",), True),
    ScenarioChangeKind.NEW_DEPENDENCY.value: (("service", "provider"), True),
    ScenarioChangeKind.RETIRED_SERVICE.value: (("service",), False),
    ScenarioChangeKind.RETIRED_DEPENDENCY.value: (("dependency",), False),
}
