from django.contrib.auth import get_user_model
from django.urls import path

from core.generic import model_paths
from people import views
from people.models import OrganisationUnit

app_name = "people"

urlpatterns = [
    *model_paths("units/", OrganisationUnit, name="unit"),
    path(
        "<int:pk>/deactivate/",
        views.PersonDeactivateView.as_view(),
        name="person_deactivate",
    ),
    *model_paths("", get_user_model(), name="person"),
]
