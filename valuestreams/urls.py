from django.urls import path

from core.generic import model_paths
from valuestreams import models
from valuestreams import views

app_name = "valuestreams"

STREAM = "<slug:slug>/"

urlpatterns = [
    path("ownership/", views.OwnershipReportView.as_view(), name="ownership_report"),
    # The verb lists that stage and process names are checked against
    *model_paths("verb-lists/", models.VerbList),
    # Processes (CEMM) and their layers
    *model_paths("processes/", models.Process),
    *model_paths(
        "processes/<int:process_pk>/connections/", models.ProcessConnection, name="connection"
    ),
    # The improvement log
    path("improvements/", views.ImprovementBoardView.as_view(), name="improvement_board"),
    *model_paths("improvements/", models.Improvement),
    path(
        "improvements/<int:pk>/status/",
        views.ImprovementStatusView.as_view(),
        name="improvement_status",
    ),
    # Value streams, the map and the stages
    *model_paths("", models.ValueStream),
    path(f"{STREAM}map.svg", views.MapSvgView.as_view(), name="valuestream_map_svg"),
    path(
        f"{STREAM}future-state/",
        views.FutureStateCreateView.as_view(),
        name="future_state_create",
    ),
    *model_paths(f"{STREAM}stages/", models.Stage),
    path(
        f"{STREAM}stages/<int:pk>/up/",
        views.StageMoveView.as_view(),
        {"direction": "up"},
        name="stage_up",
    ),
    path(
        f"{STREAM}stages/<int:pk>/down/",
        views.StageMoveView.as_view(),
        {"direction": "down"},
        name="stage_down",
    ),
]
