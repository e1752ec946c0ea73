from django.urls import path

from maturity import views

app_name = "maturity"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("balance/", views.BalanceView.as_view(), name="balance"),
    path(
        "balance/self-assessment/",
        views.SelfAssessmentView.as_view(),
        name="self_assessment_add",
    ),
    path("provider/", views.PartyView.as_view(), name="provider"),
    path("provider/assess/", views.AssessView.as_view(), name="assess_provider"),
    path("units/new/", views.ProviderUnitEditView.as_view(), name="unit_add"),
    path("units/<int:pk>/", views.PartyView.as_view(), name="unit"),
    path("units/<int:pk>/assess/", views.AssessView.as_view(), name="assess_unit"),
    path("units/<int:pk>/edit/", views.ProviderUnitEditView.as_view(), name="unit_edit"),
    path("units/<int:pk>/remove/", views.ProviderUnitDeleteView.as_view(), name="unit_delete"),
    path("customers/<slug:slug>/", views.PartyView.as_view(), name="customer"),
    path("customers/<slug:slug>/assess/", views.AssessView.as_view(), name="assess_customer"),
    path("customers/<slug:slug>/served-by/", views.ServingUnitView.as_view(), name="serving_unit"),
    path("assessments/<int:pk>/edit/", views.AssessmentEditView.as_view(), name="assessment_edit"),
    path(
        "assessments/<int:pk>/remove/",
        views.AssessmentRemoveView.as_view(),
        name="assessment_remove",
    ),
]
