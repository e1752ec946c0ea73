from django.urls import path

from core.generic import model_paths
from people import views
from people.models import OrganisationUnit

app_name = "people"

urlpatterns = [
    *model_paths("units/", OrganisationUnit, name="unit"),
    path("", views.PersonListView.as_view(), name="person_list"),
    path("new/", views.PersonEditView.as_view(), name="person_add"),
    path("<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("language/", views.LanguageView.as_view(), name="language"),
    path("<int:pk>/deactivate/", views.PersonDeactivateView.as_view(), name="person_deactivate"),
]
