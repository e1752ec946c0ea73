"""Where each record stands with its owner's confirmation (docs/quality.md).

For a day ``today``, a record of an attested kind (service, application, contract, value
stream) is:

- ``never_attested`` when its owner never confirmed it;
- ``check_needed`` when, since the confirmation, anyone who is not one of its owners or
  delegates (core.permissions ``ownership_lookups``: a sync, an import, a portfolio manager)
  changed it; the earliest such change record (core.models.ObjectChange) broke it;
- ``due`` when the confirmation is older than the kind's ``PORTICO_ATTESTATION_MONTHS_*``;
- ``attested`` otherwise.

It is read from the change log rather than kept by each write path, so the browser, the API,
the bulk sync and the imports (which write change records by COPY) break an attestation alike.
All of it is SQL over the queryset, so any number of records is one query.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case
from django.db.models import CharField
from django.db.models import DateTimeField
from django.db.models import Func
from django.db.models import Model
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.db.models import Value
from django.db.models import When
from django.db.models.functions import Cast
from django.utils import timezone

from attestation.choices import AttestationStatus
from attestation.models import Attestation
from core.models import ObjectChange
from core.permissions import ownership_lookups
from portfolio.choices import ServiceLifecycle
from portfolio.models import Application
from portfolio.models import Contract
from portfolio.models import Service
from valuestreams.models import ValueStream

# The kinds an owner attests, by the key of PORTICO_ATTESTATION_MONTHS.
ATTESTED_KINDS: dict[str, type[Model]] = {
    "service": Service,
    "application": Application,
    "contract": Contract,
    "valuestream": ValueStream,
}
NEEDS_OWNER = (AttestationStatus.DUE, AttestationStatus.CHECK_NEEDED)


def kind_of(model: type[Model]) -> str:
    return model._meta.model_name


def is_attested_kind(model: type[Model]) -> bool:
    return kind_of(model) in ATTESTED_KINDS


def in_use(model: type[Model]) -> Q:
    """Records still in use: a retired one is neither attested nor scored."""
    if model is Service:
        return ~Q(lifecycle=ServiceLifecycle.RETIRED)
    return Q(retired_at__isnull=True)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` earlier (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    last = (following - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))


class MonthsAgo(Func):
    """The moment ``months`` months before now, by the database's clock."""

    template = "(NOW() - make_interval(months => %(months)s))"
    output_field = DateTimeField()

    def __init__(self, months: int):
        super().__init__(months=int(months))


def valid_since(model: type[Model], today: datetime.date | None) -> Value | MonthsAgo:
    """A confirmation made before this moment is due again: the start of the day the kind's
    months before ``today``; ``today`` None: that many months before now, by the database's
    clock (for querysets built once per process, as the API's are)."""
    months = settings.PORTICO_ATTESTATION_MONTHS[kind_of(model)]
    if today is None:
        return MonthsAgo(months)
    start = months_before(today, months)
    moment = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    return Value(moment, output_field=DateTimeField())


def breaking_changes(model: type[Model]) -> QuerySet:
    """Change records of the outer query's record, made since its ``attested_at`` by anyone
    who is not one of its owners or delegates (for a Subquery of ``with_attestation``)."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    by_owner = Q(pk__in=[])
    for lookup in ownership_lookups(model):
        owners = (
            model._base_manager.filter(pk=OuterRef(OuterRef("pk")))
            .filter(**{f"{lookup}__isnull": False})
            .values(lookup)
        )
        by_owner |= Q(user_id__in=owners)
    return (
        ObjectChange.objects.filter(
            content_type=content_type,
            object_id=Cast(OuterRef("pk"), CharField()),
            time__gt=OuterRef("attested_at"),
        )
        .exclude(by_owner)
        .order_by("time", "id")
    )


def with_attestation(queryset: QuerySet, today: datetime.date | None) -> QuerySet:
    """``queryset`` (of an attested kind) with ``attested_at``, ``attested_by_id``,
    ``broken_by_id`` (the change that broke the confirmation, or None) and
    ``attestation_status``."""
    model = queryset.model
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    latest = Attestation.objects.filter(content_type=content_type, object_id=OuterRef("pk"))
    return (
        queryset.annotate(
            attested_at=Subquery(latest.values("attested_at")[:1]),
            attested_by_id=Subquery(latest.values("attested_by_id")[:1]),
        )
        .annotate(broken_by_id=Subquery(breaking_changes(model).values("id")[:1]))
        .annotate(
            attestation_status=Case(
                When(attested_at__isnull=True, then=Value(AttestationStatus.NEVER_ATTESTED)),
                When(broken_by_id__isnull=False, then=Value(AttestationStatus.CHECK_NEEDED)),
                When(attested_at__lt=valid_since(model, today), then=Value(AttestationStatus.DUE)),
                default=Value(AttestationStatus.ATTESTED),
                output_field=CharField(),
            )
        )
    )


@dataclass(frozen=True)
class Standing:
    """One record's attestation, for its page."""

    status: str
    attested_at: datetime.datetime | None
    attested_by_id: int | None
    broken_by: ObjectChange | None
    valid_until: datetime.date | None

    @property
    def label(self) -> str:
        return AttestationStatus(self.status).label


def standing_of(record: Model, today: datetime.date) -> Standing:
    """The attestation of one record (two queries)."""
    model = type(record)
    row = with_attestation(model._base_manager.filter(pk=record.pk), today).values(
        "attested_at", "attested_by_id", "broken_by_id", "attestation_status"
    )[0]
    broken_by = (
        ObjectChange.objects.select_related("user").get(pk=row["broken_by_id"])
        if row["broken_by_id"]
        else None
    )
    valid_until = None
    if row["attested_at"] is not None:
        months = settings.PORTICO_ATTESTATION_MONTHS[kind_of(model)]
        attested_on = timezone.localdate(row["attested_at"])
        valid_until = months_before(attested_on, -months)
    return Standing(
        status=row["attestation_status"],
        attested_at=row["attested_at"],
        attested_by_id=row["attested_by_id"],
        broken_by=broken_by,
        valid_until=valid_until,
    )


@dataclass(frozen=True)
class Due:
    """A record its owner must confirm (again): ``status`` is due or check_needed;
    ``broken_by_id`` names the change record that broke it."""

    kind: str
    record: Model
    status: str
    attested_at: datetime.datetime | None
    broken_by_id: int | None


def due_or_broken(today: datetime.date) -> list[Due]:
    """Every record of every attested kind whose confirmation is due (expired) or broken
    (check needed) on ``today``, with its owner loaded (``record.owner``): one query per
    kind. Records never attested are left out: they have no confirmation to lapse."""
    found = []
    for kind, model in ATTESTED_KINDS.items():
        rows = with_attestation(
            model._default_manager.filter(in_use(model)).select_related("owner"), today
        ).filter(attestation_status__in=NEEDS_OWNER)
        for record in rows.order_by("pk"):
            found.append(
                Due(
                    kind=kind,
                    record=record,
                    status=record.attestation_status,
                    attested_at=record.attested_at,
                    broken_by_id=record.broken_by_id,
                )
            )
    return found
