from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "General ledger"

    def ready(self):
        # Registers the write rules (core.rules) of the app, and names the unmapped bucket in
        # the roll-up's unallocated cost (finance.services.rollup).
        from finance.services.rollup import explain_dead_ends
        from ledger import selectors
        from ledger import services  # noqa: F401

        explain_dead_ends(selectors.unmapped_explanations)
