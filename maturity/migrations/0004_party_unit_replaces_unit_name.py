import importlib

from django.db import migrations, models
from django.db.models import Q

# Rows still unlinked (a named provider unit written after 0003 through the API or a sync,
# which set the name alone) become organisation units the way 0003 made the first ones.
# Going back, each unit's party takes its unit's name again, as 0003 does.
previous = importlib.import_module("maturity.migrations.0003_provider_units_are_organisation_units")
carry_units = previous.units_from_provider_parties
unit_names_from_units = previous.unit_names_from_units


class Migration(migrations.Migration):
    dependencies = [
        ("maturity", "0003_provider_units_are_organisation_units"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_units, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="party", name="party_unique_provider_unit"),
        migrations.RemoveConstraint(model_name="party", name="party_kind_fields"),
        migrations.AlterModelOptions(
            name="party",
            options={
                "ordering": ["kind", "unit__name", "customer__name"],
                "verbose_name_plural": "parties",
            },
        ),
        migrations.RunPython(migrations.RunPython.noop, unit_names_from_units),
        migrations.RemoveField(model_name="party", name="unit_name"),
        migrations.AddConstraint(
            model_name="party",
            constraint=models.CheckConstraint(
                condition=(
                    Q(kind="customer", customer__isnull=False, unit__isnull=True)
                    | Q(kind="provider", customer__isnull=True, served_by__isnull=True)
                ),
                name="party_kind_fields",
                violation_error_message=(
                    "A customer party names its customer; a provider party names at most a unit."
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="party",
            constraint=models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind="provider", unit__isnull=True),
                name="party_unique_organisation",
                violation_error_message="The provider as a whole has a party already.",
            ),
        ),
    ]
