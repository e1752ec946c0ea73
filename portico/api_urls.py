"""The versioned API (/api/v1/): every registered resource (each app's api/resources.py), the
sync endpoints, the change feed, the OpenAPI schema and its docs. See docs/api.md."""

from cloud.api import views as cloud_views
from core.api import views
from core.api.resources import autodiscover

app_name = "api"

# Actions beside the resources first: the resources' patterns end with a catch-all 404.
urlpatterns = [*cloud_views.urlpatterns, *views.urlpatterns(autodiscover())]
