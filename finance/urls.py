from django.urls import path

from core.generic import object_paths
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
    *object_paths(
        "costs/items/",
        "costitem",
        key="<int:pk>",
        list=views.CostItemListView,
        edit=views.CostItemEditView,
        delete=views.CostItemDeleteView,
    ),
    *object_paths(
        "costs/pools/",
        "pool",
        list=views.CostPoolListView,
        edit=views.CostPoolEditView,
        detail=views.CostPoolDetailView,
        delete=views.CostPoolDeleteView,
    ),
    path(
        "costs/pools/<slug:slug>/allocations/new/",
        views.AllocationAddView.as_view(),
        name="allocation_add",
    ),
    path(
        "costs/allocations/<int:pk>/edit/",
        views.AllocationEditView.as_view(),
        name="allocation_edit",
    ),
    path(
        "costs/allocations/<int:pk>/remove/",
        views.AllocationRemoveView.as_view(),
        name="allocation_remove",
    ),
    *object_paths(
        "costs/rates/",
        "rate",
        key="<int:pk>",
        list=views.ExchangeRateListView,
        edit=views.ExchangeRateEditView,
        delete=views.ExchangeRateDeleteView,
    ),
    path("costs/periods/", views.PeriodListView.as_view(), name="period_list"),
    path("costs/periods/new/", views.PeriodAddView.as_view(), name="period_add"),
    path(PERIOD, views.PeriodDetailView.as_view(), name="period_detail"),
    path(f"{PERIOD}close/", views.PeriodCloseView.as_view(), name="period_close"),
    path(f"{PERIOD}restate/", views.PeriodRestateView.as_view(), name="period_restate"),
    path(f"{PERIOD}recompute/", views.PeriodRecomputeView.as_view(), name="period_recompute"),
    path("costs/runs/", views.TcoRunListView.as_view(), name="run_list"),
    *object_paths(
        "reports/",
        "report",
        key="<int:pk>",
        list=views.ReportListView,
        edit=views.ReportEditView,
        detail=views.ReportDetailView,
        delete=views.ReportDeleteView,
    ),
    path("reports/<int:pk>/run/", views.ReportRunView.as_view(), name="report_run"),
    path("reports/files/<int:pk>/", views.ReportDownloadView.as_view(), name="report_download"),
]
