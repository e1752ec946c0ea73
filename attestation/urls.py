from django.urls import path

from attestation import views

app_name = "attestation"

urlpatterns = [
    path("", views.StewardView.as_view(), name="steward"),
    path("<slug:kind>/<int:pk>/confirm/", views.ConfirmView.as_view(), name="confirm"),
]
