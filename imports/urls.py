from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.RunListView.as_view(), name="run_list"),
    path("new/", views.UploadView.as_view(), name="upload"),
    path("templates/<slug:resource>/", views.TemplateDownloadView.as_view(), name="template"),
    path("<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("<int:pk>/preview/", views.PreviewView.as_view(), name="preview"),
    path("<int:pk>/commit/", views.CommitView.as_view(), name="commit"),
    path("<int:pk>/file/", views.RunFileView.as_view(), name="file"),
    path("<int:pk>/errors/", views.RunErrorsView.as_view(), name="errors"),
]
