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
    path("items/<int:pk>/", views.ItemSeriesView.as_view(), name="item_series"),
    *model_paths(
        f"{SERVICE}figures/",
        Measurement,
        add_route=f"{SERVICE}items/<int:item_pk>/figures/new/",
    ),
]
