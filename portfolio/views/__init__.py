"""The portfolio's pages, by topic. Importing the package imports every topic, so each model's
pages are registered (core.generic.register_model_view) for portfolio.urls to route."""

from portfolio.views import applications
from portfolio.views import customers
from portfolio.views import services
from portfolio.views import suppliers

__all__ = ["applications", "customers", "services", "suppliers"]
