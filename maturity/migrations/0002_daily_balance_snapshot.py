"""Schedule the daily balance snapshot in django-celery-beat's database scheduler, where it can
be changed in the admin (Periodic tasks)."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "maturity: daily balance snapshot"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 04:15: after the night's cost recomputation, so the cost evidence is fresh.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="4",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "maturity.tasks.record_balance_snapshot",
            "crontab": crontab,
            "description": "Keep today's customer–process–cost balance scores (Maturity page).",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("maturity", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
