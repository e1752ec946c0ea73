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


UNITS_ONLY = [("maturity", "0004_party_unit_replaces_unit_name")]


@pytest.mark.django_db
def test_the_unit_name_goes_and_units_named_after_the_first_migration_are_carried():
    """A named provider unit written after 0003 by the API or a sync (which set the name
    alone) is carried into an organisation unit before the name goes; going back, each party
    takes its unit's name again."""
    call_command("migrate", "maturity", AFTER[0][1], verbosity=0)
    apps = historical(AFTER)
    Party = apps.get_model("maturity", "Party")
    Assessment = apps.get_model("maturity", "Assessment")
    OrganisationUnit = apps.get_model("people", "OrganisationUnit")
    linked_unit = OrganisationUnit.objects.create(name="Claims IT", slug="claims-it")
    linked = Party.objects.create(kind="provider", unit_name="Claims IT", unit=linked_unit)
    unlinked = Party.objects.create(
        kind="provider", unit_name="Fleet IT", source="cmdb", external_id="unit-9"
    )
    Assessment.objects.create(
        party=unlinked, assessed_on=datetime.date(2025, 3, 1), answers={}, computed_level=3,
        level=3,
    )  # fmt: skip
    organisation = Party.objects.create(kind="provider")

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("migrate", "maturity", UNITS_ONLY[0][1], verbosity=0)

    apps = historical(UNITS_ONLY)
    Party = apps.get_model("maturity", "Party")
    OrganisationUnit = apps.get_model("people", "OrganisationUnit")
    assert not hasattr(Party, "unit_name")
    assert Party.objects.get(pk=linked.pk).unit_id == linked_unit.pk
    fleet = OrganisationUnit.objects.get(pk=Party.objects.get(pk=unlinked.pk).unit_id)
    assert (fleet.name, fleet.slug, fleet.source, fleet.external_id) == (
        "Fleet IT",
        "fleet-it",
        "cmdb",
        "unit-9",
    )
    assert list(Party.objects.get(pk=unlinked.pk).assessments.values_list("level", flat=True)) == [
        3
    ]
    assert Party.objects.get(pk=organisation.pk).unit_id is None
    assert (
        not Party.objects.filter(kind="provider", unit__isnull=True)
        .exclude(pk=organisation.pk)
        .exists()
    )

    call_command("migrate", "maturity", AFTER[0][1], verbosity=0)
    Party = historical(AFTER).get_model("maturity", "Party")
    names = dict(Party.objects.values_list("pk", "unit_name"))
    assert names == {linked.pk: "Claims IT", unlinked.pk: "Fleet IT", organisation.pk: ""}
