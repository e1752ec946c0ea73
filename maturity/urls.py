from django.urls import path

from core.generic import model_paths
from maturity import models
from maturity import views

app_name = "maturity"


def party_paths(prefix: str, name: str) -> list:
    """A party's page at ``prefix`` and its questionnaire (``assess_<name>``)."""
    return [
        path(prefix, views.PartyView.as_view(), name=name),
        path(f"{prefix}assess/", views.AssessView.as_view(), name=f"assess_{name}"),
    ]


urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("balance/", views.BalanceView.as_view(), name="balance"),
    path(
        "balance/self-assessment/",
        views.SelfAssessmentView.as_view(),
        name="self_assessment_add",
    ),
    *party_paths("provider/", "provider"),
    *model_paths("units/", models.Party, name="unit"),
    *party_paths("units/<int:pk>/", "unit"),
    *party_paths("customers/<slug:slug>/", "customer"),
    path("customers/<slug:slug>/served-by/", views.ServingUnitView.as_view(), name="serving_unit"),
    *model_paths("assessments/", models.Assessment),
]
