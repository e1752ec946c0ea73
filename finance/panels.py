"""The TCO panel on each service page (registered in FinanceConfig.ready)."""

from finance import selectors


def service_tco_context(request, service) -> dict:
    return selectors.service_panel(request=request, service=service)
