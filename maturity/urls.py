from django.urls import path

from maturity import views

app_name = "maturity"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("balance/", views.balance_view, name="balance"),
    path(
        "balance/self-assessment/",
        views.SelfAssessmentView.as_view(),
        name="self_assessment_add",
    ),
    path("provider/", views.provider_view, name="provider"),
    path("provider/assess/", views.assess_provider, name="assess_provider"),
    path("units/new/", views.ProviderUnitEditView.as_view(), name="unit_add"),
    path("units/<int:pk>/", views.unit_view, name="unit"),
    path("units/<int:pk>/assess/", views.assess_unit, name="assess_unit"),
    path("units/<int:pk>/edit/", views.ProviderUnitEditView.as_view(), name="unit_edit"),
    path("units/<int:pk>/remove/", views.ProviderUnitDeleteView.as_view(), name="unit_delete"),
    path("customers/<slug:slug>/", views.customer_view, name="customer"),
    path("customers/<slug:slug>/assess/", views.assess_customer, name="assess_customer"),
    path("customers/<slug:slug>/served-by/", views.serving_unit, name="serving_unit"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment_edit"),
    path("assessments/<int:pk>/remove/", views.assessment_remove, name="assessment_remove"),
]
