"""Records chosen by name: a form field and its text box, with suggestions as one types.

A picker is a text box where a person types a record's name. With JavaScript, htmx asks the
``pick`` view (``/pick/<kind>/?q=``) for the records whose words begin with what was typed
(the header's search, core.finder: only what the user may see), shown with their kind and
owner; choosing one puts its name in the box and its key (a service's slug) in a hidden input
beside it. Without JavaScript the box alone is sent and read as a name (or a key, as the API
names records): one record of that name is chosen; none, or several, is an error on the
field that says so and, for several, how to tell them apart. No page ever lists every record.

    provider = RecordPickerField("service", queryset=Service.objects.all())
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.html import format_html

from core import finder
from core import translations

# The suffix of the hidden input that carries the chosen record's key.
KEY_SUFFIX = "-key"
# Records named in the error of an ambiguous name.
NAMED_IN_ERROR = 5
# The longest name or key read (names are at most 200 characters).
MAX_TEXT = 200
# Suggestions under a picker.
SUGGESTED = 10


def record_label(kind: finder.Kind, record) -> str:
    """What the picker shows of a chosen record: its name as the reader reads it."""
    if kind.title is None:
        return translations.name_of(record)
    if hasattr(record, "get_full_name"):  # a person: as core.forms.person_name names them
        from core.forms import person_name

        return person_name(record)
    return str(record)


class PickerInput(forms.Widget):
    """The text box of a picker, the hidden input of the chosen key, and the list htmx fills."""

    def __init__(self, kind: str, attrs=None):
        super().__init__(attrs)
        self.kind = kind
        self.labels: dict[str, str] = {}  # key -> name, filled by the field for its value

    def value_from_datadict(self, data, files, name):
        return (data.get(name, ""), data.get(name + KEY_SUFFIX, ""))

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + KEY_SUFFIX not in data

    def text_and_key(self, value) -> tuple[str, str]:
        if isinstance(value, list | tuple):
            text, key = [*value, "", ""][:2]
            return str(text or ""), str(key or "")
        if value in (None, ""):
            return "", ""
        key = str(value)
        return self.labels.get(key, key), key

    def render(self, name, value, attrs=None, renderer=None):
        text, key = self.text_and_key(value)
        final = self.build_attrs(self.attrs, attrs)
        box_id = final.pop("id", f"id_{name}")
        disabled = final.pop("disabled", False)
        options_id = f"{box_id}-options"
        extra = forms.utils.flatatt(final)
        if disabled:
            return format_html(
                '<input type="text" name="{}" value="{}" id="{}" disabled{}>',
                name,
                text,
                box_id,
                extra,
            )
        return format_html(
            '<span class="picker">'
            '<input type="text" name="{}" value="{}" id="{}" autocomplete="off" spellcheck="false"'
            ' role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="{}"'
            ' data-picker hx-get="{}" hx-trigger="input changed delay:250ms"'
            ' hx-target="#{}" hx-swap="innerHTML" hx-sync="this:replace"{}>'
            '<input type="hidden" name="{}" value="{}" data-picker-key>'
            '<span id="{}" class="picker-options" role="listbox"></span>'
            "</span>",
            name,
            text,
            box_id,
            options_id,
            reverse("pick", args=[self.kind]),
            options_id,
            extra,
            name + KEY_SUFFIX,
            key,
            options_id,
        )


class RecordPickerField(forms.ModelChoiceField):
    """A record of a kind the header's search finds (core.finder), chosen by its name.

    Validation reads the hidden key when one was chosen (and the name beside it was not
    typed over since), else the typed text: a key (as the API names records), else a name,
    ignoring case. Only records the form's user may see are chosen (``restrict``)."""

    widget = PickerInput

    def __init__(self, kind: str, queryset, **kwargs):
        self.kind_name = kind
        kwargs.setdefault("widget", PickerInput(kind))
        kwargs.setdefault("empty_label", None)
        super().__init__(queryset=queryset, **kwargs)

    @property
    def kind(self) -> finder.Kind:
        kind = finder.kind_named(self.kind_name)
        if kind is None:
            raise LookupError(f"No kind of record is called {self.kind_name!r} (core.finder)")
        return kind

    @property
    def key_field(self) -> str:
        kind = self.kind
        return kind.link_key or getattr(kind.model, "url_key", "pk")

    @property
    def noun(self) -> str:
        return self.kind.singular.lower()

    def restrict(self, user) -> None:
        """Offer only the records ``user`` may see."""
        assert self.queryset is not None
        seen = finder.visible(self.queryset.model, user)
        self.queryset = self.queryset.filter(pk__in=seen.values("pk"))

    def _named(self, text: str) -> models.QuerySet:
        assert self.queryset is not None
        title = self.kind.title if self.kind.title is not None else F("name")
        return self.queryset.alias(picked_name=Cast(title, TextField())).filter(
            picked_name__iexact=text
        )

    def prepare_value(self, value):
        if isinstance(value, list | tuple):  # as sent: shown by the name of what it chose
            try:
                value = self.to_python(value)
            except ValidationError:
                return value
        if isinstance(value, models.Model):
            key = str(getattr(value, self.key_field))
            self.widget.labels[key] = record_label(self.kind, value)
            return key
        if value not in (None, ""):
            assert self.queryset is not None
            record = self.queryset.model._default_manager.filter(**{self.key_field: value}).first()
            if record is not None:
                self.widget.labels[str(value)] = record_label(self.kind, record)
        return value

    def to_python(self, value) -> Any:
        if isinstance(value, models.Model):  # a disabled field's initial choice
            return value
        text, key = value if isinstance(value, list | tuple) else (value, "")
        text, key = str(text or "").strip(), str(key or "").strip()
        if not text and not key:
            return None
        if "\x00" in text + key or len(text) > MAX_TEXT or len(key) > MAX_TEXT:
            raise ValidationError(
                f"This is not the name of a {self.noun}: at most {MAX_TEXT} characters, "
                "without null characters.",
                code="invalid_choice",
            )
        assert self.queryset is not None
        if key:
            chosen = self.queryset.filter(**{self.key_field: key}).first()
            if chosen is not None and text in ("", key, record_label(self.kind, chosen)):
                return chosen
        if not text:
            raise ValidationError(f"No {self.noun} has this key.", code="invalid_choice")
        if self.key_field != "pk":
            by_key = self.queryset.filter(**{self.key_field: text}).first()
            if by_key is not None:
                return by_key
        named = list(self._named(text).order_by(self.key_field)[: NAMED_IN_ERROR + 1])
        if len(named) == 1:
            return named[0]
        if not named:
            raise ValidationError(
                f"No {self.noun} named “{text}”: type its name and choose it from the list.",
                code="invalid_choice",
            )
        count = self._named(text).count()
        keys = ", ".join(str(getattr(record, self.key_field)) for record in named[:NAMED_IN_ERROR])
        key_label = self.queryset.model._meta.get_field(self.key_field).verbose_name
        raise ValidationError(
            f"{count} {self.kind.plural.lower()} are named “{text}”, choose one from the list "
            f"or type its {key_label}: {keys}.",
            code="ambiguous",
        )

    def validate(self, value):
        forms.Field.validate(self, value)

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        try:
            chosen = self.to_python(data)
        except ValidationError:
            return True
        stored = initial.pk if isinstance(initial, models.Model) else initial
        if chosen is None or stored in (None, ""):
            return (chosen is None) != (stored in (None, ""))
        return str(stored) not in (str(chosen.pk), str(getattr(chosen, self.key_field)))


def restrict_pickers(form: forms.BaseForm, user) -> None:
    """Let every picker of ``form`` offer only what ``user`` may see."""
    if user is None:
        return
    for field in form.fields.values():
        if isinstance(field, RecordPickerField):
            field.restrict(user)
