"""Writes and workflows of cost data, the TCO roll-up and the finance reports: the one place
their rules live, one module per topic. Callers use ``from finance import services`` and
``services.<function>``; the names are re-exported here."""

from finance.services import statements as _statements  # noqa: F401 (registers rights)
from finance.services.cost_data import book_cost_items
from finance.services.cost_data import change_allocation_from_month
from finance.services.cost_data import create_period
from finance.services.cost_data import open_periods
from finance.services.cost_data import period_for
from finance.services.cost_data import period_outside_window
from finance.services.cost_data import period_window
from finance.services.cost_data import remove_allocation
from finance.services.cost_data import remove_cost_item
from finance.services.cost_data import remove_pool
from finance.services.cost_data import remove_rate
from finance.services.cost_data import save_allocation
from finance.services.cost_data import save_cost_item
from finance.services.cost_data import save_pool
from finance.services.cost_data import save_rate
from finance.services.drivers import import_quantities
from finance.services.drivers import import_summary
from finance.services.drivers import remove_driver
from finance.services.drivers import remove_quantity
from finance.services.drivers import save_driver
from finance.services.drivers import save_quantity
from finance.services.drivers import sync_refusals
from finance.services.outbox import is_sent
from finance.services.outbox import queue_task
from finance.services.outbox import send_queued_tasks
from finance.services.periods import close_period
from finance.services.periods import restate_period
from finance.services.recompute import COALESCE_SECONDS
from finance.services.recompute import MAX_CHANGED_NODES
from finance.services.recompute import QUICK_COALESCE_SECONDS
from finance.services.recompute import RECOMPUTE_TASK
from finance.services.recompute import STALE_AFTER
from finance.services.recompute import PendingRecompute
from finance.services.recompute import discard_scheduled_recompute
from finance.services.recompute import enqueue_recompute
from finance.services.recompute import mark_dirty
from finance.services.recompute import recompute_changed_periods
from finance.services.recompute import request_recompute
from finance.services.recompute import sweep
from finance.services.recompute import waiting_for_commit
from finance.services.report_definitions import REPORT_TASK
from finance.services.report_definitions import clean_report_scope
from finance.services.report_definitions import delete_report_definition
from finance.services.report_definitions import queue_report_run
from finance.services.report_definitions import run_report
from finance.services.report_definitions import save_report_definition
from finance.services.report_definitions import sync_report_schedule
from finance.services.report_spans import PERIOD_KEY_FORMS
from finance.services.report_spans import ReportSpan
from finance.services.report_spans import parse_report_period
from finance.services.report_spans import report_periods
from finance.services.report_spans import resolve_report_period
from finance.services.report_spans import span_containing
from finance.services.rollup import INTERRUPTED
from finance.services.rollup import forget_snapshots
from finance.services.rollup import mark_period_dirty
from finance.services.rollup import period_lock
from finance.services.rollup import reap_interrupted_runs
from finance.services.rollup import recompute_dirty_periods
from finance.services.rollup import recompute_open_periods
from finance.services.rollup import recompute_tco

__all__ = [
    "COALESCE_SECONDS",
    "INTERRUPTED",
    "MAX_CHANGED_NODES",
    "PERIOD_KEY_FORMS",
    "QUICK_COALESCE_SECONDS",
    "RECOMPUTE_TASK",
    "REPORT_TASK",
    "STALE_AFTER",
    "PendingRecompute",
    "ReportSpan",
    "book_cost_items",
    "change_allocation_from_month",
    "clean_report_scope",
    "close_period",
    "create_period",
    "delete_report_definition",
    "discard_scheduled_recompute",
    "enqueue_recompute",
    "forget_snapshots",
    "import_quantities",
    "import_summary",
    "is_sent",
    "mark_dirty",
    "mark_period_dirty",
    "open_periods",
    "parse_report_period",
    "period_for",
    "period_lock",
    "period_outside_window",
    "period_window",
    "queue_report_run",
    "queue_task",
    "reap_interrupted_runs",
    "recompute_changed_periods",
    "recompute_dirty_periods",
    "recompute_open_periods",
    "recompute_tco",
    "remove_allocation",
    "remove_cost_item",
    "remove_driver",
    "remove_pool",
    "remove_quantity",
    "remove_rate",
    "report_periods",
    "request_recompute",
    "resolve_report_period",
    "restate_period",
    "run_report",
    "save_allocation",
    "save_cost_item",
    "save_driver",
    "save_pool",
    "save_quantity",
    "save_rate",
    "save_report_definition",
    "send_queued_tasks",
    "span_containing",
    "sweep",
    "sync_refusals",
    "sync_report_schedule",
    "waiting_for_commit",
]
