"""The versioned API (/api/v1/): every registered resource (each app's api/resources.py), the
sync endpoints, the change feed, the OpenAPI schema and its docs. See docs/api.md."""

from budgets.api import views as budget_views
from cloud.api import views as cloud_views
from core.api import session_views
from core.api import views
from core.api.resources import autodiscover
from ledger.api import views as ledger_views
from people.api import users

app_name = "api"

# Users are Django's accounts, not a registered resource, and the actions beside the
# resources (a FOCUS or ledger import, a rule's test, budget actions, sync sessions) come
# first: the resources' patterns end with a catch-all 404.
urlpatterns = [
    *users.urlpatterns,
    *cloud_views.urlpatterns,
    *ledger_views.urlpatterns,
    *budget_views.urlpatterns,
    *session_views.urlpatterns,
    *views.urlpatterns(autodiscover()),
]
