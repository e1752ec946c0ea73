"""The migration that gives stages' services and applications their through models keeps the
links made before it, in the same tables, and the schema it makes is the models' own.

The migrations run inside the test's transaction (PostgreSQL rolls back schema changes too),
so the test database is as it was afterwards without a flush."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("valuestreams", "0001_initial")]
LINKS = [("valuestreams", "0002_stage_links")]


def migrate(targets):
    """Migrate to ``targets``; the models as they are there."""
    executor = MigrationExecutor(connection)
    return executor.migrate(targets).apps


@pytest.mark.django_db
def test_links_made_before_the_through_models_are_kept():
    # Rows written here are checked at once, so no deferred check is pending when a migration
    # alters their tables (PostgreSQL refuses that).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # Back to the state before the change (no value-stream rows exist yet), with data.
    apps = migrate(BEFORE)
    user = apps.get_model("auth", "User").objects.create(username="migrating-owner")
    stream = apps.get_model("valuestreams", "ValueStream").objects.create(
        name="Settle a claim", slug="settle-a-claim-migrating", owner=user
    )
    stage = apps.get_model("valuestreams", "Stage").objects.create(
        value_stream=stream, name="Register the claim"
    )
    service = apps.get_model("portfolio", "Service").objects.create(
        name="Claims desk", slug="claims-desk-migrating"
    )
    application = apps.get_model("portfolio", "Application").objects.create(
        name="Claims system", slug="claims-system-migrating"
    )
    stage.services.add(service)
    stage.applications.add(application)

    apps = migrate(LINKS)
    StageService = apps.get_model("valuestreams", "StageService")
    link = StageService.objects.get()
    assert (link.stage_id, link.service_id, link.source, link.external_id) == (
        stage.pk,
        service.pk,
        "",
        "",
    )
    assert link.created_at is not None and link.updated_at is not None
    assert apps.get_model("valuestreams", "StageApplication").objects.get().application_id == (
        application.pk
    )
    assert StageService._meta.db_table == "valuestreams_stage_services"
    stage_model = apps.get_model("valuestreams", "Stage")
    assert list(stage_model.objects.get(pk=stage.pk).services.values_list("pk", flat=True)) == [
        service.pk
    ]
    # And back: the plain many-to-many tables keep their rows.
    apps = migrate(BEFORE)
    through = apps.get_model("valuestreams", "Stage").services.through
    assert list(through.objects.values_list("stage_id", "service_id")) == [(stage.pk, service.pk)]


@pytest.mark.django_db
def test_the_models_need_no_further_migration():
    call_command("makemigrations", "valuestreams", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_pair_constraints_are_the_models():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "valuestreams_stage_services"
        )
    unique = {
        name: c["columns"]
        for name, c in constraints.items()
        if c["unique"] and not c["primary_key"]
    }
    assert unique == {
        "stageservice_unique_pair": ["stage_id", "service_id"],
        "stageservice_unique_external_id": ["source", "external_id"],
    }
