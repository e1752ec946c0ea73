"""The demo's attestations: most records confirmed by their owners at various times in the
last year, some overdue, a few changed since by the CMDB sync (check needed), some never
confirmed, so the steward page and the scores show a believable spread."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone

from attestation.models import Attestation
from attestation.selectors import ATTESTED_KINDS
from attestation.selectors import in_use
from core.choices import ChangeAction
from core.choices import Channel
from core.context import change_context
from core.demo import SOURCE
from core.models import ObjectChange

# By a record's place among its kind's demo records (ordered by external id), in turn:
# months since its owner confirmed it (None: never), and whether the CMDB changed it since.
PATTERN = (
    (2, False),
    (None, False),
    (5, False),
    (14, False),  # overdue: confirmations hold 12 months by default
    (1, True),
    (8, False),
    (3, False),
    (None, False),
    (11, False),
    (16, False),
)
CMDB_NOTE = " Recorded in the CMDB by its inventory sync."


def load(*, stdout) -> None:
    now = timezone.now()
    created = kept = 0
    for model in ATTESTED_KINDS.values():
        content_type = ContentType.objects.get_for_model(model)
        done = set(
            Attestation.objects.filter(content_type=content_type).values_list(
                "object_id", flat=True
            )
        )
        # The demo's own loading edits some records (after creating them, as its earlier
        # parts link them): their owner confirmed them after that, not months before. What
        # an owner changed themselves (placing their records in their unit) breaks nothing.
        edits = (
            ObjectChange.objects.filter(content_type=content_type, action=ChangeAction.UPDATE)
            .values("object_id", "user_id")
            .annotate(last=Max("time"))
        )
        edited: dict[str, list[tuple[int | None, datetime.datetime]]] = {}
        for edit in edits:
            edited.setdefault(edit["object_id"], []).append((edit["user_id"], edit["last"]))
        records = model._default_manager.filter(
            in_use(model), source=SOURCE, owner__isnull=False
        ).order_by("external_id")
        for index, record in enumerate(records):
            months, changed_since = PATTERN[index % len(PATTERN)]
            if months is None:
                continue
            if record.pk in done:
                kept += 1
                continue
            attested_at = now - datetime.timedelta(days=30 * months + index % 7)
            last_edit = max(
                (
                    time
                    for user_id, time in edited.get(str(record.pk), [])
                    if user_id != record.owner_id
                ),
                default=None,
            )
            if last_edit is not None and last_edit >= attested_at:
                attested_at = last_edit + datetime.timedelta(seconds=1)
            Attestation.objects.create(
                content_type=content_type,
                object_id=record.pk,
                attested_at=attested_at,
                attested_by=record.owner,
            )
            created += 1
            if changed_since and hasattr(record, "summary"):
                with change_context(channel=Channel.SYNC, source="cmdb"):
                    record.summary = (record.summary + CMDB_NOTE).strip()
                    record.save()
    stdout.write(f"Demo attestations: {created} created, {kept} already there.")
