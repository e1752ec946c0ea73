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

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.db.models import F
from django.db.models import TextField
from django.db.models.functions import Cast
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from core import finder
from core import search
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
    if hasattr(record, "get_full_name"):  # a person: as every page names them
        return translations.person_name(record)
    return str(record)


class PickerInput(forms.Widget):
    """The text box of a picker, the hidden input of the chosen key, and the list htmx fills."""

    def __init__(self, kind: str, attrs=None, params: dict[str, str] | None = None):
        super().__init__(attrs)
        self.kind = kind
        self.params = params or {}  # sent to the pick view with what was typed
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
            self.pick_url(),
            options_id,
            extra,
            name + KEY_SUFFIX,
            key,
            options_id,
        )

    def pick_url(self) -> str:
        url = reverse("pick", args=[self.kind])
        return f"{url}?{urlencode(self.params)}" if self.params else url


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
            chosen = self._keyed(key)
            if chosen is not None and text in ("", key, record_label(self.kind, chosen)):
                return chosen
        if not text:
            raise ValidationError(f"No {self.noun} has this key.", code="invalid_choice")
        by_key = self._typed_key(text)
        if by_key is not None:
            return by_key
        named = list(self._named(text).order_by(self.key_field)[: NAMED_IN_ERROR + 1])
        if len(named) == 1:
            return named[0]
        if not named:
            raise ValidationError(self._not_found(text), code="invalid_choice")
        count = self._named(text).count()
        raise ValidationError(
            f"{count} {self.kind.plural.lower()} are named “{text}”, choose one from the list "
            f"or {self._tell_apart(named[:NAMED_IN_ERROR])}.",
            code="ambiguous",
        )

    def _not_found(self, text: str) -> str:
        return f"No {self.noun} named “{text}”: type its name and choose it from the list."

    def _keyed(self, key: str):
        """The record offered whose key is ``key``; None when none is, or ``key`` cannot be one."""
        assert self.queryset is not None
        try:
            value = self._key_model_field().to_python(key)
        except ValidationError:
            return None
        return self.queryset.filter(**{self.key_field: value}).first()

    def _typed_key(self, text: str):
        """The record whose key was typed instead of its name (as the API names records)."""
        return self._keyed(text) if self.key_field != "pk" else None

    def _tell_apart(self, named: list) -> str:
        """How to choose one of several records of the same name."""
        assert self.queryset is not None
        keys = ", ".join(str(getattr(record, self.key_field)) for record in named)
        return f"type its {self._key_model_field().verbose_name}: {keys}"

    def _key_model_field(self) -> models.Field:
        assert self.queryset is not None
        meta = self.queryset.model._meta
        return meta.pk if self.key_field == "pk" else meta.get_field(self.key_field)

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


# --- People: an owner or delegates, chosen by name --------------------------------------------

PERSON = "person"
# What separates the names typed into a people picker without JavaScript.
NAME_SEPARATORS = re.compile(r"[,\n]")
# The most people one picker takes (each name typed is looked up).
MAX_PEOPLE = 100


class PersonPickerField(RecordPickerField):
    """A person chosen by name among ``queryset``: the people the form may give the record to
    (core.forms.possible_owners, active_users), a choice of the form, whoever may see people
    (``restrict`` keeps them). Typed text may also be their username, or their id (as a
    select sent it). ``target`` (``app.model.field``) tells the pick view which people to
    suggest."""

    def __init__(self, queryset, *, target: str, **kwargs):
        kwargs.setdefault("widget", PickerInput(PERSON, params={"for": target}))
        super().__init__(PERSON, queryset, **kwargs)

    def restrict(self, user) -> None:
        """The people offered are the form's choice, not those the user may look up."""

    def label_from_instance(self, obj) -> str:
        return record_label(self.kind, obj)

    def _typed_key(self, text: str):
        if text.isdigit():
            return self._keyed(text)
        assert self.queryset is not None
        return self.queryset.filter(username=text).first()

    def _not_found(self, text: str) -> str:
        return (
            f"No one who may be chosen here is named “{text}”: type their name and choose "
            "them from the list."
        )

    def _tell_apart(self, named: list) -> str:
        return "type their username: " + ", ".join(person.username for person in named)


def found_by_what_is_shown(text: str, hits: list[finder.Hit]) -> list[finder.Hit]:
    """The suggested people whose name or username (what a suggestion shows) has a word
    beginning with each word typed: no one is found by what is not shown (their e-mail)."""
    typed = search.query_words(text)

    def shown(hit: finder.Hit) -> bool:
        words = search.query_words(f"{hit.title} {hit.context}")
        return all(
            any(word.startswith(part) if len(part) > 1 else word == part for word in words)
            for part in typed
        )

    return [hit for hit in hits if shown(hit)]


class PeoplePickerInput(PickerInput):
    """Several people: without JavaScript a text box of names separated by commas or lines;
    with it (portico.js) each chosen person is a chip with a remove button and a hidden input
    of their key, and the box adds one more by typing a name."""

    def value_from_datadict(self, data, files, name):
        def values(field: str) -> list[str]:
            if hasattr(data, "getlist"):
                return [str(value) for value in data.getlist(field)]
            value = data.get(field)
            if value in (None, ""):
                return []
            return [str(item) for item in value] if isinstance(value, list | tuple) else [value]

        return (values(name), values(name + KEY_SUFFIX))

    def render(self, name, value, attrs=None, renderer=None):
        chosen, typed = value if isinstance(value, tuple) else ([], "")
        final = self.build_attrs(self.attrs, attrs)
        box_id = final.pop("id", f"id_{name}")
        disabled = final.pop("disabled", False)
        text = ", ".join([shown for _, _, shown in chosen] + ([typed] if typed else []))
        if disabled:
            return format_html(
                '<input type="text" name="{}" value="{}" id="{}" disabled>', name, text, box_id
            )
        options_id = f"{box_id}-options"
        return format_html(
            '<span class="picker picker-many" data-picker-many data-picker-name="{}"'
            ' data-picker-chosen="{}" data-picker-typed="{}">'
            '<span class="picker-chips" data-picker-chips></span>'
            '<input type="text" name="{}" value="{}" id="{}" autocomplete="off" spellcheck="false"'
            ' role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="{}"'
            ' data-picker hx-get="{}" hx-trigger="input changed delay:250ms"'
            ' hx-target="#{}" hx-swap="innerHTML" hx-sync="this:replace"{}>'
            '<span id="{}" class="picker-options" role="listbox"></span>'
            "</span>",
            name + KEY_SUFFIX,
            json.dumps([{"key": key, "name": label} for key, label, _ in chosen]),
            typed,
            name,
            text,
            box_id,
            options_id,
            self.pick_url(),
            options_id,
            forms.utils.flatatt(final),
            options_id,
        )


class PeoplePickerField(forms.ModelMultipleChoiceField):
    """People chosen by name among ``queryset`` (core.forms.active_users): each name typed,
    or key sent, is read as PersonPickerField reads one; every name not found, or shared by
    several people, is an error on the field that names it."""

    widget = PeoplePickerInput

    def __init__(self, queryset, *, target: str, **kwargs):
        kwargs.setdefault("widget", PeoplePickerInput(PERSON, params={"for": target}))
        super().__init__(queryset=queryset, **kwargs)
        self.target = target

    def _one(self) -> PersonPickerField:
        return PersonPickerField(self.queryset, target=self.target)

    def _read(self, value) -> tuple[list, list[str], str]:
        """The people ``value`` names, the errors of the names that name nobody or several,
        and the text of those names."""
        if not isinstance(value, tuple):  # the record's people, or their keys as a select sent
            if all(isinstance(item, models.Model) for item in value or []):
                return list(value or []), [], ""
            value = ([_key_of(item) for item in value], [])
        texts, keys = value
        keys = [str(key).strip() for key in keys if str(key).strip()]
        names = [name.strip() for text in texts for name in NAME_SEPARATORS.split(text)]
        names = [name for name in names if name]
        if len(keys) + len(names) > MAX_PEOPLE:
            return [], [f"At most {MAX_PEOPLE} people can be chosen here."], ""
        assert self.queryset is not None
        keyed = {
            str(person.pk): person
            for person in self.queryset.filter(pk__in=[key for key in keys if key.isdigit()])
        }
        chosen: dict[int, Any] = {}
        errors: list[str] = []
        for key in keys:
            if key in keyed:
                chosen.setdefault(keyed[key].pk, keyed[key])
            elif "No one is chosen by this key." not in errors:
                errors.append("No one is chosen by this key.")
        one = self._one()
        unread: list[str] = []
        for name in names:
            try:
                person = one.to_python(name)
            except ValidationError as error:
                errors += error.messages
                unread.append(name)
                continue
            chosen.setdefault(person.pk, person)
        return list(chosen.values()), errors, ", ".join(unread)

    def to_python(self, value) -> Any:
        people, errors, _ = self._read(value)
        if errors:
            raise ValidationError(errors, code="invalid_choice")
        return people

    def clean(self, value):
        people = self.to_python(value)
        if self.required and not people:
            raise ValidationError(self.error_messages["required"], code="required")
        self.run_validators(people)
        assert self.queryset is not None
        return self.queryset.filter(pk__in=[person.pk for person in people])

    def prepare_value(self, value):
        """The chosen people as (key, name, name as typed back) and the text that named
        nobody: a name two chosen people share, or that holds a comma, is typed back as the
        username."""
        people, _, unread = self._read(value)
        labels = [translations.person_name(person) for person in people]
        shared = {label.lower() for label in labels if labels.count(label) > 1}
        if labels:
            assert self.queryset is not None
            shared |= set(
                self.queryset.annotate(named=Lower(Cast(finder.person_name(), TextField())))
                .filter(named__in=[label.lower() for label in labels])
                .values("named")
                .annotate(people=Count("pk"))
                .filter(people__gt=1)
                .values_list("named", flat=True)
            )
        chosen = [
            (
                str(person.pk),
                label,
                person.username if label.lower() in shared or "," in label else label,
            )
            for person, label in zip(people, labels, strict=True)
        ]
        return (chosen, unread)

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        people, errors, _ = self._read(data)
        if errors:
            return True
        before = {_key_of(item) for item in initial or []}
        return before != {str(person.pk) for person in people}


def _key_of(item) -> str:
    return str(item.pk if isinstance(item, models.Model) else item)
