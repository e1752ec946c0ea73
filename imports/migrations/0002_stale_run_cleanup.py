from django.db import migrations

TASK_NAME = "imports: fail stale runs"


def create_schedule(apps, schema_editor):
    """Every five minutes, fail the import runs whose worker died (no progress for
    PORTICO_IMPORT_STALE_MINUTES); django-celery-beat's database scheduler, changeable in the
    admin."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "imports.tasks.fail_stale_runs",
            "interval": every,
            "description": "Mark failed the imports that stopped making progress.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
