"""The TCO panel on each service page (registered in FinanceConfig.ready)."""


def service_tco_context(request, service) -> dict:
    from finance import selectors

    return selectors.service_panel(request=request, service=service)
