"""Stage.services and Stage.applications get explicit through models (StageService,
StageApplication), so a CMDB can sync which services underpin which stage.

Django cannot add ``through=`` to an existing many-to-many field, so the through models first
take over the tables the fields already use, in the migration state only (the rows stay);
then the tables get the columns of a synced record and the constraints of the models.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import valuestreams.validators


def link_model(name: str, table: str, target: str, target_model: str) -> migrations.CreateModel:
    """The through model as the many-to-many field made its table: an id and the pair."""
    return migrations.CreateModel(
        name=name,
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            (
                "stage",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name=f"{target}_links",
                    to="valuestreams.stage",
                ),
            ),
            (
                target,
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="stage_links",
                    to=target_model,
                ),
            ),
        ],
        options={"db_table": table, "unique_together": {("stage", target)}},
    )


def synced_columns(model_name: str) -> list:
    """The columns of a SyncedModel; existing links are stamped with the migration's time."""
    return [
        migrations.AddField(
            model_name=model_name,
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name=model_name,
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, db_index=True, default=django.utils.timezone.now
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name=model_name,
            name="source",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.AddField(
            model_name=model_name,
            name="external_id",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0001_initial"),
        ("valuestreams", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                link_model(
                    "StageService", "valuestreams_stage_services", "service", "portfolio.service"
                ),
                link_model(
                    "StageApplication",
                    "valuestreams_stage_applications",
                    "application",
                    "portfolio.application",
                ),
                migrations.AlterField(
                    model_name="stage",
                    name="services",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="stages",
                        through="valuestreams.StageService",
                        to="portfolio.service",
                    ),
                ),
                migrations.AlterField(
                    model_name="stage",
                    name="applications",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="stages",
                        through="valuestreams.StageApplication",
                        to="portfolio.application",
                    ),
                ),
            ],
            database_operations=[],
        ),
        *synced_columns("stageservice"),
        *synced_columns("stageapplication"),
        # The unique pair under the models' own constraint names.
        migrations.AlterUniqueTogether(name="stageservice", unique_together=set()),
        migrations.AlterUniqueTogether(name="stageapplication", unique_together=set()),
        migrations.AlterModelOptions(
            name="stageservice",
            options={"verbose_name": "stage service"},
        ),
        migrations.AlterModelOptions(
            name="stageapplication",
            options={"verbose_name": "stage application"},
        ),
        migrations.AddConstraint(
            model_name="stageservice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("source", "external_id"),
                name="stageservice_unique_external_id",
            ),
        ),
        migrations.AddConstraint(
            model_name="stageservice",
            constraint=models.UniqueConstraint(
                fields=("stage", "service"),
                name="stageservice_unique_pair",
                violation_error_message="This service already underpins this stage.",
            ),
        ),
        migrations.AddConstraint(
            model_name="stageapplication",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("source", "external_id"),
                name="stageapplication_unique_external_id",
            ),
        ),
        migrations.AddConstraint(
            model_name="stageapplication",
            constraint=models.UniqueConstraint(
                fields=("stage", "application"),
                name="stageapplication_unique_pair",
                violation_error_message="This application already supports this stage.",
            ),
        ),
        migrations.AlterField(
            model_name="process",
            name="activities",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="What happens in the process, in order.",
                validators=[valuestreams.validators.validate_activities],
            ),
        ),
    ]
