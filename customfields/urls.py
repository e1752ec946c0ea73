from core.generic import model_paths
from customfields import models
from customfields import views  # noqa: F401 (registers the pages model_paths routes)

app_name = "customfields"

urlpatterns = [*model_paths("custom-fields/", models.CustomField)]
