"""The portfolio's pages, by topic. Importing the package imports every topic, so each model's
pages are registered (core.generic.register_model_view) for portfolio.urls to route."""

from portfolio.views import applications, customers, services, suppliers

__all__ = ["applications", "customers", "services", "suppliers"]
