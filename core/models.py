import copy
import datetime
import functools
import json
import operator
from collections.abc import Callable
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField
from django.contrib.postgres.fields import RangeBoundary
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import get_script_prefix
from django.urls import get_urlconf
from django.urls import reverse

from core.choices import ChangeAction
from core.choices import Channel
from core.choices import SyncSessionState
from core.permissions import RestrictedQuerySet
from core.rules import ENDS_BEFORE_START
from core.slugs import validate_not_reserved


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


@functools.lru_cache(maxsize=512)
def _route(view: str, prefix: str, urlconf: Any) -> Callable[[Any], str]:
    """The address of ``view`` from its one argument, reversed once under ``prefix`` (the
    script's) and ``urlconf`` (the request's), which reversing reads too."""
    placeholder = "9081726354"  # matches an int, a slug and a str converter alike
    head, _, tail = reverse(view, args=[placeholder]).partition(placeholder)
    return lambda key: f"{head}{key}{tail}"


class ChangeLoggedModel(TimestampedModel):
    """Opt a model into the change log by inheriting from this class.

    The values loaded from the database are remembered, so a save records what changed
    (and a save that changes nothing records nothing).

    A record is called by its name where it has a ``name`` field, and its page is the view
    ``<app label>:<model name>_detail`` taking the record's ``url_key``; a model whose page
    is named otherwise declares ``url_name``, one addressed otherwise overrides
    ``get_absolute_url``.
    """

    objects = RestrictedQuerySet.as_manager()

    # Fields left out of change records: bookkeeping, not portfolio data.
    changelog_exclude: tuple[str, ...] = ("created_at", "updated_at")
    # The attribute that names the record in its page's address: "pk", "slug", a property.
    url_key: str = "pk"
    # The page's view, when it is not "<app label>:<model name>_detail".
    url_name: str = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        for field in self._meta.concrete_fields:
            if field.name == "name":
                return field.value_from_object(self)
        return super().__str__()

    def get_absolute_url(self) -> str:
        return self.url_of_key()(getattr(self, self.url_key))

    @classmethod
    def url_of_key(cls) -> Callable[[Any], str]:
        """The page address of a record of this model from its ``url_key`` value alone, the
        route reversed once per process (and script prefix): a list of records reverses no
        URL per row. The keys are numbers or slugs, which an address carries as they are."""
        view = cls.url_name or f"{cls._meta.app_label}:{cls._meta.model_name}_detail"
        return _route(view, get_script_prefix(), get_urlconf(settings.ROOT_URLCONF))

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if len(values) == len(cls._meta.concrete_fields):
            field_names = [field.attname for field in cls._meta.concrete_fields]
        # A value that can change in place (a JSON field's) is copied now; the snapshot is
        # written out only when a save asks for it: a page listing 1,000 records saves none,
        # and the snapshot was most of the cost of loading them.
        instance.__dict__["_loaded_values"] = {
            name: copy.deepcopy(value)
            if isinstance(value, dict | list | set | bytearray)
            else value
            for name, value in zip(field_names, values, strict=True)
            if value is not models.DEFERRED
        }
        return instance

    @property
    def _loaded_snapshot(self) -> dict[str, Any]:
        """The snapshot as loaded or last saved (core.signals); absent (AttributeError) on
        a record never loaded."""
        try:
            return self.__dict__["_snapshot"]
        except KeyError:
            pass
        try:
            loaded = self.__dict__["_loaded_values"]
        except KeyError:
            raise AttributeError("_loaded_snapshot") from None
        snapshot = self._snapshot_of(loaded)
        self.__dict__["_snapshot"] = snapshot
        return snapshot

    @_loaded_snapshot.setter
    def _loaded_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.__dict__["_snapshot"] = snapshot

    def changelog_snapshot(self) -> dict:
        return self._snapshot_of(self.__dict__)

    def _snapshot_of(self, values: dict[str, Any]) -> dict:
        """The change log's copy of ``values`` (by attname) of the fields it records."""
        data = {}
        for field in self._meta.concrete_fields:
            if field.name in self.changelog_exclude or field.attname not in values:
                continue
            data[field.attname] = values[field.attname]
        return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def unique_external_id(model_name: str) -> models.UniqueConstraint:
    """The constraint of every SyncedModel: one record per (source, external id)."""
    return models.UniqueConstraint(
        fields=["source", "external_id"],
        condition=~models.Q(external_id=""),
        name=f"{model_name}_unique_external_id",
    )


class SyncedModel(ChangeLoggedModel):
    """A record a CMDB can own: keyed by (source, external_id) when it comes from one."""

    source = models.CharField(max_length=100, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        abstract = True
        # Inherited with this Meta; a model that lists constraints of its own names
        # unique_external_id among them.
        constraints = [unique_external_id("%(class)s")]


def exactly_one_of(names: Sequence[str]) -> models.Q:
    """A check constraint's condition: exactly one of the references ``names`` is set."""
    return functools.reduce(
        operator.or_,
        (models.Q(**{f"{name}__isnull": name != chosen for name in names}) for chosen in names),
    )


def protected_reference(to, related_name: str, **options: Any) -> models.ForeignKey:
    """An optional reference to a record that is retired, not deleted, while it is named.

    PROTECT: deleting the record would take this one's history with it, so the deletion is
    refused (core.services.delete_or_retire retires the record instead).
    """
    options = {"null": True, "blank": True, **options}
    return models.ForeignKey(to, on_delete=models.PROTECT, related_name=related_name, **options)


def driver_reference(related_name: str) -> models.ForeignKey:
    """The optional driver (finance.Driver) of an allocation edge: without one the edge's
    weight counts. PROTECT: a driver that edges follow is retired, not deleted."""
    return models.ForeignKey(
        "finance.Driver",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
        help_text=(
            "Share by the consumers' quantities of this driver in each month instead of the "
            "weight. The edges of one source in force together are all driven by the same "
            "driver, or none is."
        ),
    )


def accountable_user(related_name: str, **options: Any) -> models.ForeignKey:
    """The person a record answers to (its owner, who rated it); optional unless null=False.

    PROTECT: accountability is handed over on purpose, never lost with a deleted account.
    """
    return protected_reference(settings.AUTH_USER_MODEL, related_name, **options)


def acting_user(**options: Any) -> models.ForeignKey:
    """Who did what a record remembers: made a change, closed a period, asked for a run.

    SET_NULL: the account may go; what was done, and when, stays.
    """
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        **options,
    )


class ImportedFile(models.Model):
    """What a file import (a services function reading an uploaded file) last wrote for one
    period: the file, a digest of its lines and of the rules they were mapped with (the same
    lines under the same rules write nothing), the count and totals of its lines, who
    imported it and when. Importing the period again replaces it. Its lines name it, each
    with the rule that took it (``rule_taking_lines``) and the cost item it is booked in
    (``booked_cost_item``)."""

    file_name = models.CharField(max_length=300, blank=True)
    # Of the lines as read and of the rules they were mapped with.
    digest = models.CharField(max_length=64)
    line_count = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict)
    imported_at = models.DateTimeField()
    imported_by = acting_user()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True


# An imported line's lineage: the rule that took it and the cost item it is part of (from a
# TCO figure back to its lines). No database constraint: the import writes both from rows it
# has just read or written, in one transaction, and a million lines need no two more lookups
# each; deletes go through Django's SET_NULL.


def rule_taking_lines(rule_model) -> models.ForeignKey:
    """The rule that took an imported line; none: no rule did (the line is unmapped)."""
    return models.ForeignKey(
        rule_model,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lines",
        db_constraint=False,
    )


def booked_cost_item(related_name: str) -> models.ForeignKey:
    """The finance cost item an imported line is booked in."""
    return models.ForeignKey(
        "finance.CostItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        db_constraint=False,
    )


class ObjectChange(models.Model):
    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = acting_user()
    user_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    source = models.CharField(max_length=100, blank=True)
    request_id = models.UUIDField(db_index=True)
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    # PROTECT: a content type referenced by history must not vanish with its history.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-time"])]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"

    @property
    def changed_fields(self) -> list[tuple[str, object, object]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class RetirableModel(models.Model):
    """Something referenced by cost or history is retired, never deleted."""

    retired_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


def in_force_on(
    day: datetime.date, *, start: str = "valid_from", end: str = "valid_to"
) -> models.Q:
    """Records in force on ``day``: started by it (or with no start) and not ended before it
    (or with no end), both days inclusive. The roll-up asks it for the middle day of a month
    (a contract, a subscription, an edge counts in a month when it is in force on the 15th),
    the pages for today."""
    return (models.Q(**{f"{start}__isnull": True}) | models.Q(**{f"{start}__lte": day})) & (
        models.Q(**{f"{end}__isnull": True}) | models.Q(**{f"{end}__gte": day})
    )


class DateRange(models.Func):
    """``daterange(lower, upper, '[]')``: a record's days, both ends inclusive, open where a
    bound is empty (for the overlap exclusion constraints)."""

    function = "DATERANGE"
    output_field = DateRangeField()


class EffectiveDatedModel(models.Model):
    """An edge in force from ``valid_from`` to ``valid_to``, both days inclusive; an empty
    date is open (since always, until further notice). Two edges of one pair never overlap
    (``effective_dated_constraints``)."""

    valid_from = models.DateField(
        null=True, blank=True, help_text="The first day it counts; empty: since always."
    )
    valid_to = models.DateField(
        null=True, blank=True, help_text="The last day it counts; empty: until further notice."
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": ENDS_BEFORE_START})

    @property
    def timing(self) -> str:
        """ "ended" or "not yet in force" today; "" while in force."""
        from django.utils import timezone

        today = timezone.localdate()
        if self.has_ended_by(today):
            return "ended"
        if self.starts_after(today):
            return "not yet in force"
        return ""

    def has_ended_by(self, day: datetime.date) -> bool:
        return self.valid_to is not None and self.valid_to < day

    def starts_after(self, day: datetime.date) -> bool:
        return self.valid_from is not None and self.valid_from > day


def mark_shares_in_force(edges: list) -> None:
    """Set ``share_percent`` on each edge (a page's rows of one parent): its weight's share of
    the weights of the edges in force today, in percent; None for an edge not in force today
    (ended or not yet started), when those weights add up to nothing, and when the edges in
    force are driven."""
    total = sum((edge.weight for edge in edges if not edge.timing), start=Decimal(0))
    # Driven edges share by each month's quantities (docs/tco.md): no share by weight today.
    driven = any(getattr(edge, "driver_id", None) for edge in edges if not edge.timing)
    for edge in edges:
        in_force = total and not edge.timing and not driven
        edge.share_percent = 100 * edge.weight / total if in_force else None


def ends_after_start(prefix: str) -> models.CheckConstraint:
    """The database's check that an effective-dated edge does not end before it starts."""
    return models.CheckConstraint(
        condition=models.Q(valid_from__isnull=True)
        | models.Q(valid_to__isnull=True)
        | models.Q(valid_to__gte=models.F("valid_from")),
        name=f"{prefix}_ends_after_start",
        violation_error_message=ENDS_BEFORE_START,
    )


def no_overlap(
    prefix: str, pair: tuple[str, str], message: str, *, condition: models.Q | None = None
) -> ExclusionConstraint:
    """The database's check that no two effective-dated edges of the same ``pair`` (field
    names) are in force on one day. Checked at the end of each statement, so one statement
    may end an edge and start its successor (a sync batch); services.py refuses an overlap
    first, in words."""
    return ExclusionConstraint(
        name=f"{prefix}_no_overlap",
        expressions=[
            (pair[0], RangeOperators.EQUAL),
            (pair[1], RangeOperators.EQUAL),
            (
                DateRange(
                    "valid_from",
                    "valid_to",
                    RangeBoundary(inclusive_lower=True, inclusive_upper=True),
                ),
                RangeOperators.OVERLAPS,
            ),
        ],
        condition=condition,
        deferrable=models.Deferrable.IMMEDIATE,
        violation_error_message=message,
    )


def effective_dated_constraints(
    prefix: str, pair: tuple[str, str], message: str
) -> list[models.BaseConstraint]:
    """Both checks of an effective-dated edge between ``pair``."""
    return [ends_after_start(prefix), no_overlap(prefix, pair, message)]


class SluggedModel(SyncedModel):
    """A record known by its name and found at ``/<section>/<slug>/``, listed by name.

    Declared after RetirableModel: fields are ordered as declared, so a model that is both
    keeps ``retired_at`` before ``name`` and ``slug``.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, validators=[validate_not_reserved])

    url_key = "slug"

    class Meta(SyncedModel.Meta):
        abstract = True
        ordering = ["name"]


class ApiToken(models.Model):
    """A per-user API token (core.api.tokens): only a digest of its secret is stored.

    Read-only unless created with write rights; it never grants more than its user has.
    """

    # CASCADE: a token is a credential of its user and means nothing without them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for.")
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    write = models.BooleanField(default=False, help_text="May change data, not only read it.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name or 'token'} (ptk_{self.prefix}_…)"

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired and self.user.is_active


class SyncSession(models.Model):
    """A sync sent in several requests and written at once, when it is committed: a full
    sync larger than one request retires only what the whole export left out
    (core.api.sessions). Not committed by ``expires_at``, it expires and its items go."""

    # CASCADE: a session is its opener's unfinished work, nobody else's to finish.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sync_sessions"
    )
    resource = models.CharField(max_length=100)
    source = models.CharField(max_length=100)
    mode = models.CharField(max_length=10)
    state = models.CharField(
        max_length=10, choices=SyncSessionState.choices, default=SyncSessionState.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    batch_count = models.PositiveIntegerField(default=0)
    item_count = models.PositiveIntegerField(default=0)
    # What the commit wrote (created, updated, unchanged, retired, deleted), or why it failed
    counts = models.JSONField(default=dict, blank=True)
    failure = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"sync session {self.pk} ({self.resource} from {self.source}, {self.state})"


class SyncSessionBatch(models.Model):
    """One batch of a session's items as it was sent: a JSONB row, read back at commit."""

    session = models.ForeignKey(SyncSession, on_delete=models.CASCADE, related_name="batches")
    position = models.PositiveIntegerField()
    first_index = models.PositiveIntegerField()  # of its first item in the whole session
    items = models.JSONField()

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "position"], name="core_syncsessionbatch_unique_position"
            )
        ]

    def __str__(self):
        return f"batch {self.position} of sync session {self.session_id}"
