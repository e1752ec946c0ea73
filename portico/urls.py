from django.contrib import admin
from django.urls import include
from django.urls import path

urlpatterns = [
    path("", include("core.urls")),
    path("", include("portfolio.urls")),
    path("", include("finance.urls")),
    path("", include("cloud.urls")),
    path("", include("ledger.urls")),
    path("", include("budgets.urls")),
    path("value-streams/", include("valuestreams.urls")),
    path("maturity/", include("maturity.urls")),
    path("people/", include("people.urls")),
    path("performance/", include("performance.urls")),
    path("notifications/", include("notifications.urls")),
    path("data-quality/", include("attestation.urls")),
    path("imports/", include("imports.urls")),
    path("", include("customfields.urls")),
    path("api/v1/", include("portico.api_urls")),
    path("admin/", admin.site.urls),
]
