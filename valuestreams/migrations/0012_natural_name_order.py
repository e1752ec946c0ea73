from django.db import migrations
from django.db import models
from django.db.models.functions import Collate

from django.db.models import Func
from django.db.models import TextField


class Migration(migrations.Migration):
    """The value streams list sorted by name reads a page from an index in natural order
    (core.ordering)."""

    dependencies = [
        ("core", "0007_natural_sort_key"),
        ("valuestreams", "0011_stored_search_columns"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="valuestream",
            index=models.Index(
                Collate(Func(models.F("name"), function="natural_sort_key", output_field=TextField()), "C"),
                models.F("id"),
                name="valuestream_name_natural",
            ),
        ),
    ]
