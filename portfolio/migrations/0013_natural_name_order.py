from django.db import migrations
from django.db import models
from django.db.models.functions import Collate

from django.db.models import Func
from django.db.models import TextField


def natural_name_index(prefix: str) -> models.Index:
    return models.Index(
        Collate(Func(models.F("name"), function="natural_sort_key", output_field=TextField()), "C"), models.F("id"), name=f"{prefix}_name_natural"
    )


class Migration(migrations.Migration):
    """Lists sorted by name read a page from an index in natural order (core.ordering)."""

    dependencies = [
        ("core", "0007_natural_sort_key"),
        ("portfolio", "0012_stored_search_columns"),
    ]

    operations = [
        migrations.AddIndex(model_name=model, index=natural_name_index(model))
        for model in ("application", "customer", "service", "supplier")
    ]
