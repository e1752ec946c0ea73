app_name = "valuestreams"

urlpatterns = []
