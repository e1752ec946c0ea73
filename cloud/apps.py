from django.apps import AppConfig


class CloudConfig(AppConfig):
    name = "cloud"
    verbose_name = "Cloud bills"

    def ready(self):
        # Registers the write rules (core.rules) of the app, and names the untagged bucket of
        # each account in the roll-up's unallocated cost (finance.services.rollup).
        from cloud import selectors
        from cloud import services  # noqa: F401
        from finance.services.rollup import explain_dead_ends

        explain_dead_ends(selectors.untagged_explanations)
