"""The nightly full TCO roll-up, as a django-celery-beat entry: beat runs with the
DatabaseScheduler (settings.CELERY_BEAT_SCHEDULER), so Finance can change the time in the
admin without a deployment. Created once; an edited schedule is left as it is."""

import zoneinfo

from django.conf import settings
from django.db import migrations

NIGHTLY_TASK_NAME = "finance: nightly TCO roll-up of open periods"
NIGHTLY_TASK = "finance.tasks.recompute_open_periods"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=NIGHTLY_TASK_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE),
    )
    PeriodicTask.objects.create(
        name=NIGHTLY_TASK_NAME,
        task=NIGHTLY_TASK,
        crontab=crontab,
        description="Recomputes the total cost of ownership of every open period.",
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NIGHTLY_TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
