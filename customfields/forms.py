"""The definition form (the Custom fields page), and the form fields each definition adds to
the forms of the records that carry custom fields."""

import json
from typing import Any

from django import forms
from django.apps import apps

from core.forms import PorticoModelForm
from customfields import services
from customfields import values
from customfields.choices import FieldType
from customfields.models import CustomField

PREFIX = "cf_"
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CustomFieldForm(PorticoModelForm):
    """A definition. Its default is typed as text and read by its type (``yes``/``no`` for
    yes or no, the choices one a line for multiple choice)."""

    default_text = forms.CharField(
        label="Default",
        required=False,
        max_length=values.LONG_TEXT_MAX,
        help_text="The value a new record gets when it is given none (yes or no for a yes-or-"
        "no field; for multiple choice, the choices one a line).",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = CustomField
        fields = [
            "model",
            "label",
            "name",
            "type",
            "description",
            "required",
            "choices",
            "reference_model",
            "minimum",
            "maximum",
            "max_length",
            "regex",
            "order",
            "show_in_list",
        ]
        widgets = {"choices": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(
            {"pattern": "[a-z][a-z0-9_]*", "spellcheck": "false"}
        )
        default = self.instance.default
        if default is not None:
            if isinstance(default, bool):
                text = "yes" if default else "no"
            elif isinstance(default, list):
                text = "\n".join(str(item) for item in default)
            else:
                text = str(default)
            self.initial.setdefault("default_text", text)

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None
        text = (cleaned.get("default_text") or "").strip()
        kind = cleaned.get("type")
        default: Any = None
        if text:
            if kind == FieldType.BOOLEAN:
                default = {"yes": True, "true": True, "no": False, "false": False}.get(text.lower())
                if default is None:
                    self.add_error("default_text", "Give yes or no.")
            elif kind == FieldType.MULTIPLE_CHOICE:
                default = [line.strip() for line in text.splitlines() if line.strip()]
            elif kind == FieldType.INTEGER:
                default = int(text) if text.isascii() and text.lstrip("-").isdigit() else text
            else:
                default = text
        self.instance.default = default
        return cleaned

    def add_error(self, field, error):
        # The model's clean() reports the default under its own name.
        if field == "default":
            field = "default_text"
        super().add_error(field, error)


def _reference_queryset(label: str):
    model = apps.get_model(label)
    return model._default_manager.all()


def form_field(definition: CustomField) -> forms.Field:
    """The form field of one definition. Never required by the form itself: the custom-field
    rule refuses an empty required value, beside this field, on every write path."""
    kind = definition.type
    common: dict[str, Any] = {
        "label": definition.label + (" *" if definition.required else ""),
        "required": False,
        "help_text": definition.description,
    }
    if kind == FieldType.TEXT:
        return forms.CharField(max_length=values.max_text_length(definition), **common)
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(
            max_length=values.max_text_length(definition),
            widget=forms.Textarea(attrs={"rows": 3}),
            **common,
        )
    if kind == FieldType.INTEGER:
        return forms.IntegerField(**common)
    if kind == FieldType.DECIMAL:
        return forms.DecimalField(**common)
    if kind == FieldType.DATE:
        return forms.DateField(widget=DATE_WIDGET, **common)
    if kind == FieldType.BOOLEAN:
        return forms.NullBooleanField(widget=forms.NullBooleanSelect(), **common)
    if kind == FieldType.URL:
        return forms.URLField(max_length=values.URL_MAX, assume_scheme="https", **common)
    if kind == FieldType.CHOICE:
        return forms.ChoiceField(
            choices=[("", "—"), *((c, c) for c in definition.choice_list)], **common
        )
    if kind == FieldType.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choice_list],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    return forms.ModelChoiceField(
        queryset=_reference_queryset(definition.reference_model), **common
    )


def form_value(definition: CustomField, cleaned: Any) -> Any:
    """A form field's cleaned value as the custom-field rule takes it (a record as its id;
    the rule stores a decimal and a date in their stored forms)."""
    if cleaned is None or cleaned == "" or cleaned == []:
        return None
    if definition.type == FieldType.REFERENCE:
        return cleaned.pk
    return cleaned


class CustomFieldsFormMixin(forms.ModelForm):
    """Adds a form field per custom field of the form's model (``cf_<name>``), starting from
    the record's values; saving puts them in its ``custom_fields`` for the custom-field rule,
    whose refusals (``custom_fields.<name>``) are shown beside their field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_field_definitions = services.definitions(self._meta.model)
        stored = self.instance.custom_fields or {}
        for definition in self.custom_field_definitions:
            name = PREFIX + definition.name
            self.fields[name] = form_field(definition)
            value = stored.get(definition.name)
            if value is None and self.instance.pk is None:
                value = definition.default
            if value is not None:
                self.initial.setdefault(name, values.python_value(definition, value))

    def _post_clean(self):
        super()._post_clean()
        if not hasattr(self, "cleaned_data"):
            return
        given = {}
        for definition in self.custom_field_definitions:
            name = PREFIX + definition.name
            if name in self.cleaned_data:
                given[definition.name] = form_value(definition, self.cleaned_data[name])
        if self.instance.pk is None:
            # A new record's object is judged whole: what is left empty is left out, so its
            # default applies.
            given = {k: v for k, v in given.items() if v is not None}
        self.instance.custom_fields = given

    def add_error(self, field, error):
        if isinstance(field, str) and field.startswith(services.FIELD + "."):
            mine = PREFIX + field.split(".", 1)[1]
            field = mine if mine in self.fields else None
        elif field == services.FIELD:
            field = None
        super().add_error(field, error)


def default_json(definition: CustomField) -> str:
    """The default as JSON, for the definition's page."""
    return json.dumps(definition.default)
