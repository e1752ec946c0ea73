from django.contrib.staticfiles.apps import StaticFilesConfig


class PorticoStaticFilesConfig(StaticFilesConfig):
    # Source maps of vendored bundles (the API docs' Swagger UI) are megabytes nobody loads.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "*.map"]
