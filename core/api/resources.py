"""Resources: one declaration per model gives its endpoints, its sync, its schema.

An app lists its resources in ``<app>/api/resources.py``::

    from core.api.resources import Reads, Resource, Writes, register

    register(
        Resource(
            "cost-pools",
            model=CostPool,
            fields=("name", "slug", "description", "pool_type", "owner"),
            reads=Reads(filterset=filtersets.CostPoolFilterSet),
            writes=Writes(save=lambda pool, user: services.save_pool(pool=pool)),
        )
    )

and ``portico/api_urls.py`` picks it up (``autodiscover``). See docs/api.md, "Adding a
resource".
"""

import datetime
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from typing import TYPE_CHECKING
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F
from django.db.models import OuterRef
from django.db.models import Value
from django.utils.module_loading import autodiscover_modules

from core import compiled
from core import slugs
from core.api import fields as api_fields
from core.api.fields import RECORD
from core.api.fields import USER
from core.api.fields import USERS
from core.api.fields import VALUE
from core.api.fields import FieldSpec
from core.api.fields import json_value
from core.api.fields import natural_reference_converter
from core.models import ChangeLoggedModel
from core.models import RetirableModel
from core.models import SyncedModel
from core.permissions import restricted
from core.search import AnyOf

if TYPE_CHECKING:
    from django_filters import FilterSet

STANDARD_READ_ONLY = ("created_at", "updated_at")
SYNCED_RECORD = "synced_record"
NATURAL_RECORD = "natural_record"


@dataclass(frozen=True)
class NaturalKey:
    """How a record that has no (source, external_id) is named in references: a period by
    its label ``"2026-10"``. Declared on the resource of its model (``natural_key=``); every
    reference to that model, in any resource, then takes the key as well as the id (``12``,
    ``"2026-10"``, ``{"id": 12}``, ``{"label": "2026-10"}``) and shows both
    (``{"id": 12, "label": "2026-10"}``).

    name:    the key's name in a reference (``label``)
    fields:  the model fields it is made of, which are unique together (``year``, ``month``)
    parse:   ``parse(text) -> values`` of ``fields``; raises ValueError or ValidationError
             saying what is wrong with the text
    format:  ``format(*values) -> text``
    example: the key of an example record, for messages and the schema
    pattern: the regular expression of the text, for the schema
    create:  ``create(list of values)`` makes the named records that do not exist yet (a
             period is opened by the first cost booked in it, as in the browser), in a
             constant number of queries, and answers the values it refuses to make, each
             with the reason (a reference to one is refused with it); without ``create`` a
             key naming no record is refused
    """

    name: str
    fields: Sequence[str]
    parse: Callable
    format: Callable
    example: str
    pattern: str = ""
    create: Callable | None = None

    @property
    def text_schema(self) -> dict:
        schema: dict = {"type": "string", "example": self.example}
        if self.pattern:
            schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True)
class QueryParameter:
    """A query parameter of an extra address: ``convert(text) -> value`` raises
    core.api.fields.FieldInvalid to refuse it; ``default`` when it is not given."""

    name: str
    schema: dict
    description: str
    convert: Callable
    default: Any = None


@dataclass(frozen=True)
class Extra:
    """A read-only address beside each record: ``GET /api/v1/<resource>/<id>/<name>/`` (the
    lineage of a TCO result).

    name:        the last part of the address, also the operation's and the schema
                 component's name (``lineage``: ``get_tco_result_lineage``,
                 ``TcoResultLineage``)
    answer:      ``answer(instance, **parameters) -> dict``, JSON-ready, from a selector
    schema:      the OpenAPI schema of the answer
    summary, description: for the schema
    parameters:  the query parameters it takes (QueryParameter); others are refused
    queryset:    a function that refines the queryset the record is read from
                 (``select_related``)
    """

    name: str
    answer: Callable
    schema: dict
    summary: str
    description: str = ""
    parameters: Sequence[QueryParameter] = ()
    queryset: Callable | None = None

    @property
    def camel(self) -> str:
        return self.name.replace("-", " ").replace("_", " ").title().replace(" ", "")


Save = Callable[[models.Model, Any], models.Model]
Remove = Callable[[models.Model], str | None]
Retire = Callable[[models.Model], None]
RowTest = Callable[[dict], bool]
Annotate = Callable[[models.QuerySet], models.QuerySet]


@dataclass(frozen=True)
class Reads:
    """How a resource's records are read.

    filterset:  the FilterSet the HTML list uses (its filters become query parameters)
    queryset:   annotates the base queryset (for filters and ``computed``); applied once per
                process, so it must not depend on the date or the request
    computed:   annotations of ``queryset`` shown read-only: name -> OpenAPI schema
    annotated_as: of ``computed``, those whose annotation has another name, because the
                name is taken by a relation of the model (a statement's ``lines``): name ->
                annotation
    user_lists: many-to-many fields to users, shown read-only as lists of usernames
    extras:     read-only addresses beside each record (Extra: a result's lineage)
    """

    filterset: "type[FilterSet] | None" = None
    queryset: Annotate | None = None
    computed: Mapping[str, dict] = field(default_factory=dict)
    annotated_as: Mapping[str, str] = field(default_factory=dict)
    user_lists: Sequence[str] = ()
    extras: Sequence[Extra] = ()


@dataclass(frozen=True)
class Writes:
    """How a resource's records are written: through its app's services.py, whose rules
    (core.rules) and whose rights (core.permissions) the single writes and the sync share.

    save:         ``save(instance, user) -> instance``, the services.py function for one write
    remove:       ``remove(instance) -> "deleted" | "retired" | None`` (None: deleted) for
                  DELETE; default: delete, or retire what other records refer to
    retire:       ``retire(instance)``, what a full sync does to records the source no longer
                  sends; default: set ``retired_at`` (RetirableModel), else delete
    retired_when: ``retired_when(row) -> bool`` when retirement is not ``retired_at`` (a
                  service is retired by its lifecycle)
    retirement:   ``retirement(now) -> {attname: value}``, what retiring one record sets
                  when that is all ``retire`` does: a full sync then retires its records
                  in sets (the model's rules run on each, one UPDATE for all) rather than
                  calling ``retire`` on each
    key:          link resources only: the references that identify a record (its pair);
                  other resources are keyed by (source, external_id)
    required:     of the fields, those a new record must be given although the model has a
                  default for them (an exchange rate's currency)
    error_names:  the API's field name of an error a rule or the model reports under another
                  (a stage's form calls its times ``process_time``)
    """

    save: Save
    remove: Remove | None = None
    retire: Retire | None = None
    retired_when: RowTest | None = None
    retirement: Callable[[datetime.datetime], dict] | None = None
    key: Sequence[str] = ()
    required: Sequence[str] = ()
    error_names: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Resource:
    """How one model appears in the API.

    name:        plural kebab-case address (``services``, ``contract-coverages``)
    fields:      the model fields clients read and write, in the order shown
    read_only:   of ``fields``, those shown but never written through the API
    schemas:     OpenAPI schemas of fields the model does not describe well enough (a JSON
                 field's shape): name -> schema, replacing the generated one
    natural_key: how other resources refer to this resource's records when the model is not
                 a SyncedModel (NaturalKey: a period by its label)
    reads:       Reads
    writes:      Writes; None for a resource that is only read (results computed by
                 Portico): its list and detail answer GET only, it has no sync address, and
                 every field is read-only. A written resource whose model is neither a
                 SyncedModel nor a link (no key a source could send) has single writes and
                 no sync address either

    A generated slug (core.slugs.generate_slugs on the model) makes ``slug`` optional.
    """

    name: str
    model: type[models.Model]
    fields: Sequence[str]
    read_only: Sequence[str] = ()
    schemas: dict = field(default_factory=dict)
    natural_key: NaturalKey | None = None
    description: str = ""
    reads: Reads = field(default_factory=Reads)
    writes: Writes | None = None

    # --- derived, computed once -------------------------------------------------------------

    @property
    def key(self) -> Sequence[str]:
        return self.writes.key if self.writes else ()

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def is_synced(self) -> bool:
        return issubclass(self.model, SyncedModel)

    @property
    def is_link(self) -> bool:
        return bool(self.writes and self.writes.key)

    @property
    def is_syncable(self) -> bool:
        """Whether the resource has a sync address: it is written and its records have a
        key a source can send (SyncedModel's (source, external_id), or a link's pair). A
        record people make in Portico alone (a budget scenario) is written one at a time."""
        return self.writes is not None and (self.is_link or self.is_synced)

    @property
    def is_retirable(self) -> bool:
        return issubclass(self.model, RetirableModel) or bool(self.writes and self.writes.retire)

    @property
    def component(self) -> str:
        return self.model.__name__

    @property
    def has_timestamps(self) -> bool:
        """Lists are in delta order (updated_at, id) when the model has ``updated_at``; else
        in id order, without ``updated_since``."""
        return any(f.name == "updated_at" for f in self.model._meta.concrete_fields)

    @property
    def is_change_logged(self) -> bool:
        return issubclass(self.model, ChangeLoggedModel)

    @property
    def retired_when(self) -> RowTest | None:
        return self.writes.retired_when if self.writes else None

    @cached_property
    def specs(self) -> list[FieldSpec]:
        """Every field the API shows, in order, with how to read and write it."""
        opts = self.model._meta
        specs = [
            FieldSpec(
                name="id",
                attname="id",
                model_field=opts.pk,
                read_only=True,
                schema={"type": "integer", "format": "int64", "readOnly": True},
            )
        ]
        names = list(self.fields)
        if self.is_synced:
            names = [
                "source",
                "external_id",
                *[n for n in names if n not in ("source", "external_id")],
            ]
        for name in names:
            model_field = opts.get_field(name)
            spec = api_fields.spec_for_model_field(
                self.model,
                model_field,
                read_only=name in self.read_only or self.writes is None,
                optional=name == "slug" and bool(slugs.generated_from(self.model)),
            )
            if self.writes and name in self.writes.required and not spec.read_only:
                spec.required = True
            if spec.kind == RECORD:
                natural_key = natural_key_of(spec.related_model)
                if natural_key is not None:
                    use_natural_key(spec, natural_key)
            specs.append(spec)
        for name, schema in self.reads.computed.items():
            attname = self.reads.annotated_as.get(name, name)
            specs.append(FieldSpec(name=name, attname=attname, read_only=True, schema={**schema}))
        for name in self.reads.user_lists:
            specs.append(
                FieldSpec(
                    name=name,
                    kind=USERS,
                    attname=name,
                    model_field=opts.get_field(name),
                    read_only=True,
                    schema={"type": "array", "items": {"type": "string"}},
                )
            )
        extra = (*(("retired_at",) if issubclass(self.model, RetirableModel) else ()),)
        for name in (*extra, *STANDARD_READ_ONLY):
            try:
                model_field = opts.get_field(name)
            except FieldDoesNotExist:
                continue
            specs.append(api_fields.spec_for_model_field(self.model, model_field, read_only=True))
        for spec in specs:
            if spec.name in self.schemas:
                spec.schema = {**self.schemas[spec.name]}
            if spec.read_only:
                spec.schema = {**spec.schema, "readOnly": True}
        return specs

    @cached_property
    def writable(self) -> dict[str, FieldSpec]:
        return {spec.name: spec for spec in self.specs if not spec.read_only}

    @cached_property
    def natural_keys(self) -> dict:
        """Referenced model -> its NaturalKey, for the references that take one."""
        return {
            spec.related_model: spec.natural_key
            for spec in self.specs
            if spec.kind == RECORD and spec.natural_key is not None
        }

    @cached_property
    def read_only_names(self) -> frozenset:
        return frozenset(spec.name for spec in self.specs if spec.read_only)

    @cached_property
    def representation(self) -> "Representation":
        return Representation(self)

    @cached_property
    def _annotated(self):
        # Built once per process: resolving annotations costs more than the query they make.
        queryset = restricted(self.model)
        annotate = self.reads.queryset
        return annotate(queryset) if annotate else queryset

    def base_queryset(self, user):
        """What ``user`` may see, with the resource's annotations."""
        return self._annotated.all().restrict(user, "view")


class Representation:
    """Rows as the API shows them, read with one query and no model instances: fast enough
    to list a thousand records in a few milliseconds."""

    def __init__(self, resource: Resource):
        self.resource = resource
        columns: list[str] = []
        plan = []
        user_lists = []
        self.natural: dict[str, NaturalKey] = {}
        for spec in resource.specs:
            if spec.kind == USERS:
                user_lists.append(spec)
                continue
            start = len(columns)
            if spec.kind == USER:
                columns.append(f"{spec.name}__username")
            elif spec.kind == RECORD:
                columns.append(spec.attname)
                if spec.natural_key is not None:
                    columns += [f"{spec.name}__{name}" for name in spec.natural_key.fields]
                    plan.append((spec.name, NATURAL_RECORD, start))
                    self.natural[spec.name] = spec.natural_key
                    continue
                if issubclass(spec.related_model, SyncedModel):
                    columns += [f"{spec.name}__source", f"{spec.name}__external_id"]
                    plan.append((spec.name, SYNCED_RECORD, start))
                    continue
            else:
                columns.append(spec.attname)
            plan.append((spec.name, spec.kind, start))
        # Lists of users come from an array subquery: still one query for the whole page.
        for spec in user_lists:
            plan.append((spec.name, USERS, len(columns)))
            columns.append(f"_api_{spec.name}")
        order = [spec.name for spec in resource.specs]
        plan.sort(key=lambda step: order.index(step[0]))
        self.columns = columns
        self.plan = plan
        self.user_lists = user_lists

    def rows(self, queryset) -> list[dict]:
        return self._represent(self._values(queryset))

    def rows_by_id(self, ids: list, order: tuple[str, ...]) -> list[dict]:
        """The rows of the records ``ids`` in ``order``, when the user may see every record
        of the resource: as ``rows`` reads them, by SQL compiled once per process."""
        return self._represent(compiled.rows(_rows_by_id, list(ids), self.resource.name, order))

    def _values(self, queryset) -> models.QuerySet:
        if self.user_lists:
            queryset = queryset.annotate(
                **{f"_api_{spec.name}": self._user_list(spec) for spec in self.user_lists}
            )
        return queryset.values_list(*self.columns)

    def _represent(self, values) -> list[dict]:
        out = []
        for row in values:
            data = {}
            for name, kind, start in self.plan:
                value = row[start]
                if kind == VALUE:
                    data[name] = (
                        value
                        if value is None or type(value) in (str, int, bool)
                        else json_value(value)
                    )
                elif kind == SYNCED_RECORD:
                    data[name] = (
                        None
                        if value is None
                        else {"id": value, "source": row[start + 1], "external_id": row[start + 2]}
                    )
                elif kind == NATURAL_RECORD:
                    key = self.natural[name]
                    data[name] = (
                        None
                        if value is None
                        else {
                            "id": value,
                            key.name: key.format(*row[start + 1 : start + 1 + len(key.fields)]),
                        }
                    )
                elif kind == RECORD:
                    data[name] = None if value is None else {"id": value}
                else:  # USER: a username; USERS: a list of them
                    data[name] = value
            out.append(data)
        return out

    @staticmethod
    def _user_list(spec):
        through = spec.model_field.remote_field.through
        source_name = spec.model_field.m2m_field_name()
        target_name = spec.model_field.m2m_reverse_field_name()
        return ArraySubquery(
            through.objects.filter(**{f"{source_name}_id": OuterRef("pk")})
            .order_by(f"{target_name}__username")
            .values(f"{target_name}__username")
        )


def _rows_by_id(name: str, order: tuple[str, ...]) -> models.QuerySet:
    """Every record of the resource ``name`` among some ids (compiled.PARAMETER), as it lists
    them."""
    resource = registry[name]
    records = resource._annotated.all().filter(AnyOf(F("pk"), Value(compiled.PARAMETER)))
    return resource.representation._values(records.order_by(*order))


@dataclass(frozen=True)
class Feed:
    """A model whose changes the change feed shows although it is no resource here: Django's
    users, served by views of their own (people.api.users). Its change records' snapshots
    carry ``source`` and ``external_id``.

    retired_when: ``retired_when(snapshot) -> bool``: the record is retired (a user is
                  deactivated)
    """

    name: str
    model: type[models.Model]
    retired_when: RowTest | None = None
    is_synced: bool = True
    is_change_logged: bool = True


class Registry:
    def __init__(self):
        self._resources: dict[str, Resource] = {}
        self.feeds: dict[str, Feed] = {}

    def add_feed(self, feed: Feed) -> Feed:
        """Show ``feed``'s changes in the change feed beside the resources'."""
        self.feeds[feed.name] = feed
        return feed

    def logged(self) -> list["Resource | Feed"]:
        """What the change feed shows: the change-logged resources, then the feeds."""
        return [r for r in self if r.is_change_logged] + list(self.feeds.values())

    def register(self, resource: Resource) -> Resource:
        if resource.name in self._resources and self._resources[resource.name] is not resource:
            raise ValueError(f"An API resource named {resource.name!r} is already registered.")
        if resource.natural_key is not None:
            # References are compiled once: one declared after its users would be missed.
            late = [
                r.name
                for r in self._resources.values()
                if "specs" in r.__dict__
                and any(s.related_model is resource.model for s in r.specs if s.kind == RECORD)
            ]
            if late:
                raise ValueError(
                    f"Register {resource.name!r} (it has a natural key) before using "
                    f"{', '.join(late)}."
                )
        self._resources[resource.name] = resource
        return resource

    def __iter__(self):
        return iter(self._resources.values())

    def __getitem__(self, name: str) -> Resource:
        return self._resources[name]

    def get(self, name: str) -> Resource | None:
        return self._resources.get(name)

    def for_model(self, model) -> Resource | None:
        for resource in self._resources.values():
            if resource.model is model:
                return resource
        return None


registry = Registry()


def natural_key_of(model) -> NaturalKey | None:
    """The natural key the resource of ``model`` declares, if any."""
    resource = registry.for_model(model)
    return resource.natural_key if resource is not None else None


def reference_component(model) -> str:
    """The schema component of a reference to a record named by its natural key."""
    return f"{model.__name__}Ref"


def key_component(model) -> str:
    return f"{model.__name__}Key"


def use_natural_key(spec: FieldSpec, natural_key: NaturalKey) -> None:
    """Make a reference spec take and show the natural key of the record it refers to."""
    spec.natural_key = natural_key
    spec.convert = natural_reference_converter(natural_key, null=spec.nullable)
    nullable = {"nullable": True} if spec.nullable else {}
    spec.schema = {
        "allOf": [{"$ref": f"#/components/schemas/{reference_component(spec.related_model)}"}],
        **nullable,
    }
    spec.input_schema = {
        "oneOf": [
            {"type": "integer", "minimum": 1, "format": "int64"},
            natural_key.text_schema,
            {"$ref": f"#/components/schemas/{key_component(spec.related_model)}"},
        ],
        **nullable,
    }
    if spec.help_text:
        spec.schema["description"] = spec.input_schema["description"] = spec.help_text


def register(resource: Resource) -> Resource:
    return registry.register(resource)


def autodiscover() -> Registry:
    """Import every installed app's ``api.resources`` module (each registers its own)."""
    autodiscover_modules("api.resources")
    return registry
