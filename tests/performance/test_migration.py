"""The migration to figures: each item's single actual becomes its first figure, judged by
the item's target; each item's target starts its history; an outcome's typed attainment
becomes a status set by hand with its reason, its agreement kept. Run backwards to before
the migration and forward again, in the test's transaction."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from performance.models import Measurement
from performance.models import TargetChange
from portfolio.models import Outcome
from portfolio.models import SpecificationItem

BEFORE = ("portfolio", "0003_effective_dated_edges")


@pytest.mark.django_db
def test_migration_moves_actuals_into_figures_and_typed_status_into_overrides():
    call_command("migrate", "portfolio", BEFORE[1], verbosity=0)
    call_command("migrate", "performance", "zero", verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    service = old.get_model("portfolio", "Service").objects.create(
        name="Claims", slug="claims", kind="customer_facing", lifecycle="pipeline"
    )
    Item = old.get_model("portfolio", "SpecificationItem")
    measure = {"metric": "availability", "comparator": "at_least", "unit": "%", "window": "month"}
    met = Item.objects.create(
        service=service, aspect="facility", dimension="functioning", title="Up",
        target=Decimal("99.5"), actual_value=Decimal("99.7"), actual_on=datetime.date(2026, 10, 31),
        **measure,
    )  # fmt: skip
    missed = Item.objects.create(
        service=service, aspect="support", dimension="functioning", title="Answered",
        target=Decimal("90"), actual_value=Decimal("85"), actual_on=datetime.date(2026, 10, 31),
        **measure,
    )  # fmt: skip
    unmeasured = Item.objects.create(
        service=service, aspect="facility", dimension="functioning", title="Fast",
        target=Decimal("2"), **{**measure, "comparator": "at_most"},
    )  # fmt: skip
    customer = old.get_model("portfolio", "Customer").objects.create(
        name="Retail", slug="retail", kind="external"
    )
    subscription = old.get_model("portfolio", "Subscription").objects.create(
        customer=customer, service=service, units=1, unit_name="user",
        price_per_unit=Decimal(1), currency="EUR", start_date=datetime.date(2025, 1, 1),
    )  # fmt: skip
    OldOutcome = old.get_model("portfolio", "Outcome")
    achieved = OldOutcome.objects.create(
        subscription=subscription, statement="A", status="achieved"
    )
    proposed = OldOutcome.objects.create(
        subscription=subscription, statement="B", status="proposed"
    )

    # All in the test's transaction: checked now, so no check waits on a table altered next
    # (migrate runs each migration in a transaction of its own).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("migrate", verbosity=0)

    figures = {m.item_id: (m.start, m.end, m.value, m.met) for m in Measurement.objects.all()}
    assert figures == {
        met.pk: (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31), Decimal("99.7"), True),
        missed.pk: (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31), Decimal("85"), False),
    }
    assert TargetChange.objects.filter(item_id=unmeasured.pk).get().target == Decimal(2)
    assert TargetChange.objects.filter(item_id=met.pk).get().valid_from == datetime.date(
        2026, 10, 31
    )
    standing = SpecificationItem.objects.get(pk=missed.pk)
    assert (standing.measured_until, standing.measured_met) == (datetime.date(2026, 10, 31), False)
    assert standing.measurement_due == datetime.date(2026, 12, 1)
    achieved, proposed = Outcome.objects.get(pk=achieved.pk), Outcome.objects.get(pk=proposed.pk)
    assert (achieved.agreement, achieved.status_override) == ("agreed", "met")
    assert achieved.override_reason == "Typed by hand before the status followed figures."
    assert (proposed.agreement, proposed.status_override) == ("proposed", "")
