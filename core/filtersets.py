import django_filters
from django.db.models import Q


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with the single ``q`` search over ``search_fields``, shared by the HTML
    list and the API."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "q" in self.form.fields:
            self.form.fields["q"].widget.input_type = "search"
            self.form.fields["q"].widget.attrs.setdefault("placeholder", "Search…")
