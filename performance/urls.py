from django.urls import path

from core.generic import model_paths
from performance import views
from performance.models import Measurement

app_name = "performance"

SERVICE = "services/<slug:slug>/"

urlpatterns = [
    path("attention/", views.AttentionItemListView.as_view(), name="attention_items"),
    path(
        "attention/outcomes/", views.AttentionOutcomeListView.as_view(), name="attention_outcomes"
    ),
    path("figures/import/", views.MeasurementImportView.as_view(), name="measurement_import"),
    path("items/<int:pk>/", views.ItemSeriesView.as_view(), name="item_series"),
    path(
        "items/<int:subject>/figures/new/",
        views.ItemFigureAddView.as_view(),
        name="item_figure_add",
    ),
    path(
        "items/<int:subject>/figures/<int:pk>/remove/",
        views.ItemFigureRemoveView.as_view(),
        name="item_figure_remove",
    ),
    path("outcomes/<int:pk>/", views.OutcomeSeriesView.as_view(), name="outcome_series"),
    path(
        "outcomes/<int:subject>/figures/new/",
        views.OutcomeFigureAddView.as_view(),
        name="outcome_figure_add",
    ),
    path(
        "outcomes/<int:subject>/figures/<int:pk>/remove/",
        views.OutcomeFigureRemoveView.as_view(),
        name="outcome_figure_remove",
    ),
    *model_paths(
        f"{SERVICE}figures/",
        Measurement,
        add_route=f"{SERVICE}items/<int:item_pk>/figures/new/",
    ),
]
