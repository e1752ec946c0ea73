import django_tables2 as tables

from core.tables import NUMBER


class ScoreTable(tables.Table):
    """Every record's data-quality score, as the steward exports it."""

    kind = tables.Column()
    name = tables.Column()
    owner = tables.Column()
    score = tables.Column(attrs=NUMBER)
    attestation = tables.Column()
    to_do = tables.Column(verbose_name="Criteria not met")

    class Meta:
        orderable = False
