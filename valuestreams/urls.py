from django.urls import path

from valuestreams import views

app_name = "valuestreams"

urlpatterns = [
    path("", views.ValueStreamListView.as_view(), name="valuestream_list"),
    path("new/", views.ValueStreamEditView.as_view(), name="valuestream_add"),
    path("ownership/", views.ownership_report, name="ownership_report"),
    # Processes (CEMM) and their layers
    path("processes/", views.ProcessListView.as_view(), name="process_list"),
    path("processes/new/", views.ProcessEditView.as_view(), name="process_add"),
    path("processes/<int:pk>/", views.ProcessDetailView.as_view(), name="process_detail"),
    path("processes/<int:pk>/edit/", views.ProcessEditView.as_view(), name="process_edit"),
    path("processes/<int:pk>/remove/", views.ProcessDeleteView.as_view(), name="process_delete"),
    path(
        "processes/<int:pk>/connections/<int:connection_pk>/remove/",
        views.connection_remove,
        name="connection_remove",
    ),
    # The improvement log
    path("improvements/", views.improvement_board, name="improvement_board"),
    path("improvements/new/", views.ImprovementEditView.as_view(), name="improvement_add"),
    path(
        "improvements/<int:pk>/edit/",
        views.ImprovementEditView.as_view(),
        name="improvement_edit",
    ),
    path("improvements/<int:pk>/status/", views.improvement_status, name="improvement_status"),
    path(
        "improvements/<int:pk>/remove/",
        views.ImprovementDeleteView.as_view(),
        name="improvement_delete",
    ),
    # One value stream, its map and its stages
    path("<slug:slug>/", views.ValueStreamDetailView.as_view(), name="valuestream_detail"),
    path("<slug:slug>/edit/", views.ValueStreamEditView.as_view(), name="valuestream_edit"),
    path("<slug:slug>/remove/", views.ValueStreamDeleteView.as_view(), name="valuestream_delete"),
    path("<slug:slug>/map.svg", views.map_svg, name="valuestream_map_svg"),
    path("<slug:slug>/future-state/", views.future_state_create, name="future_state_create"),
    path("<slug:slug>/stages/new/", views.stage_add, name="stage_add"),
    path("<slug:slug>/stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path(
        "<slug:slug>/stages/<int:pk>/up/",
        views.stage_move,
        {"direction": "up"},
        name="stage_up",
    ),
    path(
        "<slug:slug>/stages/<int:pk>/down/",
        views.stage_move,
        {"direction": "down"},
        name="stage_down",
    ),
    path("<slug:slug>/stages/<int:pk>/remove/", views.stage_remove, name="stage_remove"),
]
