import django_tables2 as tables

from core.tables import NUMBER


class ScoreTable(tables.Table):
    """Every record's data-quality score, as the steward exports it."""

    kind = tables.Column()
    name = tables.Column()
    owner = tables.Column()
    unit = tables.Column()
    score = tables.Column(attrs=NUMBER)
    attestation = tables.Column()
    to_do = tables.Column(verbose_name="Criteria not met")

    class Meta:
        orderable = False


class UnitScoreTable(tables.Table):
    """Each organisation unit's data-quality score, its sub-units' records included."""

    unit = tables.Column()
    records = tables.Column(attrs=NUMBER, verbose_name="Records (with sub-units)")
    own_records = tables.Column(attrs=NUMBER, verbose_name="Records of its own")
    score = tables.Column(attrs=NUMBER)

    class Meta:
        orderable = False
