"""The maturity app's named provider units become organisation units: the data migration
makes one unit per named provider party (keeping its sync key and its retirement) and points
the party, with its assessments, at it. Undone and done again inside the test's transaction,
as tests/core/test_roles_migration.py does with the roles."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("maturity", "0002_daily_balance_snapshot"), ("people", "0001_initial")]
AFTER = [("maturity", "0003_provider_units_are_organisation_units")]


def historical(targets):
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db
def test_provider_units_become_organisation_units_with_their_assessments():
    call_command("migrate", "maturity", BEFORE[0][1], verbosity=0)
    apps = historical(BEFORE)
    Party = apps.get_model("maturity", "Party")
    Assessment = apps.get_model("maturity", "Assessment")
    OrganisationUnit = apps.get_model("people", "OrganisationUnit")
    OrganisationUnit.objects.create(name="Existing", slug="claims-it")  # its slug is taken
    organisation = Party.objects.create(kind="provider")
    claims = Party.objects.create(
        kind="provider", unit_name="Claims IT", source="cmdb", external_id="unit-7"
    )
    retired = Party.objects.create(
        kind="provider",
        unit_name="Old Mainframe",
        retired_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
    )
    for party, level in ((organisation, 2), (claims, 3), (claims, 4), (retired, 1)):
        Assessment.objects.create(
            party=party,
            assessed_on=datetime.date(2025, level, 1),
            answers={},
            computed_level=level,
            level=level,
        )

    with connection.cursor() as cursor:  # check the new rows now: the ALTER needs no pending
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("migrate", "maturity", AFTER[0][1], verbosity=0)

    apps = historical(AFTER)
    Party = apps.get_model("maturity", "Party")
    OrganisationUnit = apps.get_model("people", "OrganisationUnit")
    claims = Party.objects.get(pk=claims.pk)
    unit = OrganisationUnit.objects.get(pk=claims.unit_id)
    assert (unit.name, unit.slug, unit.source, unit.external_id) == (
        "Claims IT",
        "claims-it-2",
        "cmdb",
        "unit-7",
    )
    assert sorted(claims.assessments.values_list("level", flat=True)) == [3, 4]
    old = Party.objects.get(pk=retired.pk)
    assert OrganisationUnit.objects.get(pk=old.unit_id).retired_at == old.retired_at
    assert list(old.assessments.values_list("level", flat=True)) == [1]
    assert Party.objects.get(pk=organisation.pk).unit_id is None
    assert OrganisationUnit.objects.count() == 3
