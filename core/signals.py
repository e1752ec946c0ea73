from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete
from django.db.models.signals import post_migrate
from django.db.models.signals import post_save
from django.dispatch import receiver

from core import changelog
from core.choices import ChangeAction
from core.models import ChangeLoggedModel


@receiver(post_save)
def log_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, ChangeLoggedModel):
        return
    after = instance.changelog_snapshot()
    if created:
        changelog.record(instance, action=ChangeAction.CREATE, before=None, after=after)
    else:
        before = getattr(instance, "_loaded_snapshot", None)
        changelog.record(instance, action=ChangeAction.UPDATE, before=before, after=after)
    instance._loaded_snapshot = after


@receiver(post_delete)
def log_delete(sender, instance, **kwargs):
    if not isinstance(instance, ChangeLoggedModel):
        return
    before = getattr(instance, "_loaded_snapshot", None) or instance.changelog_snapshot()
    changelog.record(instance, action=ChangeAction.DELETE, before=before, after=None)


@receiver(post_migrate)
def sync_roles(sender, app_config=None, using="default", **kwargs):
    from core.roles import sync_role_permissions

    sync_role_permissions(using=using)


@receiver(connection_created)
def no_jit(sender, connection, **kwargs):
    """Turn PostgreSQL's JIT compilation off for Portico's sessions. The API's lists and the
    record pages read dozens of small correlated subqueries per row (attestation, quality
    criteria); their estimated cost passes ``jit_above_cost``, and compiling them took 100 ms
    of a 130 ms query that runs in 25 ms without it. A ``SET`` (not a startup option) passes
    through a session pooler."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
