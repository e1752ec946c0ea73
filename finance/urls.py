from django.urls import path

from finance import views

app_name = "finance"

urlpatterns = [
    path("costs/", views.overview, name="overview"),
    path("costs/services/<slug:slug>/lineage/", views.service_lineage, name="service_lineage"),
    path("costs/items/", views.CostItemListView.as_view(), name="costitem_list"),
    path("costs/items/new/", views.CostItemEditView.as_view(), name="costitem_add"),
    path("costs/items/<int:pk>/edit/", views.CostItemEditView.as_view(), name="costitem_edit"),
    path(
        "costs/items/<int:pk>/remove/", views.CostItemDeleteView.as_view(), name="costitem_delete"
    ),
    path("costs/pools/", views.CostPoolListView.as_view(), name="pool_list"),
    path("costs/pools/new/", views.CostPoolEditView.as_view(), name="pool_add"),
    path("costs/pools/<slug:slug>/", views.pool_detail, name="pool_detail"),
    path("costs/pools/<slug:slug>/edit/", views.CostPoolEditView.as_view(), name="pool_edit"),
    path("costs/pools/<slug:slug>/remove/", views.CostPoolDeleteView.as_view(), name="pool_delete"),
    path("costs/pools/<slug:slug>/allocations/new/", views.allocation_add, name="allocation_add"),
    path("costs/allocations/<int:pk>/edit/", views.allocation_edit, name="allocation_edit"),
    path("costs/allocations/<int:pk>/remove/", views.allocation_remove, name="allocation_remove"),
    path("costs/rates/", views.ExchangeRateListView.as_view(), name="rate_list"),
    path("costs/rates/new/", views.ExchangeRateEditView.as_view(), name="rate_add"),
    path("costs/rates/<int:pk>/edit/", views.ExchangeRateEditView.as_view(), name="rate_edit"),
    path(
        "costs/rates/<int:pk>/remove/", views.ExchangeRateDeleteView.as_view(), name="rate_delete"
    ),
    path("costs/periods/", views.PeriodListView.as_view(), name="period_list"),
    path("costs/periods/new/", views.period_add, name="period_add"),
    path("costs/periods/<str:label>/", views.period_detail, name="period_detail"),
    path("costs/periods/<str:label>/close/", views.period_close, name="period_close"),
    path("costs/periods/<str:label>/restate/", views.period_restate, name="period_restate"),
    path("costs/periods/<str:label>/recompute/", views.period_recompute, name="period_recompute"),
    path("costs/runs/", views.TcoRunListView.as_view(), name="run_list"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/new/", views.ReportEditView.as_view(), name="report_add"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", views.ReportEditView.as_view(), name="report_edit"),
    path("reports/<int:pk>/remove/", views.ReportDeleteView.as_view(), name="report_delete"),
    path("reports/<int:pk>/run/", views.report_run, name="report_run"),
    path("reports/files/<int:pk>/", views.report_download, name="report_download"),
]
