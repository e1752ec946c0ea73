"""Queue routing (settings CELERY_ROLLUP_QUEUE and CELERY_REPORT_QUEUE): roll-ups and reports
each go to their queue, and a worker started without -Q still serves every queue. Settings
are read once per process, so each case loads them in a process of its own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLLUP_TASKS = [
    "finance.tasks.recompute_dirty_periods",
    "finance.tasks.recompute_open_periods",
    "finance.tasks.recompute_period",
    "finance.tasks.sweep",
]
REPORT_TASKS = ["finance.tasks.run_report"]
OTHER_TASKS = ["maturity.tasks.record_balance_snapshot"]
PROBE = """
import json
import django
django.setup()
from portico.celery import app
app.loader.import_default_modules()
router = app.amqp.router
print(json.dumps({
    "routes": {
        name: router.route({}, name)["queue"].name
        for name in app.tasks if not name.startswith("celery.")
    },
    "queues": {
        name: [queue.exchange.name, queue.routing_key]
        for name, queue in app.amqp.queues.items()
    },
}))
"""


def celery_routing(**environment: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portico.settings", **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_by_default_every_task_goes_to_the_default_queue():
    routing = celery_routing(CELERY_ROLLUP_QUEUE="", CELERY_REPORT_QUEUE="")
    assert set(routing["routes"]) >= {*ROLLUP_TASKS, *REPORT_TASKS, *OTHER_TASKS}
    assert set(routing["routes"].values()) == {"celery"}
    assert routing["queues"] == {"celery": ["celery", "celery"]}


def test_rollups_and_reports_go_to_their_own_queues():
    routing = celery_routing(CELERY_ROLLUP_QUEUE="rollups", CELERY_REPORT_QUEUE="reports")
    assert {routing["routes"][name] for name in ROLLUP_TASKS} == {"rollups"}
    assert {routing["routes"][name] for name in REPORT_TASKS} == {"reports"}
    assert {routing["routes"][name] for name in OTHER_TASKS} == {"celery"}
    # A worker without -Q consumes every declared queue; each queue has an exchange and a
    # routing key of its own, so a task sent to one queue reaches no other.
    assert routing["queues"] == {
        "celery": ["celery", "celery"],
        "rollups": ["rollups", "rollups"],
        "reports": ["reports", "reports"],
    }


def test_every_finance_task_is_routed_on_purpose():
    routing = celery_routing(CELERY_ROLLUP_QUEUE="rollups", CELERY_REPORT_QUEUE="reports")
    finance = {name for name in routing["routes"] if name.startswith("finance.")}
    assert finance == {*ROLLUP_TASKS, *REPORT_TASKS}


@pytest.mark.parametrize("variable", ["CELERY_ROLLUP_QUEUE", "CELERY_REPORT_QUEUE"])
@pytest.mark.parametrize("value", ["rollups,reports", "roll ups", "-Q"])
def test_a_bad_queue_name_is_refused_by_name(variable, value):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portico.settings", variable: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be a queue name" in result.stderr
