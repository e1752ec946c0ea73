from django.contrib.postgres.operations import CreateCollation
from django.db import migrations


class Migration(migrations.Migration):
    """The ICU collation ``natural`` that lists sort names by (core.ordering): numbers in a
    name by their value ("service 2" before "service 10"), letters regardless of case."""

    dependencies = [("core", "0006_trigram_search")]

    operations = [CreateCollation("natural", provider="icu", locale="und-u-kn-true")]
