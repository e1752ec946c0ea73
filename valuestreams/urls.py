from django.urls import path

from core.generic import object_paths
from valuestreams import views

app_name = "valuestreams"

STREAM = "<slug:slug>/"

urlpatterns = [
    path("ownership/", views.OwnershipReportView.as_view(), name="ownership_report"),
    # Processes (CEMM) and their layers
    *object_paths(
        "processes/",
        "process",
        key="<int:pk>",
        list=views.ProcessListView,
        edit=views.ProcessEditView,
        detail=views.ProcessDetailView,
        delete=views.ProcessDeleteView,
    ),
    path(
        "processes/<int:process_pk>/connections/<int:pk>/remove/",
        views.ConnectionRemoveView.as_view(),
        name="connection_remove",
    ),
    # The improvement log
    path("improvements/", views.ImprovementBoardView.as_view(), name="improvement_board"),
    *object_paths(
        "improvements/",
        "improvement",
        key="<int:pk>",
        edit=views.ImprovementEditView,
        delete=views.ImprovementDeleteView,
    ),
    path(
        "improvements/<int:pk>/status/",
        views.ImprovementStatusView.as_view(),
        name="improvement_status",
    ),
    # Value streams, the map and the stages
    *object_paths(
        "",
        "valuestream",
        list=views.ValueStreamListView,
        edit=views.ValueStreamEditView,
        detail=views.ValueStreamDetailView,
        delete=views.ValueStreamDeleteView,
    ),
    path(f"{STREAM}map.svg", views.MapSvgView.as_view(), name="valuestream_map_svg"),
    path(
        f"{STREAM}future-state/",
        views.FutureStateCreateView.as_view(),
        name="future_state_create",
    ),
    path(f"{STREAM}stages/new/", views.StageEditView.as_view(), name="stage_add"),
    path(f"{STREAM}stages/<int:pk>/edit/", views.StageEditView.as_view(), name="stage_edit"),
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
    path(f"{STREAM}stages/<int:pk>/remove/", views.StageRemoveView.as_view(), name="stage_remove"),
]
