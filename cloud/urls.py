from django.urls import path

from cloud import models
from cloud import views
from core.generic import model_paths

app_name = "cloud"

urlpatterns = [
    path("costs/cloud/", views.CloudOverviewView.as_view(), name="overview"),
    path("costs/cloud/import/", views.FocusUploadView.as_view(), name="import"),
    *model_paths("costs/cloud/imports/", models.BillingImport),
    *model_paths("costs/cloud/accounts/", models.CloudAccount, name="account"),
    *model_paths("costs/cloud/lines/", models.FocusLine),
    *model_paths("costs/cloud/rules/", models.TagRule),
    *model_paths("costs/cloud/synonyms/", models.TagKeySynonym),
]
