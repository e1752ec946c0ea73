from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"

    def ready(self):
        # Registers the write rules (core.rules) and rights (core.permissions) of the app.
        from django.contrib.auth import get_user_model
        from django.db.models import Q
        from django.urls import reverse

        from core import finder
        from core import search
        from people import services  # noqa: F401
        from people.filtersets import PersonFilterSet

        # Django's users are searched on the index people's migration 0002 creates, and by
        # the header's search on the one 0003 creates.
        search.register(get_user_model(), PersonFilterSet.search_fields)
        finder.register(
            finder.Kind(
                "person",
                get_user_model(),
                "People",
                label="Person",
                title=finder.person_name(),
                context="profile__unit__name",
                retired=Q(is_active=False),
                link_key="pk",
                link=lambda key, ident: reverse("people:person_detail", args=[ident]),
                order=90,
                retired_label="Deactivated",
            )
        )
