"""The order people expect names in: "service 2" before "service 10", "alpha" beside "Alpha".

PostgreSQL sorts them so by ``natural_sort_key(name)``, a plain SQL function that core's
migration 0007 creates (no ICU needed): each run of digits becomes its length and its value,
the rest is lower-cased, and the keys compare byte by byte (collation "C"). Sorting in the
database, not in Python, keeps a list's pages in order, and an index on ``natural(name)`` can
answer a page of a long list sorted by name. Letters beyond ASCII sort after "z".
"""

from django.db.models import CharField
from django.db.models import F
from django.db.models import Func
from django.db.models import Index
from django.db.models import QuerySet
from django.db.models import TextField
from django.db.models import Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.db.models.functions import Collate
from django.db.models.functions import Concat
from django.db.models.functions import NullIf
from django.db.models.functions import Trim

NATURAL_SORT_KEY = "natural_sort_key"


def natural(expression: str | Combinable) -> Collate:
    """``expression`` (a field's path or an expression) to be compared in natural order."""
    value = F(expression) if isinstance(expression, str) else expression
    return Collate(Func(value, function=NATURAL_SORT_KEY, output_field=TextField()), "C")


def natural_name_index(prefix: str) -> Index:
    """The index a list sorted by name reads a page from (``<prefix>_name_natural``): the
    name in natural order, then the primary key, as core.tables.ListData sorts."""
    return Index(natural("name"), F("id"), name=f"{prefix}_name_natural")


def person_name(path: str = "") -> Coalesce:
    """core.forms.person_name in SQL: the full name, else the username, of the user at
    ``path`` (the user itself when empty)."""
    prefix = f"{path}__" if path else ""
    full = Trim(
        Concat(
            F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name"), output_field=CharField()
        )
    )
    return Coalesce(NullIf(full, Value("")), F(f"{prefix}username"), output_field=CharField())


def by_name(users: QuerySet) -> QuerySet:
    """People in the order of the names pages show them by (core.forms.person_name)."""
    return users.order_by(natural(person_name()), "pk")
