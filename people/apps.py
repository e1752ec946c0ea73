from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from django.contrib.auth import get_user_model

        from core import search
        from people import services  # noqa: F401
        from people.filtersets import PersonFilterSet

        # Django's users are searched on the index people's migration 0002 creates.
        search.register(get_user_model(), PersonFilterSet.search_fields)
