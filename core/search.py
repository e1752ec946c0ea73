"""The lists' ``q=`` search on an index: a substring of any searched field, found through a
trigram index (PostgreSQL's ``pg_trgm``) instead of reading the whole table.

A model declares the text it is searched by once, as an index in its ``Meta``::

    indexes = [SearchIndex(searched=("name", "summary", "slug", "external_id"),
                           name="service_search")]

That is a GIN trigram index on a column PostgreSQL generates from the fields joined into one
text (its *document*) and stores with each record (``search_document``; creating the index
adds the column). A search for ``claims`` over all of those fields then reads::

    search_document ILIKE '%claims%'

answered by the index: the fields are joined by a line break, so text without one matches
the document only inside one field. Over some of the fields, each is asked too::

    search_document ILIKE '%claims%' AND (name ILIKE '%claims%' OR summary ILIKE '%claims%' …)

A field of a related record (``supplier__name``) is searched in the related table, by its own
index where it has one, and joined back by key
(``supplier_id = ANY(ARRAY(SELECT id FROM supplier WHERE …))``), which the
foreign key's index answers, so a search over several tables is still a few index scans.

Django's ``icontains`` compares ``UPPER()`` of both sides, which no trigram index serves;
``ILIKE`` matches the same way without case and is what the index answers. A model with no
search index is searched as before, field by field.

The header's search (core.finder) reads the same declaration as words: a model's
``search_indexes(searched=…, name=…)`` gives it the trigram index above and a GIN full-text
index on ``words(*searched)``, the fields as a ``tsvector`` whose first field (the name) weighs
more than the others, stored the same way (``search_words``). A search for ``cla pay`` asks
``'cla':* & 'pay':*``: every word the user typed, each as the beginning of a word of the
record, ranked by ``ts_rank``. The ``simple``
configuration keeps words as they are written (no stemming), as names in any language are.
"""

import re
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.indexes import OpClass
from django.contrib.postgres.search import SearchQuery
from django.contrib.postgres.search import SearchVector
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F
from django.db.models import Lookup
from django.db.models import Q
from django.db.models import Value
from django.db.models.functions import Concat
from django.db.models.sql import Query

# Between two fields in a document. A match across it is found by the index only as a
# candidate: the per-field condition decides.
SEPARATOR = "\n"

# Documents of models whose Meta is not ours (Django's users): model -> searched fields; the
# index itself is created by a migration of the app that registers it.
_REGISTERED: dict[type[models.Model], tuple[str, ...]] = {}


def document(*fields: str) -> models.Expression:
    """The searched fields joined into one text: the expression the index is built on, and
    the one a search compares (the same SQL, so PostgreSQL uses the index)."""
    parts: list = []
    for field in fields:
        if parts:
            parts.append(Value(SEPARATOR))
        parts.append(F(field))
    if len(parts) == 1:
        parts.append(Value(""))
    return Concat(*parts, output_field=models.TextField())


class Stored(models.Expression):
    """A column the search indexes add to a model's table (``DOCUMENT`` or ``WORDS``), which
    the model does not declare: it is never read with the records, only searched."""

    def __init__(self, column: str, output_field: models.Field):
        super().__init__(output_field=output_field)
        self.column = column
        self.alias: str | None = None

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        resolved = self.copy()
        resolved.alias = query.get_initial_alias() if query is not None else None
        return resolved

    def relabeled_clone(self, change_map):
        clone = self.copy()
        clone.alias = change_map.get(self.alias, self.alias)
        return clone

    def as_sql(self, compiler, connection):
        column = connection.ops.quote_name(self.column)
        if self.alias is None or not compiler.query.alias_cols:
            return column, []
        return f"{compiler.quote_name_unless_alias(self.alias)}.{column}", []

    def get_group_by_cols(self):
        return [self]

    def __eq__(self, other):
        return isinstance(other, Stored) and (self.column, self.alias) == (
            other.column,
            other.alias,
        )

    def __hash__(self):
        return hash((Stored, self.column, self.alias))


# The stored columns: the document (text) of the lists' search, the words (tsvector) of the
# header's.
DOCUMENT = "search_document"
WORDS = "search_words"


def stored_document() -> Stored:
    return Stored(DOCUMENT, models.TextField())


def stored_words() -> Stored:
    return Stored(WORDS, SearchVectorField())


def _sql_of(model: type[models.Model], expression: models.Expression, schema_editor) -> str:
    """``expression`` over ``model``'s columns as SQL with its values inlined, as Django
    writes an index's expressions."""
    query = Query(model, alias_cols=False)
    compiler = query.get_compiler(connection=schema_editor.connection)
    sql, params = compiler.compile(expression.resolve_expression(query, allow_joins=False))
    return sql % tuple(schema_editor.quote_value(value) for value in params)


class _StoredIndex(GinIndex):
    """A GIN index on a column generated from ``searched`` (``stored``), which creating the
    index adds to the table and removing it drops: PostgreSQL keeps it up to date on every
    write, and a search reads it instead of computing it again for each row. ``stored=False``
    is the index on the expression itself, as the first search migrations created it."""

    column = ""
    column_type = ""
    opclass = ""

    def __init__(self, *, searched: Sequence[str], name: str, stored: bool = True, **kwargs):
        self.searched = tuple(searched)
        self.stored = stored
        expression = self.expression(*self.searched)
        super().__init__(
            OpClass(expression, name=self.opclass) if self.opclass else expression, name=name
        )

    @staticmethod
    def expression(*fields: str) -> models.Expression:
        raise NotImplementedError

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if not self.stored:
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        table = schema_editor.quote_name(model._meta.db_table)
        column = schema_editor.quote_name(self.column)
        generated = _sql_of(model, self.expression(*self.searched), schema_editor)
        opclass = f" {self.opclass}" if self.opclass else ""
        return (
            f"ALTER TABLE {table} ADD COLUMN {column} {self.column_type} "
            f"GENERATED ALWAYS AS ({generated}) STORED; "
            f"CREATE INDEX {schema_editor.quote_name(self.name)} ON {table} "
            f"USING gin ({column}{opclass})"
        )

    def remove_sql(self, model, schema_editor, **kwargs):
        dropped = super().remove_sql(model, schema_editor, **kwargs)
        if not self.stored:
            return dropped
        table = schema_editor.quote_name(model._meta.db_table)
        column = schema_editor.quote_name(self.column)
        return f"{dropped}; ALTER TABLE {table} DROP COLUMN IF EXISTS {column}"

    def deconstruct(self):
        path = f"core.search.{type(self).__name__}"
        kwargs: dict[str, Any] = {"searched": self.searched, "name": self.name}
        if not self.stored:
            kwargs["stored"] = False
        return path, (), kwargs

    def clone(self):
        return type(self)(searched=self.searched, name=self.name, stored=self.stored)


class SearchIndex(_StoredIndex):
    """A GIN trigram index on the document of ``searched`` (fields of the model itself),
    stored in the column ``search_document``."""

    column = DOCUMENT
    column_type = "text"
    opclass = "gin_trgm_ops"

    @staticmethod
    def expression(*fields: str) -> models.Expression:
        return document(*fields)


# The text search configuration of every document: words as written, lower-cased.
TEXT_CONFIG = "simple"
# At most this many of the words a user types are looked for (the rest are left out).
MOST_WORDS = 8
# A word of the query: letters and digits (what PostgreSQL's parser also splits words at).
WORD = re.compile(r"[^\W_]+")


def words(*fields: str) -> models.Expression:
    """The searched fields as weighted words: the first (the record's name) weighs A, the
    others B. The expression the full-text index is built on, and the one a search compares."""
    first, *rest = fields
    vector: models.Expression = SearchVector(first, config=TEXT_CONFIG, weight="A")
    if rest:
        vector = vector + SearchVector(*rest, config=TEXT_CONFIG, weight="B")
    return vector


class WordsIndex(_StoredIndex):
    """A GIN full-text index on ``words(*searched)`` (fields of the model itself), stored in
    the column ``search_words``."""

    column = WORDS
    column_type = "tsvector"

    @staticmethod
    def expression(*fields: str) -> models.Expression:
        return words(*fields)


def search_indexes(*, searched: Sequence[str], name: str) -> list[GinIndex]:
    """What a model is searched by, declared once: the lists' trigram index (``<name>_search``)
    and the header search's full-text index (``<name>_words``) on the same fields."""
    return [
        SearchIndex(searched=searched, name=f"{name}_search"),
        WordsIndex(searched=searched, name=f"{name}_words"),
    ]


def query_words(value: str) -> list[str]:
    """The words of a query as the full-text search looks for them (lower case, at most
    MOST_WORDS): the user's punctuation never reaches ``to_tsquery``'s syntax."""
    return [word.lower() for word in WORD.findall(value)][:MOST_WORDS]


def raw_prefix_query(value: str) -> str:
    """``to_tsquery``'s text for the words of ``value`` ("" when it has none): each word as
    the beginning of a word, but a single letter or digit as a whole word (as the beginning
    of one it would match most records, and rank them all)."""
    return " & ".join(
        f"'{word}':*" if len(word) > 1 else f"'{word}'" for word in query_words(value)
    )


def prefix_query(value: str) -> SearchQuery | None:
    """Records having a word that begins with each word of ``value`` (None: no word in it)."""
    raw = raw_prefix_query(value)
    return SearchQuery(raw, search_type="raw", config=TEXT_CONFIG) if raw else None


def register(model: type[models.Model], searched: Sequence[str]) -> None:
    """Declare the document of a model whose Meta is not ours; its app's migration creates
    the index on ``document(*searched)`` with the ``gin_trgm_ops`` class."""
    _REGISTERED[model] = tuple(searched)


def document_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The fields of ``model``'s search index, or () when it has none."""
    for index in model._meta.indexes:
        if isinstance(index, SearchIndex):
            return index.searched
    return _REGISTERED.get(model._meta.concrete_model or model, ())


class Contains(Lookup):
    """``lhs ILIKE pattern``: the rhs is the finished pattern (``contains_pattern``)."""

    lookup_name = "search_contains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


class AnyOf(Lookup):
    """``lhs = ANY(array)``: a key among those an array subquery finds. Unlike ``IN
    (SELECT …)`` inside an OR, an index on the key answers it, so it joins a bitmap OR."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def contains_pattern(value: str) -> str:
    """The ILIKE pattern of a substring: its wildcards and the escape character escaped."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(model: type[models.Model], paths: Iterable[str], value: str) -> Q:
    """Records of ``model`` one of whose ``paths`` (fields, or ``relation__field`` through
    foreign keys) holds ``value``, ignoring case: indexed where the model has a search index
    covering its own fields, exact in every case."""
    pattern = contains_pattern(value)
    local: list[str] = []
    related: dict[str, list[str]] = {}
    for path in paths:
        first, _, rest = path.partition("__")
        if rest:
            related.setdefault(first, []).append(rest)
        else:
            local.append(path)
    condition = Q()
    if local:
        exact = Q()
        for name in local:
            exact |= Q(Contains(F(name), Value(pattern)))
        indexed = document_fields(model)
        if indexed and set(local) <= set(indexed):
            found = Q(Contains(stored_document(), Value(pattern)))
            # A value without the separator matches the document only inside one field: when
            # the list searches every field of it, the document alone is the exact condition.
            whole = set(local) == set(indexed) and SEPARATOR not in value
            exact = found if whole else found & exact
        condition |= exact
    for name, rests in related.items():
        field: Any = model._meta.get_field(name)
        if field.concrete and (field.many_to_one or field.one_to_one):
            target: Any = field.related_model
            keys = (
                target._base_manager.filter(matching(target, rests, value))
                .order_by()
                .values(field.target_field.attname)
            )
            condition |= Q(AnyOf(F(field.attname), ArraySubquery(keys)))
        else:  # through a to-many relation: a join, as Django's lookups do it
            for rest in rests:
                condition |= Q(**{f"{name}__{rest}__icontains": value})
    return condition


def is_indexed(model: type[models.Model], paths: Iterable[str]) -> bool:
    """Whether ``matching(model, paths, …)`` is answered by indexes alone: the model's own
    fields by its search index, each related field by its model's (through foreign keys)."""
    local: list[str] = []
    related: dict[str, list[str]] = {}
    for path in paths:
        first, _, rest = path.partition("__")
        if rest:
            related.setdefault(first, []).append(rest)
        else:
            local.append(path)
    if local and not set(local) <= set(document_fields(model)):
        return False
    for name, rests in related.items():
        field: Any = model._meta.get_field(name)
        if not (field.concrete and (field.many_to_one or field.one_to_one)):
            return False
        if not is_indexed(field.related_model, rests):
            return False
    return True
