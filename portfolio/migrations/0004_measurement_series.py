import datetime

from django.db import migrations, models

WINDOW_DAYS = {"hour": 1, "day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}

# The hand-typed attainment becomes a status set by hand, with the reason it was kept.
ATTAINMENT_TO_OVERRIDE = {"achieved": "met", "at_risk": "at_risk", "not_achieved": "missed"}
OVERRIDE_REASON = "Typed by hand before the status followed figures."


def attainment_to_override(apps, schema_editor):
    Outcome = apps.get_model("portfolio", "Outcome")
    for status, override in ATTAINMENT_TO_OVERRIDE.items():
        Outcome.objects.filter(status=status).update(
            status="agreed", status_override=override, override_reason=OVERRIDE_REASON
        )


def override_to_attainment(apps, schema_editor):
    Outcome = apps.get_model("portfolio", "Outcome")
    for status, override in ATTAINMENT_TO_OVERRIDE.items():
        Outcome.objects.filter(status_override=override).update(status=status)


def standing_sql(table: str, kind: str) -> str:
    cases = " ".join(f"WHEN '{w}' THEN {d}" for w, d in WINDOW_DAYS.items())
    return f"""
        UPDATE {table} AS s
        SET measured_until = latest.last_end, measured_met = latest.met,
            measurement_due = latest.last_end + (CASE s.window {cases} ELSE 31 END)
        FROM (
            SELECT DISTINCT ON ({kind}_id) {kind}_id AS id, "end" AS last_end, met
            FROM performance_measurement WHERE {kind}_id IS NOT NULL
            ORDER BY {kind}_id, "end" DESC, start DESC, id DESC
        ) AS latest
        WHERE s.id = latest.id
    """


class Migration(migrations.Migration):
    """Figures are kept as a series (performance.Measurement): the item's single actual moved
    there (performance 0001), each item and outcome keeps its latest figure's standing, and
    an outcome's status is derived from figures, its agreement kept apart."""

    dependencies = [
        ("portfolio", "0003_effective_dated_edges"),
        ("performance", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outcome",
            name="comparator",
            field=models.CharField(
                blank=True,
                choices=[("at_least", "at least"), ("at_most", "at most")],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="outcome",
            name="window",
            field=models.CharField(
                blank=True,
                choices=[
                    ("hour", "per hour"),
                    ("day", "per day"),
                    ("week", "per week"),
                    ("month", "per month"),
                    ("quarter", "per quarter"),
                    ("year", "per year"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="outcome",
            name="status_override",
            field=models.CharField(
                blank=True,
                choices=[("met", "Met"), ("missed", "Missed"), ("at_risk", "At risk")],
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="outcome",
            name="override_reason",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.RunPython(attainment_to_override, override_to_attainment),
        migrations.RenameField(model_name="outcome", old_name="status", new_name="agreement"),
        migrations.AlterField(
            model_name="outcome",
            name="agreement",
            field=models.CharField(
                choices=[("proposed", "Proposed"), ("agreed", "Agreed")],
                default="proposed",
                max_length=15,
            ),
        ),
        migrations.RemoveField(model_name="specificationitem", name="actual_on"),
        migrations.RemoveField(model_name="specificationitem", name="actual_value"),
        migrations.AddField(
            model_name="outcome",
            name="measured_met",
            field=models.BooleanField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="outcome",
            name="measured_until",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="outcome",
            name="measurement_due",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="specificationitem",
            name="measured_met",
            field=models.BooleanField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="specificationitem",
            name="measured_until",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="specificationitem",
            name="measurement_due",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="specificationitem",
            index=models.Index(
                models.Case(
                    models.When(
                        models.Q(("measured_met", False), ("measured_met__isnull", True), _connector="OR"),
                        then=models.Value(datetime.date(1, 1, 1)),
                    ),
                    default=models.F("measurement_due"),
                    output_field=models.DateField(),
                ),
                condition=models.Q(("dimension", "functioning")),
                name="item_attention_from",
            ),
        ),
        migrations.RunSQL(
            standing_sql("portfolio_specificationitem", "item"), migrations.RunSQL.noop
        ),
    ]
