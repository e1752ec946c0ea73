"""Writing change records. Signals call ``record`` for single saves; bulk writers (sync)
call ``record_many`` with records they built themselves."""

from django.contrib.contenttypes.models import ContentType

from core import context
from core.choices import ChangeAction
from core.models import ObjectChange


def build(instance, *, action: str, before: dict | None, after: dict | None) -> ObjectChange:
    ctx = context.current()
    user = ctx.user
    return ObjectChange(
        user=user,
        user_name=getattr(user, "username", "") if user else "",
        channel=ctx.channel,
        source=ctx.source,
        request_id=ctx.request_id,
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        before=before,
        after=after,
    )


def record(instance, *, action: str, before: dict | None, after: dict | None) -> None:
    if action == ChangeAction.UPDATE and before == after:
        return
    build(instance, action=action, before=before, after=after).save()


def record_many(changes: list[ObjectChange]) -> None:
    ObjectChange.objects.bulk_create(changes, batch_size=1000)


def history_for(instance):
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
    ).select_related("user")
