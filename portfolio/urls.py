from django.urls import path

from portfolio.views import applications as application_views
from portfolio.views import customers as customer_views
from portfolio.views import services as service_views
from portfolio.views import suppliers as supplier_views

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
    # --- Customers, their subscriptions and Successful Customer Outcomes ---
    path("customers/", customer_views.CustomerListView.as_view(), name="customer_list"),
    path("customers/new/", customer_views.CustomerEditView.as_view(), name="customer_add"),
    path(
        "customers/<slug:slug>/",
        customer_views.CustomerDetailView.as_view(),
        name="customer_detail",
    ),
    path(
        "customers/<slug:slug>/edit/",
        customer_views.CustomerEditView.as_view(),
        name="customer_edit",
    ),
    path(
        "customers/<slug:slug>/remove/",
        customer_views.CustomerDeleteView.as_view(),
        name="customer_delete",
    ),
    path(
        "customers/<slug:slug>/subscriptions/new/",
        customer_views.subscription_form_view,
        name="subscription_add",
    ),
    path(
        "customers/<slug:slug>/subscriptions/<int:pk>/edit/",
        customer_views.subscription_form_view,
        name="subscription_edit",
    ),
    path(
        "customers/<slug:slug>/subscriptions/<int:pk>/remove/",
        customer_views.subscription_remove,
        name="subscription_remove",
    ),
    path(
        "customers/<slug:slug>/subscriptions/<int:subscription_pk>/outcomes/new/",
        customer_views.outcome_form_view,
        name="outcome_add",
    ),
    path(
        "customers/<slug:slug>/outcomes/<int:pk>/edit/",
        customer_views.outcome_form_view,
        name="outcome_edit",
    ),
    path(
        "customers/<slug:slug>/outcomes/<int:pk>/remove/",
        customer_views.outcome_remove,
        name="outcome_remove",
    ),
    # --- Suppliers and contracts, and what each contract covers ---
    path("suppliers/", supplier_views.SupplierListView.as_view(), name="supplier_list"),
    path("suppliers/new/", supplier_views.SupplierEditView.as_view(), name="supplier_add"),
    path(
        "suppliers/<slug:slug>/",
        supplier_views.SupplierDetailView.as_view(),
        name="supplier_detail",
    ),
    path(
        "suppliers/<slug:slug>/edit/",
        supplier_views.SupplierEditView.as_view(),
        name="supplier_edit",
    ),
    path(
        "suppliers/<slug:slug>/remove/",
        supplier_views.SupplierDeleteView.as_view(),
        name="supplier_delete",
    ),
    path("contracts/", supplier_views.ContractListView.as_view(), name="contract_list"),
    path("contracts/new/", supplier_views.ContractEditView.as_view(), name="contract_add"),
    path(
        "contracts/<int:pk>/",
        supplier_views.ContractDetailView.as_view(),
        name="contract_detail",
    ),
    path(
        "contracts/<int:pk>/edit/",
        supplier_views.ContractEditView.as_view(),
        name="contract_edit",
    ),
    path(
        "contracts/<int:pk>/remove/",
        supplier_views.ContractDeleteView.as_view(),
        name="contract_delete",
    ),
    path(
        "contracts/<int:contract_pk>/coverages/new/",
        supplier_views.coverage_form_view,
        name="coverage_add",
    ),
    path(
        "contracts/<int:contract_pk>/coverages/<int:pk>/edit/",
        supplier_views.coverage_form_view,
        name="coverage_edit",
    ),
    path(
        "contracts/<int:contract_pk>/coverages/<int:pk>/remove/",
        supplier_views.coverage_remove,
        name="coverage_remove",
    ),
    # --- Applications and the services they support ---
    path(
        "applications/",
        application_views.ApplicationListView.as_view(),
        name="application_list",
    ),
    path(
        "applications/options/",
        application_views.application_options,
        name="application_options",
    ),
    path(
        "applications/new/",
        application_views.ApplicationEditView.as_view(),
        name="application_add",
    ),
    path(
        "applications/<slug:slug>/",
        application_views.ApplicationDetailView.as_view(),
        name="application_detail",
    ),
    path(
        "applications/<slug:slug>/edit/",
        application_views.ApplicationEditView.as_view(),
        name="application_edit",
    ),
    path(
        "applications/<slug:slug>/remove/",
        application_views.ApplicationDeleteView.as_view(),
        name="application_delete",
    ),
    path(
        "applications/<slug:slug>/supports/new/",
        application_views.support_form_view,
        name="support_add",
    ),
    path(
        "applications/<slug:slug>/supports/<int:pk>/edit/",
        application_views.support_form_view,
        name="support_edit",
    ),
    path(
        "applications/<slug:slug>/supports/<int:pk>/remove/",
        application_views.support_remove,
        name="support_remove",
    ),
]
