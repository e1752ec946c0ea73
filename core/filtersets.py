import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import ForeignObjectRel
from django_filters.conf import settings as filter_settings
from django_filters.widgets import BooleanWidget

from core import search
from core.forms import PersonChoiceField
from core.ordering import by_name

# What a filter's empty choice reads, on every list: FILTERS_EMPTY_CHOICE_LABEL.
ANY = filter_settings.EMPTY_CHOICE_LABEL


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with the single ``q`` search over ``search_fields``, shared by the HTML
    list and the API."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset, name, value):
        """Records one of whose ``search_fields`` holds ``value`` (any case): on the model's
        trigram index where it has one (core.search)."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(search.matching(queryset.model, self.search_fields, value))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "q" in self.form.fields:
            self.form.fields["q"].widget.input_type = "search"
            self.form.fields["q"].widget.attrs.setdefault("placeholder", "Search…")
        for field in self.form.fields.values():
            # A yes/no filter's empty choice reads "Unknown" in Django and django-filter.
            if isinstance(field.widget, forms.NullBooleanSelect | BooleanWidget):
                (empty, _), *others = field.widget.choices
                field.widget.choices = [(empty, ANY), *others]


class AlwaysBoundFilterSet(SearchFilterSet):
    """Bound even without query parameters, so a list's first page shows every row:
    ObjectListView shows no rows for an unbound (hence invalid) filterset."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__({} if data is None else data, *args, **kwargs)


def id_filter(field_name: str, label: str) -> django_filters.NumberFilter:
    """The records whose foreign key ``field_name`` holds the given id."""
    return django_filters.NumberFilter(field_name=f"{field_name}_id", label=label)


class EitherWay(forms.NullBooleanSelect):
    """A yes/no filter whose empty choice reads ANY (not "Unknown"), with labels of its own."""

    def __init__(self, *, yes: str = "Yes", no: str = "No", attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", ANY), ("true", yes), ("false", no)]


def yes_no_filter(**kwargs) -> django_filters.BooleanFilter:
    return django_filters.BooleanFilter(widget=EitherWay(), **kwargs)


class RetiredFilter(django_filters.BooleanFilter):
    """``retired=true``: only retired records; ``false``: only those in use."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Status")
        kwargs.setdefault("widget", EitherWay(yes="Retired", no="In use"))
        super().__init__(field_name="retired_at", lookup_expr="isnull", exclude=True, **kwargs)


def users_who(related_name: str):
    """The people who own at least one record through ``related_name``: the owner choices.

    A semi-join on the owner column's index (``id IN (SELECT owner_id ...)``), not DISTINCT
    over a join, which would read every owned record and compare whole user rows."""
    users = get_user_model()
    relation = users._meta.get_field(related_name)
    assert isinstance(relation, ForeignObjectRel), f"{related_name} is not a reverse relation"
    owned = relation.field.model._base_manager.values(relation.field.attname)
    return by_name(users.objects.filter(pk__in=owned))


class OwnerFilter(django_filters.ModelChoiceFilter):
    """A person, offered by name and given by username in the address, chosen among those
    who own at least one record through ``related_name`` (the reverse name of the owner's
    foreign key)."""

    field_class = PersonChoiceField

    def __init__(self, related_name: str, **kwargs):
        super().__init__(
            queryset=lambda request: users_who(related_name), to_field_name="username", **kwargs
        )
