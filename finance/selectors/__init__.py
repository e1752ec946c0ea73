"""Reusable reads of cost data and of the stored TCO results, one module per topic: the
roll-up's inputs (inputs), the stored results (results), lineage (tracing) and the figures
of the finance reports (report_data). Callers use ``from finance import selectors`` and
``selectors.<function>``; the names are re-exported here."""

from finance.selectors.inputs import EDGE_MODELS
from finance.selectors.inputs import RELEVANT_FIELDS
from finance.selectors.inputs import LoadedInputs
from finance.selectors.inputs import MonthlyRates
from finance.selectors.inputs import contracts_in_force
from finance.selectors.inputs import edges_in_force
from finance.selectors.inputs import load_costs
from finance.selectors.inputs import load_inputs
from finance.selectors.inputs import mid_month_start
from finance.selectors.inputs import monthly_rates
from finance.selectors.inputs import monthly_share_cents
from finance.selectors.inputs import node_for
from finance.selectors.inputs import node_labels
from finance.selectors.report_data import REPORT_MONEY
from finance.selectors.report_data import RESULT_SPLITS
from finance.selectors.report_data import closed_months_with_results
from finance.selectors.report_data import last_report_runs
from finance.selectors.report_data import reconciliation_by_category
from finance.selectors.report_data import report_already_emailed
from finance.selectors.report_data import report_mismatches
from finance.selectors.report_data import report_run_pending
from finance.selectors.report_data import report_runs_with_files
from finance.selectors.report_data import report_services
from finance.selectors.report_data import report_totals
from finance.selectors.report_data import report_unallocated
from finance.selectors.report_data import scoped_results
from finance.selectors.results import MONEY
from finance.selectors.results import applications_with_cost
from finance.selectors.results import cost_completeness
from finance.selectors.results import default_period
from finance.selectors.results import largest_movers
from finance.selectors.results import monthly_totals
from finance.selectors.results import negative_cost_reason
from finance.selectors.results import period_totals
from finance.selectors.results import period_versions
from finance.selectors.results import periods_with_results
from finance.selectors.results import previous_period
from finance.selectors.results import recent_periods
from finance.selectors.results import recomputation_state
from finance.selectors.results import results_for
from finance.selectors.results import sankey
from finance.selectors.results import service_panel
from finance.selectors.results import services_with_tco
from finance.selectors.results import supports_in_use
from finance.selectors.results import tco_by_month
from finance.selectors.results import tco_categories
from finance.selectors.results import unallocated_for
from finance.selectors.results import version_differences
from finance.selectors.statements import by_customer
from finance.selectors.statements import by_unit
from finance.selectors.statements import by_value_stream
from finance.selectors.statements import current_statements
from finance.selectors.statements import customer_differences
from finance.selectors.statements import customer_statement_panel
from finance.selectors.statements import lineage_url
from finance.selectors.statements import prepare_lines
from finance.selectors.statements import statement_change
from finance.selectors.statements import statements_in
from finance.selectors.statements import totals_of
from finance.selectors.statements import with_lines
from finance.selectors.tracing import LineageEdge
from finance.selectors.tracing import LineageLine
from finance.selectors.tracing import driven_share_json
from finance.selectors.tracing import lineage

__all__ = [
    "EDGE_MODELS",
    "MONEY",
    "RELEVANT_FIELDS",
    "REPORT_MONEY",
    "RESULT_SPLITS",
    "LineageEdge",
    "LineageLine",
    "LoadedInputs",
    "MonthlyRates",
    "applications_with_cost",
    "by_customer",
    "by_unit",
    "by_value_stream",
    "closed_months_with_results",
    "contracts_in_force",
    "cost_completeness",
    "current_statements",
    "customer_differences",
    "customer_statement_panel",
    "default_period",
    "driven_share_json",
    "edges_in_force",
    "largest_movers",
    "last_report_runs",
    "lineage",
    "lineage_url",
    "load_costs",
    "load_inputs",
    "mid_month_start",
    "monthly_rates",
    "monthly_share_cents",
    "monthly_totals",
    "negative_cost_reason",
    "node_for",
    "node_labels",
    "period_totals",
    "period_versions",
    "periods_with_results",
    "prepare_lines",
    "previous_period",
    "recent_periods",
    "recomputation_state",
    "reconciliation_by_category",
    "report_already_emailed",
    "report_mismatches",
    "report_run_pending",
    "report_runs_with_files",
    "report_services",
    "report_totals",
    "report_unallocated",
    "results_for",
    "sankey",
    "scoped_results",
    "service_panel",
    "services_with_tco",
    "statement_change",
    "statements_in",
    "supports_in_use",
    "tco_by_month",
    "tco_categories",
    "totals_of",
    "unallocated_for",
    "version_differences",
    "with_lines",
]
