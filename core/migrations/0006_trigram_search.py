from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm, for the lists' search indexes (core.search)."""

    dependencies = [("core", "0005_sync_sessions")]

    operations = [TrigramExtension()]
