"""Thin Celery wrappers around budgets.services, in the finance tasks' style: they take ids,
exit quietly when the version is gone or approved, and attribute what they change to the
task channel."""

from celery import shared_task

from budgets import services
from budgets.models import BudgetVersion
from core.choices import Channel
from core.context import change_context
from finance.tasks import ROLLUP


@shared_task(**ROLLUP)
def roll_up_budget(version_id: int) -> int | None:
    """Roll a draft budget up through the TCO engine (after its build or a change of its
    lines); the version's id, or None when there is nothing to do."""
    version = BudgetVersion.objects.filter(pk=version_id).first()
    if version is None or version.is_approved:
        return None
    with change_context(channel=Channel.TASK):
        services.roll_up(version)
    return version.pk
