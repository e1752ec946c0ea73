from django.db import models


class Service(models.Model):
    """Portico's services table, read as it is (the bare stack creates no table)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    summary = models.TextField()
    kind = models.CharField(max_length=20)
    lifecycle = models.CharField(max_length=10)
    criticality = models.CharField(max_length=10)
    source = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200)
    owner_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "portfolio_service"

    def __str__(self) -> str:
        return self.name
