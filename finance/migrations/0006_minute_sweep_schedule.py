"""The minute's sweep (finance.tasks.sweep), as a django-celery-beat entry beside the nightly
roll-up: it reaps roll-ups whose worker died and recomputes periods left dirty (a lost task,
a broker that was down). A sweep not started within its minute expires: the next one does
the same work. Created once; an edited schedule is left as it is."""

from django.db import migrations

SWEEP_TASK_NAME = "finance: sweep of interrupted runs and dirty periods"
SWEEP_TASK = "finance.tasks.sweep"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=SWEEP_TASK_NAME).exists():
        return
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.create(
        name=SWEEP_TASK_NAME,
        task=SWEEP_TASK,
        interval=every_minute,
        expire_seconds=60,
        description=(
            "Marks roll-ups whose worker died as failed and recomputes the periods still "
            "waiting for a recomputation."
        ),
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=SWEEP_TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0005_period_change_serial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
