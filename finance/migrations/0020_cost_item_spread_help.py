# A help text shared with budget lines (finance.models.CostTarget): no database change.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0019_search_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="costitem",
            name="spread_months",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="Capex is spread evenly over this many months, starting with its month.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(240),
                ],
            ),
        ),
    ]
