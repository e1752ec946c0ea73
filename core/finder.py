"""The header's search: every kind of record a user may see, found by the words of its name
and of the other fields its model is searched by (core.search), in one query.

An app registers its kinds in its AppConfig.ready()::

    finder.register(finder.Kind("service", Service, "Services", owner="owner",
                                retired=Q(lifecycle="retired")))

A search asks one ``UNION ALL`` of a branch per kind the user may see (``restrict``, as the
lists do): each branch is answered by the kind's full-text index, ranks its matches by
``ts_rank`` (retired records after those in use, as they are marked), keeps the best few and
counts them all with a window over the matches. So the number of queries does not grow with
the kinds, the matches or the records.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db import models
from django.db.models import BooleanField
from django.db.models import Count
from django.db.models import ExpressionWrapper
from django.db.models import F
from django.db.models import Q
from django.db.models import TextField
from django.db.models import Value
from django.db.models import Window
from django.db.models.functions import Cast
from django.db.models.functions import Coalesce
from django.db.models.functions import Concat
from django.db.models.functions import NullIf
from django.db.models.functions import Trim
from django.urls import reverse

from core import search
from core.permissions import RestrictedQuerySet
from core.permissions import perm_name

# Longest query read: a search box, not a document.
MAX_QUERY_LENGTH = 200
# Matches shown per kind: in the header's suggestions, and on the results page.
SUGGESTED = 5
LISTED = 10
# On the results page of one kind.
LISTED_OF_ONE_KIND = 100

# A branch's columns, named apart from any model field (``kind``, ``title``, ``owner`` are some).
COLUMNS = (
    "hit_kind",
    "hit_id",
    "hit_key",
    "hit_title",
    "hit_owner",
    "hit_context",
    "hit_retired",
    "hit_rank",
    "hit_total",
)


def person_name(path: str = "") -> models.Expression:
    """A person's full name, else their username (``path`` leads to the user): as the lists
    name people."""
    prefix = f"{path}__" if path else ""
    full = Trim(Concat(F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name")))
    return Coalesce(
        NullIf(full, Value("")), F(f"{prefix}username"), Value(""), output_field=TextField()
    )


def detail_link(model: type[models.Model]) -> Callable[[str, Any], str]:
    """The record's page as ``get_absolute_url`` finds it (core.models.ChangeLoggedModel)."""
    view = getattr(model, "url_name", "") or (
        f"{model._meta.app_label}:{model._meta.model_name}_detail"
    )
    return lambda key, ident: reverse(view, args=[key])


@dataclass(frozen=True)
class Kind:
    """A kind of record the search finds.

    name:     the kind in addresses (``?kind=service``) and in the page's markup
    model:    whose records; searched by the fields of its search index (core.search)
    plural:   the heading of its group ("Services"); ``label`` is the singular
    owner:    the lookup to the person who owns a record ("" where nobody does)
    context:  the lookup to a text shown beside it (a contract's supplier, a stage's stream)
    retired:  the records marked retired (listed after those in use)
    title:    what names a record (its ``name`` field unless given)
    link_key: the field its page's address takes (the model's ``url_key`` unless given)
    link:     its page from (link_key, id) (the model's detail page unless given)
    order:    the groups' order on the page
    retired_label: how a retired record is marked
    """

    name: str
    model: type[models.Model]
    plural: str
    label: str = ""
    owner: str = ""
    context: str = ""
    retired: Q = field(default_factory=lambda: Q(retired_at__isnull=False))
    title: Any = None
    link_key: str = ""
    link: Callable[[str, Any], str] | None = None
    order: int = 100
    retired_label: str = "Retired"

    @property
    def singular(self) -> str:
        return self.label or str(self.model._meta.verbose_name).capitalize()

    def url(self, key: str, ident) -> str:
        link = self.link or detail_link(self.model)
        return link(key, ident)


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    if not search.document_fields(kind.model):
        raise ValueError(f"{kind.model.__name__} declares no search index (core.search)")
    _kinds[kind.name] = kind


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda kind: (kind.order, kind.name))


def kind_named(name: str) -> Kind | None:
    return _kinds.get(name)


def visible(model: type[models.Model], user) -> models.QuerySet:
    """The records of ``model`` ``user`` may see, as the lists restrict them; a model whose
    manager is not ours (Django's users) is seen whole by whoever may view it."""
    records = model._default_manager.all()
    if isinstance(records, RestrictedQuerySet):
        return records.restrict(user, "view")
    return records if user.has_perm(perm_name(model, "view")) else records.none()


@dataclass(frozen=True)
class Hit:
    title: str
    key: str  # what the record's page address takes (a service's slug), as pickers send it
    url: str
    owner: str
    context: str
    retired: bool


@dataclass(frozen=True)
class Group:
    kind: Kind
    count: int
    hits: list[Hit]

    @property
    def more(self) -> int:
        return self.count - len(self.hits)


def _branch(kind: Kind, records: models.QuerySet, query, limit: int) -> models.QuerySet:
    """The best ``limit`` matches of ``kind`` among ``records``, in the COLUMNS."""
    vector = search.stored_words()
    link_key = kind.link_key or getattr(kind.model, "url_key", "pk")
    return (
        records.alias(found=vector)
        .filter(found=query)
        .annotate(
            hit_kind=Value(kind.name, output_field=TextField()),
            hit_id=F("pk"),
            hit_key=Cast(link_key, output_field=TextField()),
            hit_title=Cast(kind.title if kind.title is not None else F("name"), TextField()),
            hit_owner=person_name(kind.owner) if kind.owner else Value("", TextField()),
            hit_context=(
                Coalesce(Cast(kind.context, TextField()), Value(""), output_field=TextField())
                if kind.context
                else Value("", TextField())
            ),
            hit_retired=ExpressionWrapper(kind.retired, output_field=BooleanField()),
            hit_rank=SearchRank(vector, query),
            hit_total=Window(Count("pk")),
        )
        .order_by("hit_retired", "-hit_rank", "hit_title", "hit_id")
        .values(*COLUMNS)[:limit]
    )


# Stands for the words of a search in the SQL compiled once per set of kinds (``_compiled``).
WORDS_PARAMETER = "portico-search-words"


def _union(branches: list[models.QuerySet]) -> models.QuerySet:
    first, *rest = branches
    return first.union(*rest, all=True) if rest else first


@functools.lru_cache(maxsize=128)
def _compiled(names: tuple[str, ...], limit: int) -> tuple[str, tuple]:
    """The SQL of a search of every record of the kinds ``names``, with WORDS_PARAMETER where
    the words go: building and compiling the nine branches' expressions costs several times
    what PostgreSQL takes to answer, and they are the same for every search of the same kinds."""
    query = SearchQuery(WORDS_PARAMETER, search_type="raw", config=search.TEXT_CONFIG)
    branches = [
        _branch(_kinds[name], _kinds[name].model._default_manager.all(), query, limit)
        for name in names
    ]
    sql, params = _union(branches).query.sql_with_params()
    return sql, tuple(params)


def _rows(user, text: str, chosen: list[Kind], limit: int) -> list[dict]:
    """The rows of the COLUMNS matching ``text`` among what ``user`` may see of ``chosen``."""
    raw = search.raw_prefix_query(text)
    seen: list[tuple[Kind, models.QuerySet]] = []
    for kind in chosen:
        records = visible(kind.model, user)
        if not isinstance(records, models.query.EmptyQuerySet):
            seen.append((kind, records))
    if not seen:
        return []
    if all(user.has_perm(perm_name(kind.model, "view")) for kind, _ in seen):
        # Every record of each kind (by role): the SQL compiled for these kinds serves.
        sql, params = _compiled(tuple(kind.name for kind, _ in seen), limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, [raw if value == WORDS_PARAMETER else value for value in params])
            return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    # Some kinds seen in part (rights on some records only): restricted, built for this user.
    query = SearchQuery(raw, search_type="raw", config=search.TEXT_CONFIG)
    return list(_union([_branch(kind, records, query, limit) for kind, records in seen]))


def find(user, text: str, *, only: Kind | None = None, limit: int = LISTED) -> list[Group]:
    """The records ``user`` may see that match every word of ``text`` (each as the start of
    a word), grouped by kind with their counts, the best ``limit`` of each: one query."""
    if not search.raw_prefix_query(text):
        return []
    chosen = [only] if only is not None else kinds()
    found: dict[str, list[dict]] = {}
    for row in _rows(user, text, chosen, limit):
        found.setdefault(row["hit_kind"], []).append(row)
    return [_group(kind, found[kind.name]) for kind in chosen if found.get(kind.name)]


def find_among(kind: Kind, records: models.QuerySet, text: str, limit: int) -> Group | None:
    """The best ``limit`` of ``records`` (of ``kind``, already restricted to what may be
    offered) matching every word of ``text``, as ``find`` ranks them: one query."""
    if not search.raw_prefix_query(text):
        return None
    query = SearchQuery(search.raw_prefix_query(text), search_type="raw", config=search.TEXT_CONFIG)
    matches = list(_branch(kind, records, query, limit))
    return _group(kind, matches) if matches else None


def _group(kind: Kind, matches: list[dict]) -> Group:
    matches.sort(
        key=lambda row: (row["hit_retired"], -row["hit_rank"], row["hit_title"], row["hit_id"])
    )
    hits = [
        Hit(
            title=row["hit_title"],
            key=str(row["hit_key"]),
            url=kind.url(row["hit_key"], row["hit_id"]),
            owner=row["hit_owner"],
            context=row["hit_context"],
            retired=row["hit_retired"],
        )
        for row in matches
    ]
    return Group(kind=kind, count=matches[0]["hit_total"], hits=hits)
