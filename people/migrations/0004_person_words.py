from django.conf import settings
from django.db import migrations

import core.search

# The header search finds people by the words of the fields the people page searches
# (people.filtersets.PersonFilterSet); Django's user model is not ours, so its full-text index
# is created here, as its trigram index was (0002_search_indexes).
PERSON_WORDS = core.search.WordsIndex(
    stored=False, searched=("username", "first_name", "last_name", "email"), name="person_words"
)


def add_person_words(apps, schema_editor):
    schema_editor.add_index(apps.get_model(settings.AUTH_USER_MODEL), PERSON_WORDS)


def remove_person_words(apps, schema_editor):
    schema_editor.remove_index(apps.get_model(settings.AUTH_USER_MODEL), PERSON_WORDS)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_profile_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(add_person_words, remove_person_words)]
