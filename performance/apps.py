from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = "Performance"

    def ready(self):
        # Registers the write rules (core.rules), the rights and the sync listeners.
        from performance import services  # noqa: F401
