"""The TCO panel on each service page and the statements panel on each customer page
(registered in FinanceConfig.ready)."""

from finance import selectors


def service_tco_context(request, service) -> dict:
    return selectors.service_panel(request=request, service=service)


def customer_statement_context(request, customer) -> dict:
    return selectors.customer_statement_panel(request=request, customer=customer)
