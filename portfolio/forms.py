from django import forms
from django.contrib.auth import get_user_model

from core.forms import PorticoModelForm
from portfolio.models import Service, ServiceDependency, SpecificationItem


def active_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class ServiceForm(PorticoModelForm):
    class Meta:
        model = Service
        fields = ["name", "summary", "kind", "lifecycle", "criticality", "owner", "delegates"]
        help_texts = {"owner": "The one person accountable for this service."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()
        self.fields["delegates"].queryset = active_users()
        self.fields["delegates"].required = False


class SpecificationItemForm(PorticoModelForm):
    class Meta:
        model = SpecificationItem
        fields = [
            "title",
            "description",
            "metric",
            "comparator",
            "target",
            "unit",
            "window",
            "actual_value",
            "actual_on",
        ]
        widgets = {"actual_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.is_functioning:
            for name in (*SpecificationItem.MEASURE_FIELDS, "actual_value", "actual_on"):
                del self.fields[name]


class DependencyForm(PorticoModelForm):
    provider = forms.ModelChoiceField(
        queryset=Service.objects.all(),
        to_field_name="slug",
        widget=forms.TextInput(attrs={"list": "service-options", "autocomplete": "off"}),
        help_text="The slug of the service this one depends on (type to search).",
        error_messages={"invalid_choice": "No service has this slug."},
    )

    class Meta:
        model = ServiceDependency
        fields = ["provider", "weight", "note"]
