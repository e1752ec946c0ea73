from django.urls import path

from portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("services/", views.ServiceListView.as_view(), name="service_list"),
    path("services/mine/", views.my_services, name="my_services"),
    path("services/options/", views.service_options, name="service_options"),
    path("services/new/", views.ServiceEditView.as_view(), name="service_add"),
    path("services/<slug:slug>/", views.ServiceDetailView.as_view(), name="service_detail"),
    path("services/<slug:slug>/edit/", views.ServiceEditView.as_view(), name="service_edit"),
    path("services/<slug:slug>/remove/", views.ServiceDeleteView.as_view(), name="service_delete"),
    path(
        "services/<slug:slug>/items/new/<slug:aspect>/<slug:dimension>/",
        views.item_form_view,
        name="item_add",
    ),
    path("services/<slug:slug>/items/<int:pk>/edit/", views.item_form_view, name="item_edit"),
    path(
        "services/<slug:slug>/items/<int:pk>/up/",
        views.item_move,
        {"direction": "up"},
        name="item_up",
    ),
    path(
        "services/<slug:slug>/items/<int:pk>/down/",
        views.item_move,
        {"direction": "down"},
        name="item_down",
    ),
    path("services/<slug:slug>/items/<int:pk>/remove/", views.item_remove, name="item_remove"),
    path("services/<slug:slug>/dependencies/add/", views.dependency_add, name="dependency_add"),
    path(
        "services/<slug:slug>/dependencies/<int:pk>/remove/",
        views.dependency_remove,
        name="dependency_remove",
    ),
]
