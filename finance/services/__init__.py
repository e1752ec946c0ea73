"""Writes and workflows of cost data, the TCO roll-up and the finance reports: the one place
their rules live, one module per topic. Callers use ``from finance import services`` and
``services.<function>``; the names are re-exported here."""

from finance.services.cost_data import (
    create_period,
    period_for,
    remove_cost_item,
    remove_pool,
    save_allocation,
    save_cost_item,
    save_pool,
    save_rate,
)
from finance.services.periods import close_period, restate_period
from finance.services.recompute import (
    COALESCE_SECONDS,
    RECOMPUTE_TASK,
    STALE_AFTER,
    PendingRecompute,
    discard_scheduled_recompute,
    enqueue_recompute,
    mark_dirty,
    request_recompute,
)
from finance.services.report_definitions import (
    REPORT_TASK,
    clean_report_scope,
    delete_report_definition,
    queue_report_run,
    run_report,
    save_report_definition,
    sync_report_schedule,
)
from finance.services.report_spans import (
    PERIOD_KEY_FORMS,
    ReportSpan,
    parse_report_period,
    report_periods,
    resolve_report_period,
    span_containing,
)
from finance.services.rollup import recompute_dirty_periods, recompute_open_periods, recompute_tco

__all__ = [
    "COALESCE_SECONDS",
    "PERIOD_KEY_FORMS",
    "RECOMPUTE_TASK",
    "REPORT_TASK",
    "STALE_AFTER",
    "PendingRecompute",
    "ReportSpan",
    "clean_report_scope",
    "close_period",
    "create_period",
    "delete_report_definition",
    "discard_scheduled_recompute",
    "enqueue_recompute",
    "mark_dirty",
    "parse_report_period",
    "period_for",
    "queue_report_run",
    "recompute_dirty_periods",
    "recompute_open_periods",
    "recompute_tco",
    "remove_cost_item",
    "remove_pool",
    "report_periods",
    "request_recompute",
    "resolve_report_period",
    "restate_period",
    "run_report",
    "save_allocation",
    "save_cost_item",
    "save_pool",
    "save_rate",
    "save_report_definition",
    "span_containing",
    "sync_report_schedule",
]
