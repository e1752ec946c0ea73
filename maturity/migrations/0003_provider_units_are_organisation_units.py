from django.db import migrations, models
import django.db.models.deletion
from django.utils.text import slugify


def units_from_provider_parties(apps, schema_editor):
    """Each named provider unit becomes an organisation unit of the same name (keeping its
    sync key and retirement), and its party, with its assessments, points at it."""
    Party = apps.get_model("maturity", "Party")
    OrganisationUnit = apps.get_model("people", "OrganisationUnit")
    taken = set(OrganisationUnit.objects.values_list("slug", flat=True))
    providers = Party.objects.filter(kind="provider", unit__isnull=True).exclude(unit_name="")
    for party in providers.order_by("pk"):
        unit = OrganisationUnit.objects.filter(name=party.unit_name, maturity_party=None).first()
        if unit is None:
            base = slugify(party.unit_name)[:180] or "unit"
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            keyed = (
                party.external_id
                and not OrganisationUnit.objects.filter(
                    source=party.source, external_id=party.external_id
                ).exists()
            )
            unit = OrganisationUnit.objects.create(
                name=party.unit_name,
                slug=slug,
                kind="team",
                source=party.source if keyed else "",
                external_id=party.external_id if keyed else "",
                retired_at=party.retired_at,
            )
        party.unit = unit
        party.save(update_fields=["unit"])


def unit_names_from_units(apps, schema_editor):
    Party = apps.get_model("maturity", "Party")
    for party in Party.objects.filter(unit__isnull=False).select_related("unit"):
        party.unit_name = party.unit.name
        party.save(update_fields=["unit_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("maturity", "0002_daily_balance_snapshot"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="party",
            name="unit",
            field=models.OneToOneField(
                blank=True,
                help_text="The organisation unit assessed; empty for the organisation as a whole.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="maturity_party",
                to="people.organisationunit",
            ),
        ),
        migrations.RunPython(units_from_provider_parties, unit_names_from_units),
    ]
