from django.urls import path

from core.generic import model_paths
from portfolio import models
from portfolio import views

app_name = "portfolio"

SERVICE = "services/<slug:slug>/"
CUSTOMER = "customers/<slug:slug>/"
CONTRACT = "contracts/<int:contract_pk>/"
APPLICATION = "applications/<slug:slug>/"

urlpatterns = [
    path("services/mine/", views.services.MyServicesView.as_view(), name="my_services"),
    *model_paths("services/", models.Service),
    path(f"{SERVICE}impact/", views.services.ServiceImpactView.as_view(), name="service_impact"),
    *model_paths(
        f"{SERVICE}items/",
        models.SpecificationItem,
        name="item",
        add_route=f"{SERVICE}items/new/<slug:aspect>/<slug:dimension>/",
    ),
    path(
        f"{SERVICE}items/<int:pk>/up/",
        views.services.ItemMoveView.as_view(),
        {"direction": "up"},
        name="item_up",
    ),
    path(
        f"{SERVICE}items/<int:pk>/down/",
        views.services.ItemMoveView.as_view(),
        {"direction": "down"},
        name="item_down",
    ),
    *model_paths(
        f"{SERVICE}dependencies/",
        models.ServiceDependency,
        name="dependency",
        add_route=f"{SERVICE}dependencies/add/",
    ),
    # --- Customers, their subscriptions and Successful Customer Outcomes ---
    *model_paths("customers/", models.Customer),
    *model_paths(f"{CUSTOMER}subscriptions/", models.Subscription),
    *model_paths(
        f"{CUSTOMER}outcomes/",
        models.Outcome,
        add_route=f"{CUSTOMER}subscriptions/<int:subscription_pk>/outcomes/new/",
    ),
    # --- Suppliers and contracts, and what each contract covers ---
    *model_paths("suppliers/", models.Supplier),
    *model_paths("contracts/", models.Contract),
    *model_paths(f"{CONTRACT}coverages/", models.ContractCoverage, name="coverage"),
    # --- Applications and the services they support ---
    *model_paths("applications/", models.Application),
    *model_paths(f"{APPLICATION}supports/", models.ApplicationSupport, name="support"),
]
