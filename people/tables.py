import django_tables2 as tables
from django.db.models.expressions import OrderBy
from django.urls import reverse
from django.utils.html import format_html

from core.forms import person_name
from core.ordering import natural
from core.ordering import person_name as person_name_sql
from core.tables import NameColumn
from core.tables import NumberColumn
from core.tables import PersonColumn
from people.models import OrganisationUnit
from people.selectors import OWNED_KINDS
from people.selectors import owns_attribute


class OrganisationUnitTable(tables.Table):
    name = NameColumn(linkify=True)
    kind = tables.Column(verbose_name="Level", accessor="level_name", order_by=("kind", "level"))
    parent = NameColumn(linkify=True, verbose_name="Belongs to", order_by=("parent__name",))
    manager = PersonColumn("manager")
    member_count = NumberColumn(verbose_name="People")
    retired_at = tables.DateTimeColumn(format="Y-m-d", verbose_name="Retired")

    class Meta:
        model = OrganisationUnit
        fields = ("name", "kind", "parent", "manager", "member_count", "retired_at")
        order_by = ("name",)


class OwnsColumn(tables.Column):
    """How many records in use a person owns, by kind ("3 services, 1 contract")."""

    def __init__(self, **kwargs):
        super().__init__(accessor="pk", orderable=False, verbose_name="Owns", **kwargs)

    @staticmethod
    def text(record) -> str:
        parts = []
        for kind, *_ in OWNED_KINDS:
            n = getattr(record, owns_attribute(kind), 0)
            if n:
                parts.append(f"{n} {kind if n != 1 else kind.removesuffix('s')}")
        return ", ".join(parts) or "—"

    def render(self, record):
        return self.text(record)

    def value(self, record):
        return self.text(record)


class PersonNameColumn(tables.Column):
    """The person the row is, sorted by name as people are everywhere (core.ordering)."""

    @staticmethod
    def sort_key(path: str, descending: bool) -> OrderBy:
        key = natural(person_name_sql())
        return key.desc() if descending else key.asc()


class PersonTable(tables.Table):
    """The columns make the headers, the sorting and the exports; the table's template
    writes the rows out with what the columns render."""

    row_names = ("person", "people")  # the page's words, not the account model's

    name = PersonNameColumn(
        accessor="pk",
        verbose_name="Name",
        linkify=lambda record: reverse("people:person_detail", args=[record.pk]),
    )
    username = tables.Column()
    email = tables.Column(verbose_name="E-mail")
    roles = tables.Column(accessor="pk", verbose_name="Role", orderable=False)
    unit = NameColumn(
        accessor="profile__unit", verbose_name="Organisation unit", order_by="profile__unit__name"
    )
    owns = OwnsColumn()
    last_login = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last sign-in")
    is_active = tables.BooleanColumn(verbose_name="Active")

    class Meta:
        fields = ("name", "username", "email", "roles", "unit", "owns", "last_login", "is_active")
        order_by = ("name",)
        # The rows are written out by the template: django-tables2's work per cell was most
        # of the page's time (as for the services list).
        template_name = "people/person_list_table.html"

    def render_name(self, record):
        return person_name(record)

    def value_name(self, record):
        return person_name(record)

    def render_roles(self, record):
        return ", ".join(group.name for group in record.groups.all()) or "—"

    def value_roles(self, record):
        return ", ".join(group.name for group in record.groups.all())

    def render_is_active(self, value):
        return "yes" if value else format_html('<span class="badge">{}</span>', "deactivated")
