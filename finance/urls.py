from django.urls import path

from core.generic import model_paths
from finance import models
from finance import views

app_name = "finance"

PERIOD = "costs/periods/<str:label>/"

urlpatterns = [
    path("costs/", views.OverviewView.as_view(), name="overview"),
    path(
        "costs/services/<slug:slug>/lineage/",
        views.ServiceLineageView.as_view(),
        name="service_lineage",
    ),
    *model_paths("costs/items/", models.CostItem),
    *model_paths("costs/pools/", models.CostPool, name="pool"),
    *model_paths(
        "costs/allocations/",
        models.PoolAllocation,
        name="allocation",
        add_route="costs/pools/<slug:slug>/allocations/new/",
    ),
    *model_paths("costs/rates/", models.ExchangeRate, name="rate"),
    *model_paths("costs/drivers/", models.Driver),
    path(
        "costs/quantities/import/",
        views.DriverQuantityImportView.as_view(),
        name="driverquantity_import",
    ),
    *model_paths("costs/quantities/", models.DriverQuantity),
    *model_paths("costs/periods/", models.Period),
    path(f"{PERIOD}close/", views.PeriodCloseView.as_view(), name="period_close"),
    path(f"{PERIOD}restate/", views.PeriodRestateView.as_view(), name="period_restate"),
    path(f"{PERIOD}recompute/", views.PeriodRecomputeView.as_view(), name="period_recompute"),
    path(f"{PERIOD}recomputing/", views.PeriodRecomputingView.as_view(), name="period_recomputing"),
    path(
        "costs/services/<slug:slug>/tco/", views.ServiceTcoPanelView.as_view(), name="service_tco"
    ),
    path("costs/runs/", views.TcoRunListView.as_view(), name="run_list"),
    *model_paths("costs/statements/", models.CustomerStatement, name="statement"),
    *model_paths("reports/", models.ReportDefinition, name="report"),
    path("reports/<int:pk>/run/", views.ReportRunView.as_view(), name="report_run"),
    path("customers/<slug:slug>/review/", views.ReviewPackView.as_view(), name="review_pack"),
    path("reports/files/<int:pk>/", views.ReportDownloadView.as_view(), name="report_download"),
]
