from django.urls import path

from portfolio.views import services as service_views

app_name = "portfolio"

urlpatterns = [
    path("services/", service_views.ServiceListView.as_view(), name="service_list"),
    path("services/mine/", service_views.my_services, name="my_services"),
    path("services/options/", service_views.service_options, name="service_options"),
    path("services/new/", service_views.ServiceEditView.as_view(), name="service_add"),
    path("services/<slug:slug>/", service_views.ServiceDetailView.as_view(), name="service_detail"),
    path(
        "services/<slug:slug>/edit/", service_views.ServiceEditView.as_view(), name="service_edit"
    ),
    path(
        "services/<slug:slug>/remove/",
        service_views.ServiceDeleteView.as_view(),
        name="service_delete",
    ),
    path(
        "services/<slug:slug>/items/new/<slug:aspect>/<slug:dimension>/",
        service_views.item_form_view,
        name="item_add",
    ),
    path(
        "services/<slug:slug>/items/<int:pk>/edit/", service_views.item_form_view, name="item_edit"
    ),
    path(
        "services/<slug:slug>/items/<int:pk>/up/",
        service_views.item_move,
        {"direction": "up"},
        name="item_up",
    ),
    path(
        "services/<slug:slug>/items/<int:pk>/down/",
        service_views.item_move,
        {"direction": "down"},
        name="item_down",
    ),
    path(
        "services/<slug:slug>/items/<int:pk>/remove/", service_views.item_remove, name="item_remove"
    ),
    path(
        "services/<slug:slug>/dependencies/add/",
        service_views.dependency_add,
        name="dependency_add",
    ),
    path(
        "services/<slug:slug>/dependencies/<int:pk>/remove/",
        service_views.dependency_remove,
        name="dependency_remove",
    ),
]
