"""The versioned API (/api/v1/): every registered resource (each app's api/resources.py), the
sync endpoints, the change feed, the OpenAPI schema and its docs. See docs/api.md."""

from core.api import views
from core.api.resources import autodiscover
from people.api import users

app_name = "api"

# Users are Django's accounts, not a registered resource: their addresses come first.
urlpatterns = users.urlpatterns + views.urlpatterns(autodiscover())
