from django.urls import path

from core.generic import model_paths
from ledger import models
from ledger import views

app_name = "ledger"

urlpatterns = [
    path("costs/ledger/", views.LedgerOverviewView.as_view(), name="overview"),
    path("costs/ledger/import/", views.LedgerUploadView.as_view(), name="import"),
    path("costs/ledger/test/", views.LedgerTestView.as_view(), name="test"),
    *model_paths("costs/ledger/imports/", models.LedgerImport),
    *model_paths("costs/ledger/lines/", models.LedgerLine),
    *model_paths("costs/ledger/rules/", models.LedgerRule),
]
