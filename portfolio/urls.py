from django.urls import path

from core.generic import child_paths, object_paths
from portfolio.views import applications, customers, services, suppliers

app_name = "portfolio"

SERVICE = "services/<slug:slug>/"
CUSTOMER = "customers/<slug:slug>/"
CONTRACT = "contracts/<int:contract_pk>/"
APPLICATION = "applications/<slug:slug>/"

urlpatterns = [
    path("services/mine/", services.MyServicesView.as_view(), name="my_services"),
    path("services/options/", services.ServiceOptionsView.as_view(), name="service_options"),
    *object_paths(
        "services/",
        "service",
        list=services.ServiceListView,
        edit=services.ServiceEditView,
        detail=services.ServiceDetailView,
        delete=services.ServiceDeleteView,
    ),
    path(
        f"{SERVICE}items/new/<slug:aspect>/<slug:dimension>/",
        services.ItemEditView.as_view(),
        name="item_add",
    ),
    path(f"{SERVICE}items/<int:pk>/edit/", services.ItemEditView.as_view(), name="item_edit"),
    path(
        f"{SERVICE}items/<int:pk>/up/",
        services.ItemMoveView.as_view(),
        {"direction": "up"},
        name="item_up",
    ),
    path(
        f"{SERVICE}items/<int:pk>/down/",
        services.ItemMoveView.as_view(),
        {"direction": "down"},
        name="item_down",
    ),
    path(f"{SERVICE}items/<int:pk>/remove/", services.ItemRemoveView.as_view(), name="item_remove"),
    path(
        f"{SERVICE}dependencies/add/",
        services.DependencyAddView.as_view(),
        name="dependency_add",
    ),
    path(
        f"{SERVICE}dependencies/<int:pk>/remove/",
        services.DependencyRemoveView.as_view(),
        name="dependency_remove",
    ),
    # --- Customers, their subscriptions and Successful Customer Outcomes ---
    *object_paths(
        "customers/",
        "customer",
        list=customers.CustomerListView,
        edit=customers.CustomerEditView,
        detail=customers.CustomerDetailView,
        delete=customers.CustomerDeleteView,
    ),
    *child_paths(
        f"{CUSTOMER}subscriptions/",
        "subscription",
        edit=customers.SubscriptionEditView,
        remove=customers.SubscriptionRemoveView,
    ),
    *child_paths(
        f"{CUSTOMER}outcomes/",
        "outcome",
        edit=customers.OutcomeEditView,
        remove=customers.OutcomeRemoveView,
        add_prefix=f"{CUSTOMER}subscriptions/<int:subscription_pk>/outcomes/",
    ),
    # --- Suppliers and contracts, and what each contract covers ---
    *object_paths(
        "suppliers/",
        "supplier",
        list=suppliers.SupplierListView,
        edit=suppliers.SupplierEditView,
        detail=suppliers.SupplierDetailView,
        delete=suppliers.SupplierDeleteView,
    ),
    *object_paths(
        "contracts/",
        "contract",
        key="<int:pk>",
        list=suppliers.ContractListView,
        edit=suppliers.ContractEditView,
        detail=suppliers.ContractDetailView,
        delete=suppliers.ContractDeleteView,
    ),
    *child_paths(
        f"{CONTRACT}coverages/",
        "coverage",
        edit=suppliers.CoverageEditView,
        remove=suppliers.CoverageRemoveView,
    ),
    # --- Applications and the services they support ---
    path(
        "applications/options/",
        applications.ApplicationOptionsView.as_view(),
        name="application_options",
    ),
    *object_paths(
        "applications/",
        "application",
        list=applications.ApplicationListView,
        edit=applications.ApplicationEditView,
        detail=applications.ApplicationDetailView,
        delete=applications.ApplicationDeleteView,
    ),
    *child_paths(
        f"{APPLICATION}supports/",
        "support",
        edit=applications.SupportEditView,
        remove=applications.SupportRemoveView,
    ),
]
