"""The bulk sync engine: ``POST /api/v1/sync/<resource>/``.

A batch is validated and written in bulk, never object by object:

1. each item is read against the resource's field specs (core.api.items: types, choices,
   lengths, decimals, unknown fields);
2. references are resolved with one query per referenced model (core.api.references);
3. the stored rows the items match are fetched with one query (a full sync adds one for the
   rest of the source): an item whose key reads is matched even if its other fields do not;
4. rights are asked per item before its values count, as a single write asks them before it
   reads its body (core.permissions: the rule every view and single write asks): whether
   the user may change the stored record the item matches, or add such records at all. An
   item they may not write is refused (403, its field errors not told) unless it turns out
   unchanged, which needs no right;
5. each item is merged onto its stored row (or the defaults); the rights are asked on the row
   it asks for (the parent it is added under or moved to) before the rules, as a single
   write does; the model's write rules run on the whole batch (core.rules: the same rules
   its services.py functions apply to one record, with facts loaded for the batch at once),
   and the model's own ``clean()`` runs on new and changed rows only;
6. new and changed rows are written by one ``INSERT … ON CONFLICT (id) DO UPDATE`` per batch,
   and their change records by one ``COPY`` into the change log (core.changelog), all in one
   transaction;
7. ``rows_synced`` is sent with the rows written, still inside that transaction: rows
   written with SQL send no ``post_save`` or ``post_delete``, so what other apps do after a
   change (finance schedules a TCO recomputation) listens to this signal as well.

An item identical to its stored row writes nothing, logs nothing and needs no right. An item
the user may not write fails the whole batch (403, every such item listed by index); else
any invalid item fails it (400, every bad item listed by index and field); either way
nothing is written.

Two entry points:

- ``sync(resource, *, user, source, mode, items, allow_mass_retire=False, adopt=False,
  dry_run=False, channel=Channel.SYNC)``: one batch of at most MAX_ITEMS items (one
  request of ``POST /api/v1/sync/<resource>/``); more is refused with 413.
- ``sync_many(...)``, the same arguments plus ``progress``: any number of items, in chunks
  of MAX_ITEMS (steps 1 to 7 per chunk) inside ONE transaction, for a sync session or an
  import. A chunk sees the rows the chunks before it wrote; a key is sent once in the whole
  run. Errors name the item's index in the whole list (``items.<i>.<field>``), every
  chunk's problems are listed (a chunk after a failing one is checked but not written),
  and any problem rolls back every chunk. In ``full`` mode the records to retire are
  computed ONCE, after the last chunk, over all items, and the 20 % guard weighs them
  against the whole source as the run found it. The answer is one: counts, the outcome of
  every item in order, the retirements. ``progress(done, total)`` is called after each
  chunk. ``sync()`` is its one-chunk case.

``dry_run=True`` does everything (reads, rights, rules, the 409 guards, the retirements) and
answers the same, with ``"dry_run": true``, then rolls its transaction (or savepoint) back:
no row, no change record, and the on_commit callbacks registered inside (a TCO
recomputation, queued tasks) are discarded with it. ``channel`` is what the change log
records the changes as (Channel.IMPORT for a file import).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db import models
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.dispatch import Signal
from django.template.defaultfilters import pluralize
from django.utils import timezone
from psycopg.types.json import Jsonb

from core import changelog
from core import context
from core import permissions
from core import rules
from core.api.errors import Conflict
from core.api.errors import Forbidden
from core.api.errors import Invalid
from core.api.errors import PayloadTooLarge
from core.api.errors import django_errors
from core.api.fields import RECORD
from core.api.fields import snapshot_value
from core.api.items import missing_required
from core.api.items import parse_item
from core.api.references import Resolver
from core.choices import ChangeAction
from core.choices import Channel
from core.models import RetirableModel

MAX_ITEMS = 5000
# A full sync that would retire more than this share of the source's records is refused
# unless the request allows it: a truncated export must not retire half the portfolio.
MASS_RETIRE_SHARE = 0.2
UPSERT, FULL = "upsert", "full"
MODES = (UPSERT, FULL)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
RETIRED, DELETED = "retired", "deleted"

# Sent by a sync batch that wrote rows with SQL, inside its transaction before it commits
# (a receiver defers its own side effects with transaction.on_commit, and a batch that is
# rolled back takes them with it). Arguments: ``sender`` the model, ``resource``, ``source``,
# and ``changes``: a list of (before, after) rows by attname (``period_id``), before None
# for a created row, after None for a deleted one. Records retired or deleted through model
# methods (a resource's ``retire``, or a delete that cascades) send the model's own signals
# instead and are not in ``changes``.
rows_synced = Signal()

# Told after each chunk: (items done, items in all)
Progress = Callable[[int, int], None]


@dataclass(eq=False)
class Entry:
    """One item of the batch on its way to the database."""

    index: int
    values: dict
    refs: dict
    given: set
    key: tuple = ()
    existing: dict | None = None
    row: dict = field(default_factory=dict)
    instance: models.Model | None = None  # made by _clean for a new or changed entry
    outcome: str = ""
    # Why the user may not write this item at all (the stored record, or such records): it
    # is refused unless it turns out unchanged.
    locked: str = ""

    @property
    def is_new(self) -> bool:
        return self.existing is None

    def provided(self, name: str) -> bool:
        return name in self.given


class Batch:
    """The entries of one sync run on their way to the database, and the errors found."""

    def __init__(
        self,
        resource,
        *,
        user,
        source: str,
        now,
        resolver: Resolver,
        offset: int = 0,
        seen: dict[tuple, int] | None = None,
    ):
        self.resource = resource
        # The index of the chunk's first item in the whole run: errors name global indexes.
        self.offset = offset
        # The first index of each valid key, over the whole run: a key is sent once.
        self.seen: dict[tuple, int] = {} if seen is None else seen
        self.user = user
        self.source = source
        self.now = now
        self.resolver = resolver
        # One writer for every Change of the batch: a Change made without one makes its own,
        # and with it a timezone.now() call per item.
        self.writer = rules.Writer(user=user, now=now)
        self.entries: list[Entry] = []
        self.errors: dict[str, list[str]] = {}
        self._bad: set[int] = set()
        # Items the user may not write, by path: the 403's errors (their field errors untold)
        self.refused: dict[str, list[str]] = {}
        self._refused: set[int] = set()
        # (before, after) of every row written with SQL, for ``rows_synced``
        self.changes: list[tuple[dict | None, dict | None]] = []

    def error(self, entry: Entry, field_name: str, message: str) -> None:
        path = f"items.{entry.index}.{field_name}" if field_name else f"items.{entry.index}"
        self.errors.setdefault(path, []).append(message)
        self._bad.add(entry.index)

    def refuse(self, entry: Entry, message: str) -> None:
        self.refused[f"items.{entry.index}"] = [message]
        self._refused.add(entry.index)

    def valid_entries(self) -> list[Entry]:
        left_out = self._bad | self._refused
        return [e for e in self.entries if e.index not in left_out]

    def is_valid(self, entry: Entry) -> bool:
        return entry.index not in self._bad


class Run:
    """What the chunks of one run add up to: their entries, errors and the records matched."""

    def __init__(self, *, source: str, total: int):
        self.source = source
        self.total = total
        self.entries: list[Entry] = []
        self.errors: dict[str, list[str]] = {}
        self.refused: dict[str, list[str]] = {}
        self.seen: dict[tuple, int] = {}
        # id -> the row as it was before the run, for every record an item matched
        self.matched: dict[int, dict] = {}
        self.created: set[int] = set()

    def add(self, batch: Batch) -> None:
        for entry in batch.entries:
            self.entries.append(entry)
            if entry.existing is not None:
                self.matched[entry.existing["id"]] = entry.existing
            elif entry.outcome == CREATED:
                self.created.add(entry.row["id"])


class _DryRunDone(Exception):
    """Raised out of a dry run's transaction to roll it back; carries the answer."""

    def __init__(self, answer: dict):
        super().__init__("dry run")
        self.answer = answer


@dataclass
class SyncResult:
    source: str
    mode: str
    items: list = field(default_factory=list)
    retirements: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "mode": self.mode,
            **self.counts,
            "items": self.items,
            "retirements": self.retirements,
        }


class Engine:
    def __init__(self, resource):
        self.resource = resource
        self.model = resource.model
        opts = self.model._meta
        self.table = opts.db_table
        self.concrete = list(opts.concrete_fields)
        self.attnames = [f.attname for f in self.concrete]
        self.snapshot_fields = [
            f.attname for f in self.concrete if f.name not in self.model.changelog_exclude
        ]
        self.records = [s for s in resource.writable.values() if s.kind == RECORD]
        self.key_specs = [resource.writable[name] for name in resource.key]
        self.defaulted = [
            f for f in self.concrete if f.attname not in ("id", "created_at", "updated_at")
        ]
        if resource.writes is None:
            raise ImproperlyConfigured(f"API resource {resource.name} is read-only: no sync.")
        if not (resource.is_link or resource.is_synced):
            raise ImproperlyConfigured(
                f"API resource {resource.name}: a sync needs a key, (source, external_id) "
                "from SyncedModel or the references of a link resource."
            )
        self.error_names = dict(resource.writes.error_names)

    # --- the whole run ----------------------------------------------------------------------

    def run(
        self,
        *,
        user,
        source: str,
        mode: str,
        items: list,
        allow_mass_retire: bool,
        adopt: bool = False,
        dry_run: bool = False,
        channel: str = Channel.SYNC,
        progress: Progress | None = None,
    ) -> dict:
        """Sync ``items`` in chunks of MAX_ITEMS inside one transaction; a dry run rolls it
        back (its savepoint, when called inside a transaction) and answers all the same."""
        try:
            with (
                transaction.atomic(),
                context.change_context(user=user, channel=channel, source=source),
            ):
                answer = self._run(
                    user=user,
                    source=source,
                    mode=mode,
                    items=items,
                    allow_mass_retire=allow_mass_retire,
                    adopt=adopt,
                    progress=progress,
                )
                if dry_run:
                    answer["dry_run"] = True
                    # Leaving the block by an exception rolls back every row, change record
                    # and on_commit callback (a TCO recomputation, queued tasks) made in it.
                    raise _DryRunDone(answer)
        except _DryRunDone as done:
            return done.answer
        answer["dry_run"] = False
        return answer

    def _run(
        self,
        *,
        user,
        source: str,
        mode: str,
        items: list,
        allow_mass_retire: bool,
        adopt: bool,
        progress: Progress | None,
    ) -> dict:
        self._lock(source)
        now = timezone.now()
        run = Run(source=source, total=len(items))
        for start in range(0, len(items), MAX_ITEMS):
            chunk = items[start : start + MAX_ITEMS]
            batch = Batch(
                self.resource,
                user=user,
                source=source,
                now=now,
                resolver=Resolver(user=user),
                offset=start,
                seen=run.seen,
            )
            self._check(batch, chunk, adopt, rules.Writer(user=user, now=now))
            run.refused.update(batch.refused)
            run.errors.update(batch.errors)
            if not (run.refused or run.errors):
                # A chunk after a failed one is checked, for a complete answer, but not
                # written: the whole run is rolled back anyway.
                self._write(batch, now)
                if batch.changes:
                    rows_synced.send(
                        sender=self.model,
                        resource=self.resource,
                        source=source,
                        changes=batch.changes,
                    )
                run.add(batch)
            if progress is not None:
                progress(start + len(chunk), len(items))
        if run.refused:
            raise Forbidden(
                f"You may not write {len(run.refused)} of these items; nothing was written.",
                errors=run.refused,
            )
        if run.errors:
            bad = len({path.split(".")[1] for path in run.errors if path.count(".") >= 1})
            total = len(items)
            raise Invalid(
                f"{bad} of {total} item{pluralize(total)} "
                f"{'is' if bad == 1 else 'are'} invalid; nothing was written.",
                errors=run.errors,
            )
        retirements: list[dict] = []
        if mode == FULL:
            final = Batch(
                self.resource,
                user=user,
                source=source,
                now=now,
                resolver=Resolver(user=user),
                offset=len(items),
                seen=run.seen,
            )
            retirees = self._retirees(final, run, allow_mass_retire)
            if retirees:
                retirements = self._retire(final, retirees, now)
            if final.changes:
                rows_synced.send(
                    sender=self.model, resource=self.resource, source=source, changes=final.changes
                )
        return self._result(run, source, mode, retirements)

    def _check(self, batch: Batch, items: list, adopt: bool, writer) -> None:
        """Steps 1 to 5 on one chunk: its errors and refusals end up on ``batch``."""
        self._read(batch, items)
        self._resolve(batch)
        self._key(batch)
        self._match(batch)
        if self.resource.is_link and not adopt:
            self._keep_other_sources_links(batch)
        self._ask_rights(batch)
        self._merge(batch)
        self._check_rights(batch)
        self._apply_rules(batch, writer)
        self._classify(batch)
        self._clean(batch)
        self._refuse_locked(batch)

    def _lock(self, source: str) -> None:
        """One sync per (table, source) at a time: the second waits for the first."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                [f"portico-sync:{self.table}:{source}"],
            )

    # --- 1. items -----------------------------------------------------------------------

    def _read(self, batch: Batch, items: list) -> None:
        resource = self.resource
        synced_key = not resource.is_link
        for index, item in enumerate(items, start=batch.offset):
            prefix = f"items.{index}."
            values, refs, given, errors = parse_item(resource, item, prefix=prefix)
            entry = Entry(index=index, values=values, refs=refs, given=given)
            batch.entries.append(entry)
            if errors:
                batch.errors.update(errors)
                batch._bad.add(index)
                continue
            if resource.is_synced:
                if "source" in values and values["source"] != batch.source:
                    batch.error(entry, "source", "Items carry the payload's source (or none).")
                values["source"] = batch.source
            if synced_key and not values.get("external_id"):
                batch.error(entry, "external_id", "Each item needs its external_id: its key.")
            for spec in self.key_specs:
                if not spec.nullable and refs.get(spec.name) is None:
                    batch.error(entry, spec.name, "This field is required: it is the item's key.")

    # --- 2. references ------------------------------------------------------------------

    def _resolve(self, batch: Batch) -> None:
        # Every item's references, the invalid ones' too: the answer lists all problems.
        entries = batch.entries
        resolved = batch.resolver.resolve_items(
            self.resource, [e.refs for e in entries], default_source=batch.source
        )
        for entry, (values, errors) in zip(entries, resolved, strict=True):
            entry.values.update(values)
            for name, message in errors.items():
                batch.error(entry, name, message)

    # --- 3. keys and the stored rows ----------------------------------------------------------

    def _key(self, batch: Batch) -> None:
        """Each item's key, if it reads (an item bad elsewhere too: its stored record decides
        the rights it needs); two valid items with one key are refused, in any chunks."""
        seen = batch.seen
        for entry in batch.entries:
            key = self._key_of_entry(batch, entry)
            if key is None:
                continue
            entry.key = key
            if not batch.is_valid(entry):
                continue
            if entry.key in seen:
                field_name = self.key_specs[-1].name if self.resource.is_link else "external_id"
                batch.error(
                    entry, field_name, f"Item {seen[entry.key]} has the same key: send each once."
                )
            else:
                seen[entry.key] = entry.index

    def _key_of_entry(self, batch: Batch, entry: Entry) -> tuple | None:
        """The item's key, or None if a field of it is missing or bad."""
        link = self.resource.is_link
        names = [spec.name for spec in self.key_specs] if link else ["external_id"]
        if any(f"items.{entry.index}.{name}" in batch.errors for name in names):
            return None
        values = entry.values
        if not link:
            return (values["external_id"],) if values.get("external_id") else None
        if any(not s.nullable and values.get(s.attname) is None for s in self.key_specs):
            return None
        return tuple(values.get(spec.attname) for spec in self.key_specs)

    def _key_of_row(self, row: dict) -> tuple:
        if self.resource.is_link:
            return tuple(row[spec.attname] for spec in self.key_specs)
        return (row["external_id"],)

    def _match(self, batch: Batch) -> None:
        entries = [e for e in batch.entries if e.key]
        if not entries:
            return
        manager = self.model._base_manager
        if self.resource.is_link:
            first = self.key_specs[0].attname
            rows = manager.filter(**{f"{first}__in": {e.key[0] for e in entries}}).values(
                *self.attnames
            )
        else:
            rows = manager.filter(
                source=batch.source, external_id__in=[e.key[0] for e in entries]
            ).values(*self.attnames)
        stored = {self._key_of_row(row): row for row in rows}
        for entry in entries:
            entry.existing = stored.get(entry.key)
        if self.resource.is_link:
            self._check_link_external_ids(batch, [e for e in entries if batch.is_valid(e)])

    def _keep_other_sources_links(self, batch: Batch) -> None:
        """A link another source sent is that source's: taking it over is said, not done
        silently (``"adopt": true``); one made in the browser (no source) is adopted."""
        for entry in batch.valid_entries():
            owner = (entry.existing or {}).get("source")
            if owner and owner != batch.source:
                batch.error(
                    entry,
                    "source",
                    f"This {self.resource.verbose_name} belongs to source “{owner}”: send the "
                    'batch with "adopt": true to make it this source\'s.',
                )

    def _check_link_external_ids(self, batch: Batch, entries: list[Entry]) -> None:
        """A link's external id (optional) must not belong to another link of the source."""
        wanted = {e.values["external_id"]: e for e in entries if e.values.get("external_id")}
        if not wanted:
            return
        for pk, external_id in self.model._base_manager.filter(
            source=batch.source, external_id__in=list(wanted)
        ).values_list("pk", "external_id"):
            entry = wanted[external_id]
            if entry.existing is None or entry.existing["id"] != pk:
                batch.error(entry, "external_id", "Another record of this source has it.")

    # --- 4. rights, before the values count ---------------------------------------------------

    def _ask_rights(self, batch: Batch) -> None:
        """Whether the user may write each item at all, asked before its values count, as a
        single write asks before it reads its body (core.api.writes.may_write_at_all): an item
        matching a stored record needs the right to change that record; any other (new, or
        whose key does not read) the right to add such records. An item refused here is
        refused unless it turns out unchanged (_refuse_locked): its field errors and its
        rules' are not told to someone who may not write it."""
        stored = [(e, e.existing) for e in batch.entries if e.existing is not None]
        changes = [rules.Change(row=row, before=row, writer=batch.writer) for _, row in stored]
        verdicts = permissions.refusals(batch.user, "change", self.model, changes)
        for (entry, _), verdict in zip(stored, verdicts, strict=True):
            entry.locked = verdict or ""
        others = [e for e in batch.entries if e.existing is None]
        if others:
            try:
                permissions.require(batch.user, "add", self.model)
            except PermissionDenied as exc:
                for entry in others:
                    entry.locked = str(exc)

    def _check_rights(self, batch: Batch) -> None:
        """The rights on the row each item asks for, before the rules run, as a single write
        asks them once its body is read: the parents a new record is added under, the parent
        an existing one is moved to (core.permissions.refusals, in bulk)."""
        writable = [e for e in batch.valid_entries() if not e.locked]
        for action, entries in (
            ("add", [e for e in writable if e.existing is None]),
            ("change", [e for e in writable if e.existing is not None and e.row != e.existing]),
        ):
            changes = [
                rules.Change(row=e.row, before=e.existing, writer=batch.writer) for e in entries
            ]
            verdicts = permissions.refusals(batch.user, action, self.model, changes)
            for entry, verdict in zip(entries, verdicts, strict=True):
                if verdict is not None:
                    batch.refuse(entry, verdict)

    def _refuse_locked(self, batch: Batch) -> None:
        """An item the user may not write is refused unless it is valid and unchanged."""
        for entry in batch.entries:
            if entry.locked and not (batch.is_valid(entry) and entry.outcome == UNCHANGED):
                batch.refuse(entry, entry.locked)

    # --- 5. merge, rules, changes ---------------------------------------------------------------

    def _merge(self, batch: Batch) -> None:
        retirable = issubclass(self.model, RetirableModel)
        resource = self.resource
        defaults = {f.attname: f.get_default() for f in self.defaulted}
        for entry in batch.valid_entries():
            if entry.existing is None:
                missing = missing_required(resource, entry.given, prefix=f"items.{entry.index}.")
                if missing:
                    batch.errors.update(missing)
                    batch._bad.add(entry.index)
                    continue
                row = dict(defaults)
                row["id"] = None
            else:
                row = dict(entry.existing)
                # Sent again, so it exists again at the source: bring it back.
                if retirable and row.get("retired_at") is not None:
                    row["retired_at"] = None
            row.update(entry.values)
            entry.row = row

    def _apply_rules(self, batch: Batch, writer: rules.Writer) -> None:
        """The model's write rules on every valid entry at once (core.rules)."""
        entries = batch.valid_entries()
        changes = [
            rules.Change(row=e.row, before=e.existing, writer=writer, index=e.index)
            for e in entries
        ]
        rules.apply(self.model, changes)
        for entry, change in zip(entries, changes, strict=True):
            for field_name, messages in change.errors.items():
                for message in messages:
                    batch.error(entry, self.error_names.get(field_name, field_name), message)

    def _classify(self, batch: Batch) -> None:
        # As a services.py function raises before full_clean(), an entry the bulk rules
        # refused is not cleaned: the answer is the same as for a single write.
        for entry in batch.valid_entries():
            if entry.existing is None:
                entry.outcome = CREATED
            elif entry.row != entry.existing:
                entry.outcome = UPDATED
            else:
                entry.outcome = UNCHANGED

    def _clean(self, batch: Batch) -> None:
        """The model's own rules (``clean()``) on every new or changed row."""
        changing = [
            e for e in batch.valid_entries() if e.outcome in (CREATED, UPDATED) and not e.locked
        ]
        instances = self._instances(batch.resolver, [e.row for e in changing])
        for entry, instance in zip(changing, instances, strict=True):
            if entry.existing is not None:
                instance._state.adding = False
            entry.instance = instance
            try:
                instance.clean()
            except DjangoValidationError as exc:
                for name, messages in django_errors(exc).items():
                    for message in messages:
                        batch.error(entry, self.error_names.get(name, name), message)

    # --- full sync: what the source no longer sends ------------------------------------------

    def _is_retired(self, row: dict) -> bool:
        if "retired_at" in row and row["retired_at"] is not None:
            return True
        retired_when = self.resource.writes.retired_when
        return bool(retired_when and retired_when(row))

    def _retirees(self, batch: Batch, run: Run, allow_mass_retire: bool) -> list[dict]:
        """The source's active records no item matched, read after the chunks were written:
        the records the run created are left out, and a matched record counts as it was
        before the run (the 20 % guard weighs the source as the run found it)."""
        rows = self.model._base_manager.filter(source=batch.source).values(*self.attnames)
        active, retirees = [], []
        for row in rows:
            if row["id"] in run.created:
                continue
            before = run.matched.get(row["id"])
            if self._is_retired(before if before is not None else row):
                continue
            active.append(row)
            if before is None:
                retirees.append(row)
        total = len(active)
        if retirees and not allow_mass_retire and len(retirees) > MASS_RETIRE_SHARE * total:
            raise Conflict(
                f"This full sync would retire {len(retirees)} of the {total} records of source "
                f"“{batch.source}” (more than {int(MASS_RETIRE_SHARE * 100)} %). If the export is "
                'complete, send it again with "allow_mass_retire": true.',
                errors={"items": [f"{len(retirees)} of {total} records would be retired."]},
                code="mass_retire",
            )
        if retirees:
            self._check_retire_rights(batch, retirees)
        return retirees

    def _check_retire_rights(self, batch: Batch, retirees: list[dict]) -> None:
        action = "change" if self.resource.is_retirable else "delete"
        changes = [rules.Change(row=row, before=row, writer=batch.writer) for row in retirees]
        verdicts = permissions.refusals(batch.user, action, self.model, changes)
        refused = [row for row, verdict in zip(retirees, verdicts, strict=True) if verdict]
        if refused:
            verb = "retire" if action == "change" else "remove"
            raise Forbidden(
                f"This full sync would {verb} {len(refused)} records you may not {verb}.",
                errors={
                    "items": [
                        f"You may not {verb} {self.resource.verbose_name} {row['id']}."
                        for row in refused[:50]
                    ]
                },
            )

    # --- 6. writing ------------------------------------------------------------------------

    def _write(self, batch: Batch, now) -> None:
        new = [e for e in batch.entries if e.outcome == CREATED]
        changed = [e for e in batch.entries if e.outcome == UPDATED]
        if not new and not changed:
            return
        with connection.cursor() as cursor:
            if changed:
                self._check_not_changed_meanwhile(cursor, changed)
            if new:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, len(new)],
                )
                for entry, (pk,) in zip(new, cursor.fetchall(), strict=True):
                    entry.row["id"] = pk
                    entry.row["created_at"] = now
                    assert entry.instance is not None  # _clean made it: the entry is new
                    entry.instance.pk = pk
            for entry in (*new, *changed):
                entry.row["updated_at"] = now
            self._upsert(cursor, [e.row for e in (*new, *changed)])
            batch.changes += [(entry.existing, entry.row) for entry in (*new, *changed)]
            ctx = context.current()
            self._load_what_names_read([e.instance for e in (*new, *changed)])
            changes = [
                self._change(ctx, entry.instance, ChangeAction.CREATE, None, entry.row, now)
                for entry in new
            ] + [
                self._change(
                    ctx, entry.instance, ChangeAction.UPDATE, entry.existing, entry.row, now
                )
                for entry in changed
            ]
            changelog.write_rows(changes)

    def _check_not_changed_meanwhile(self, cursor, changed: list[Entry]) -> None:
        """Lock the rows about to change; refuse if one changed since it was read."""
        read = {}
        for entry in changed:
            assert entry.existing is not None  # a changed entry was read from its row
            read[entry.existing["id"]] = entry.existing["updated_at"]
        cursor.execute(
            f'SELECT id, updated_at FROM "{self.table}" WHERE id = ANY(%s) FOR UPDATE',
            [list(read)],
        )
        moved = [pk for pk, updated_at in cursor.fetchall() if read.get(pk) != updated_at]
        if moved or cursor.rowcount != len(read):
            raise Conflict(
                "Records changed while this batch was being written: send it again.",
                code="concurrent_change",
            )

    def _upsert(self, cursor, rows: list[dict]) -> None:
        columns = self.attnames
        quoted = ", ".join(f'"{c}"' for c in columns)
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in self.concrete)
        updates = ", ".join(
            f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in ("id", "created_at")
        )
        sql = (
            f'INSERT INTO "{self.table}" ({quoted}) SELECT * FROM unnest({arrays}) '
            f'ON CONFLICT ("id") DO UPDATE SET {updates}'
        )
        json_columns = {f.attname for f in self.concrete if isinstance(f, models.JSONField)}
        cursor.execute(
            sql,
            [
                [None if row[c] is None else Jsonb(row[c]) for row in rows]
                if c in json_columns
                else [row[c] for row in rows]
                for c in columns
            ],
        )

    def _instance(self, row: dict):
        """A model instance of a row, for ``clean()`` and ``str()`` (positional: faster)."""
        return self.model(*[row.get(name) for name in self.attnames])

    def _instances(self, resolver: Resolver, rows: list[dict]) -> list:
        """Model instances of ``rows``, the records they refer to attached (read with one
        query per referenced model, or already resolved)."""
        for spec in self.records:
            resolver.ensure(spec.related_model, {row.get(spec.attname) for row in rows})
        instances = []
        for row in rows:
            instance = self._instance(row)
            for spec in self.records:
                related = resolver.instance(spec.related_model, row.get(spec.attname))
                if related is not None:
                    instance._state.fields_cache[spec.name] = related
            instances.append(instance)
        return instances

    @staticmethod
    def _load_what_names_read(instances: list) -> None:
        """Load in bulk the relations ``str()`` reads, so naming the records in the change
        log takes no query per row. The first name shows which relations it follows, on the
        instance or on a record it refers to (an assessment's name reads its party's
        customer); those are then read for all the instances at once."""
        if not instances:
            return
        first = instances[0]
        cache = first._state.fields_cache
        attached = {name: obj for name, obj in cache.items() if obj is not None}
        seen = {name: set(obj._state.fields_cache) for name, obj in attached.items()}
        own = set(cache)
        str(first)
        if followed := set(cache) - own:
            prefetch_related_objects(instances, *followed)
        for name, obj in attached.items():
            if followed := set(obj._state.fields_cache) - seen[name]:
                related = {id(o): o for i in instances if (o := i._state.fields_cache.get(name))}
                prefetch_related_objects(list(related.values()), *followed)

    @property
    def content_type_id(self) -> int:
        return ContentType.objects.get_for_model(self.model).pk

    def snapshot(self, row: dict) -> dict:
        return {name: snapshot_value(row[name]) for name in self.snapshot_fields}

    def _change(self, ctx, instance, action, before_row, after_row, now) -> tuple:
        return changelog.row(
            ctx,
            time=now,
            action=action,
            content_type_id=self.content_type_id,
            object_id=after_row["id"] if after_row is not None else before_row["id"],
            object_repr=str(instance),
            before=self.snapshot(before_row) if before_row is not None else None,
            after=self.snapshot(after_row) if after_row is not None else None,
        )

    def _retire_in_sets(
        self, batch: Batch, retirees: list[dict], values: dict, *, rules_apply: bool
    ) -> None:
        """Retire ``retirees`` with a number of statements that does not grow with them:
        the model's write rules run on each record's retirement (facts loaded for all at
        once, as for a batch), then ONE ``UPDATE … FROM unnest(…) … RETURNING`` writes every
        changed column and ONE ``COPY`` logs the changes."""
        now = batch.now
        afters = [{**row, **values} for row in retirees]
        if "updated_at" in self.attnames:
            for after in afters:
                after["updated_at"] = now
        if rules_apply:
            writer = rules.Writer(user=batch.user, now=now)
            changes = [
                rules.Change(row=after, before=row, writer=writer, index=row["id"])
                for row, after in zip(retirees, afters, strict=True)
            ]
            rules.apply(self.model, changes)
            refused = {
                f"retirements.{change.before['id']}.{name}": messages
                for change in changes
                if change.before is not None
                for name, messages in change.errors.items()
            }
            if refused:
                raise Invalid(
                    f"{len({k.split('.')[1] for k in refused})} of the records this full sync "
                    "would retire may not be retired; nothing was written.",
                    errors=refused,
                )
        columns = [
            f
            for f in self.concrete
            if f.attname != "id"
            and any(a[f.attname] != r[f.attname] for a, r in zip(afters, retirees, strict=True))
        ]
        names = ["id", *(f.attname for f in columns)]
        types = [self.model._meta.pk.db_type(connection), *(f.db_type(connection) for f in columns)]
        sets = ", ".join(f'"{n}" = v."{n}"' for n in names[1:])
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        returned = ", ".join(f't."{c}"' for c in self.attnames)
        alias = ", ".join(f'"{n}"' for n in names)
        json_columns = {f.attname for f in columns if isinstance(f, models.JSONField)}
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{self.table}" AS t SET {sets} FROM unnest({arrays}) AS v({alias}) '
                f"WHERE t.id = v.id RETURNING {returned}",
                [
                    [None if after[n] is None else Jsonb(after[n]) for after in afters]
                    if n in json_columns
                    else [after[n] for after in afters]
                    for n in names
                ],
            )
            written = {row[0]: dict(zip(self.attnames, row, strict=True)) for row in cursor}
        # Django has psycopg hand JSON columns over as text (its JSONField decodes them).
        every_json = [f.attname for f in self.concrete if isinstance(f, models.JSONField)]
        for after in written.values():
            for name in every_json:
                if isinstance(after[name], str):
                    after[name] = json.loads(after[name])
        if len(written) != len(retirees):
            raise Conflict(
                "Records changed while this full sync was retiring them: send it again.",
                code="concurrent_change",
            )
        afters = [written[row["id"]] for row in retirees]
        instances = self._instances(batch.resolver, afters)
        self._load_what_names_read(instances)
        ctx = context.current()
        changes_logged = []
        for row, after, instance in zip(retirees, afters, instances, strict=True):
            batch.changes.append((row, after))
            changes_logged.append(self._change(ctx, instance, ChangeAction.UPDATE, row, after, now))
        changelog.write_rows(changes_logged)

    def _retire(self, batch: Batch, retirees: list[dict], now) -> list[dict]:
        resource, model = self.resource, self.model
        ids = [row["id"] for row in retirees]
        if resource.writes.retirement is not None:
            self._retire_in_sets(batch, retirees, resource.writes.retirement(now), rules_apply=True)
            outcome = RETIRED
        elif resource.writes.retire is not None:
            # The services.py rule, record by record (it does more, as retiring a customer
            # ends its subscriptions); the change log records each through the signals.
            for obj in model._base_manager.filter(pk__in=ids).order_by("pk"):
                resource.writes.retire(obj)
            outcome = RETIRED
        elif issubclass(model, RetirableModel):
            self._retire_in_sets(batch, retirees, {"retired_at": now}, rules_apply=False)
            outcome = RETIRED
        elif not model._meta.related_objects:
            instances = self._instances(batch.resolver, retirees)
            self._load_what_names_read(instances)
            with connection.cursor() as cursor:
                cursor.execute(f'DELETE FROM "{self.table}" WHERE id = ANY(%s)', [ids])
            ctx = context.current()
            changes = []
            for row, instance in zip(retirees, instances, strict=True):
                batch.changes.append((row, None))
                changes.append(self._change(ctx, instance, ChangeAction.DELETE, row, None, now))
            changelog.write_rows(changes)
            outcome = DELETED
        else:
            # Other records refer to these: Django's delete applies their on_delete rules.
            model._base_manager.filter(pk__in=ids).delete()
            outcome = DELETED
        return [
            {"id": row["id"], "key": self._key_json(row), "outcome": outcome} for row in retirees
        ]

    # --- the answer ----------------------------------------------------------------------------

    def _key_json(self, row: dict) -> dict:
        if self.resource.is_link:
            return {spec.name: row[spec.attname] for spec in self.key_specs}
        return {"source": row["source"], "external_id": row["external_id"]}

    def _result(self, run: Run, source: str, mode: str, retirements: list) -> dict:
        counts = {CREATED: 0, UPDATED: 0, UNCHANGED: 0, RETIRED: 0, DELETED: 0}
        items = []
        for entry in run.entries:
            counts[entry.outcome] += 1
            row = entry.row
            items.append(
                {
                    "index": entry.index,
                    "key": self._key_json(row),
                    "id": row["id"],
                    "outcome": entry.outcome,
                }
            )
        for retirement in retirements:
            counts[retirement["outcome"]] += 1
        return SyncResult(
            source=source, mode=mode, items=items, retirements=retirements, counts=counts
        ).as_dict()


_engines: dict[str, Engine] = {}


def engine_for(resource) -> Engine:
    if resource.name not in _engines:
        _engines[resource.name] = Engine(resource)
    return _engines[resource.name]


def sync(
    resource,
    *,
    user,
    source: str,
    mode: str,
    items: list,
    allow_mass_retire: bool = False,
    adopt: bool = False,
    dry_run: bool = False,
    channel: str = Channel.SYNC,
) -> dict:
    """Run one sync batch (at most MAX_ITEMS items) for ``resource``; return the answer."""
    if len(items) > MAX_ITEMS:
        raise PayloadTooLarge(
            f"A batch holds at most {MAX_ITEMS} items; this one has {len(items)}. "
            "Send it in several upsert batches, or through a sync session.",
            code="too_many_items",
        )
    return sync_many(
        resource,
        user=user,
        source=source,
        mode=mode,
        items=items,
        allow_mass_retire=allow_mass_retire,
        adopt=adopt,
        dry_run=dry_run,
        channel=channel,
    )


def sync_many(
    resource,
    *,
    user,
    source: str,
    mode: str,
    items: list,
    allow_mass_retire: bool = False,
    adopt: bool = False,
    dry_run: bool = False,
    channel: str = Channel.SYNC,
    progress: Progress | None = None,
) -> dict:
    """Sync any number of items for ``resource`` in one transaction, MAX_ITEMS at a time;
    return one answer for them all (see the module docstring)."""
    return engine_for(resource).run(
        user=user,
        source=source,
        mode=mode,
        items=items,
        allow_mass_retire=allow_mass_retire,
        adopt=adopt,
        dry_run=dry_run,
        channel=channel,
        progress=progress,
    )
