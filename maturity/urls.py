from django.urls import include, path

from core.generic import model_paths
from maturity import models, views

app_name = "maturity"


def party_paths(name: str) -> list:
    """A party's page and its questionnaire (``assess_<name>``)."""
    return [
        path("", views.PartyView.as_view(), name=name),
        path("assess/", views.AssessView.as_view(), name=f"assess_{name}"),
    ]


urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("balance/", views.BalanceView.as_view(), name="balance"),
    path(
        "balance/self-assessment/",
        views.SelfAssessmentView.as_view(),
        name="self_assessment_add",
    ),
    path("provider/", include(party_paths("provider"))),
    *model_paths("units/", models.Party, name="unit"),
    path("units/<int:pk>/", include(party_paths("unit"))),
    path("customers/<slug:slug>/", include(party_paths("customer"))),
    path("customers/<slug:slug>/served-by/", views.ServingUnitView.as_view(), name="serving_unit"),
    *model_paths("assessments/", models.Assessment),
]
