from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from people import services  # noqa: F401
