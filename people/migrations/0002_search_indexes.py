from django.conf import settings
from django.db import migrations

import core.search

# Django's users are searched on the people page by these (people.filtersets.PersonFilterSet);
# their model is not ours, so the index is created here rather than declared in its Meta.
PERSON_SEARCH = core.search.SearchIndex(
    stored=False, searched=("username", "first_name", "last_name", "email"), name="person_search"
)


def add_person_index(apps, schema_editor):
    schema_editor.add_index(apps.get_model(settings.AUTH_USER_MODEL), PERSON_SEARCH)


def remove_person_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model(settings.AUTH_USER_MODEL), PERSON_SEARCH)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("core", "0006_trigram_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="organisationunit",
            index=core.search.SearchIndex(
                stored=False, name="unit_search", searched=("name", "slug", "level", "external_id")
            ),
        ),
        migrations.RunPython(add_person_index, remove_person_index),
    ]
