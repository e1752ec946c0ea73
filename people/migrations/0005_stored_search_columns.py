from django.conf import settings
from django.db import migrations

import core.search

# Django's users' search indexes (0002_search_indexes, 0004_person_words) on stored columns,
# as every model's: created here, their model not being ours.
PERSON_FIELDS = ("username", "first_name", "last_name", "email")
BEFORE = (
    core.search.SearchIndex(stored=False, searched=PERSON_FIELDS, name="person_search"),
    core.search.WordsIndex(stored=False, searched=PERSON_FIELDS, name="person_words"),
)
AFTER = (
    core.search.SearchIndex(searched=PERSON_FIELDS, name="person_search"),
    core.search.WordsIndex(searched=PERSON_FIELDS, name="person_words"),
)


def replace(removed, added):
    def run(apps, schema_editor):
        users = apps.get_model(settings.AUTH_USER_MODEL)
        for index in removed:
            schema_editor.remove_index(users, index)
        for index in added:
            schema_editor.add_index(users, index)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_person_words"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="organisationunit",
            name="unit_search",
        ),
        migrations.AddIndex(
            model_name="organisationunit",
            index=core.search.SearchIndex(
                name="unit_search", searched=("name", "slug", "level", "external_id")
            ),
        ),
        migrations.RunPython(replace(BEFORE, AFTER), replace(AFTER, BEFORE)),
    ]
