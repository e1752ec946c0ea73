import datetime
from collections.abc import Iterable
from typing import Any
from typing import cast

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone

from core import finder
from core import number_hints
from core import pickers
from core import search
from core import signin
from core import translations
from core.numbers import month_label
from core.ordering import by_name
from core.translations import person_name

VERSION = "version"


class PersonChoiceField(forms.ModelChoiceField):
    """A person offered by name (the full name, else the username)."""

    def label_from_instance(self, obj) -> str:
        return person_name(obj)


def active_users() -> QuerySet:
    """The people a record can be given to: active accounts, by name."""
    return by_name(get_user_model().objects.filter(is_active=True))


def possible_owners(model, *, current=None) -> QuerySet:
    """The active people whose role may own records of ``model`` (core.roles.OWNER_ROLES),
    and the record's current owner, by name."""
    from core.roles import owner_roles

    allowed = Q(groups__name__in=owner_roles(model))
    if current is not None:
        allowed |= Q(pk=current)
    return active_users().filter(pk__in=get_user_model().objects.filter(allowed).values("pk"))


def person_target(model, field: str) -> str:
    """How a people picker names the field it fills, for the pick view: ``app.model.field``."""
    return f"{model._meta.label_lower}.{field}"


def people_offered(model, field: str, *, current=None) -> QuerySet:
    """The people a form may put in ``field`` of ``model``: anyone active among several (a
    service's delegates), else one whose role may own such a record (and the current one)."""
    if model._meta.get_field(field).many_to_many:
        return active_users()
    return possible_owners(model, current=current)


def _person_forms(form_class) -> Iterable:
    for subclass in form_class.__subclasses__():
        yield subclass
        yield from _person_forms(subclass)


def people_for_picker(user, target: str) -> QuerySet:
    """The people a pick view suggests for ``target`` (``app.model.field``, as
    ``person_target`` names it): the choices of a form's people field, for whoever may use
    that form (add a record of the model, or change one): the people its select showed.
    Http404 for no such field of a form, PermissionDenied for who may not use it."""
    from django.http import Http404

    from core import permissions

    label, _, field = target.rpartition(".")
    fields = {
        (form._meta.model._meta.label_lower, name)
        for form in _person_forms(PorticoModelForm)
        if getattr(form, "_meta", None) is not None and form._meta.model is not None
        for name in form.person_fields
    }
    if (label, field) not in fields:
        raise Http404("No form chooses people by this name.")
    model = apps.get_model(label)
    if not permissions.may_edit_some(user, model):
        raise PermissionDenied(f"You may not add or change {model._meta.verbose_name_plural}.")
    return people_offered(model, field)


def hint_numbers(form: forms.BaseForm) -> None:
    """Let the form's number fields refuse ``12,5`` or ``1,234.50`` with what to type
    instead (core.number_hints, the API's hint too) rather than Django's "Enter a number"."""
    for field in form.fields.values():
        if isinstance(field, forms.DecimalField | forms.IntegerField | forms.FloatField):
            field.to_python = _hinting(field)  # type: ignore[method-assign]


def _hinting(field: forms.Field):
    plain = field.to_python
    integer = isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField)

    def to_python(value):
        try:
            return plain(value)
        except ValidationError:
            message = number_hints.hint(value, integer=integer)
            if message is None:
                raise
            raise ValidationError(message, code="invalid") from None

    return to_python


class PorticoModelForm(forms.ModelForm):
    """A model form that knows who is editing (for choices that depend on the user), and
    which version of the record they started from: a save over someone else's newer one is a
    conflict, shown with both values, never a silent overwrite.

    Declared on a form:

    person_fields: the fields that choose people (an owner, delegates): they offer the active
                   users
    slug_fields:   the foreign keys chosen by slug: an existing record's start from its
                   choice's slug (a picker, core.pickers, starts from its choice's name)
    fixed_fields:  the fields an existing record keeps (another service makes another
                   subscription): shown, not editable
    """

    person_fields: tuple[str, ...] = ()
    slug_fields: tuple[str, ...] = ()
    fixed_fields: tuple[str, ...] = ()

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for name in self.person_fields:
            self.fields[name] = self._person_picker(name, self.fields[name])
        # Records offered by name are named in the reader's language (core.translations).
        for field in self.fields.values():
            if (
                isinstance(field, forms.ModelChoiceField)
                and "label_from_instance" not in vars(field)
                and type(field).label_from_instance is forms.ModelChoiceField.label_from_instance
                and translations.is_translatable(getattr(field.queryset, "model", None))
            ):
                field.label_from_instance = translations.name_of  # type: ignore[method-assign]
        for name, field in self.fields.items():
            if isinstance(field, pickers.RecordPickerField):
                if user is not None:
                    field.restrict(user)
                chosen = getattr(self.instance, name, None) if self.instance.pk else None
                if isinstance(chosen, Model):
                    self.initial[name] = chosen  # shown by its name
        if self.instance.pk is not None:
            for name in self.slug_fields:
                chosen = getattr(self.instance, name)
                self.initial[name] = chosen.slug if chosen is not None else None
            for name in self.fixed_fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = ""
        # Inputs of the record's translations, one per extra language and translatable field.
        self.translation_fields: dict[str, tuple[str, str]] = {}
        self._add_translation_fields()
        for field in self.fields.values():
            # Text areas three lines high unless a field asks for more (Django's ten is too
            # tall for inline forms).
            if isinstance(field.widget, forms.Textarea) and str(field.widget.attrs["rows"]) == "10":
                field.widget.attrs["rows"] = 3
        hint_numbers(self)
        self.conflicts: list[tuple[str, object, object]] = []
        if self.instance.pk is not None and self._version() is not None:
            self.fields[VERSION] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=self._version()
            )

    def _person_picker(self, name: str, chooser: forms.Field) -> forms.Field:
        """The field ``name`` (a person, or people) chosen by name (core.pickers)."""
        model = self._meta.model
        target = person_target(model, name)
        common: dict[str, Any] = {
            "required": chooser.required,
            "label": chooser.label,
            "help_text": chooser.help_text,
            "disabled": chooser.disabled,
        }
        if isinstance(chooser, forms.ModelMultipleChoiceField):
            return pickers.PeoplePickerField(people_offered(model, name), target=target, **common)
        # An owner: only people whose role may own such a record, and the current one.
        current = getattr(self.instance, model._meta.get_field(name).attname)
        queryset = people_offered(model, name, current=current)
        return pickers.PersonPickerField(queryset, target=target, **common)

    def _add_translation_fields(self) -> None:
        """A translatable model's form offers each of its translatable fields once per extra
        language (PORTICO_LANGUAGES), filled from the record's translations."""
        try:
            model_field = self._meta.model._meta.get_field("translations")
        except FieldDoesNotExist:
            return
        stored = getattr(self.instance, "translations", None) or {}
        for language in translations.extra_languages():
            for name in translations.translatable_fields(model_field):
                original = self._meta.model._meta.get_field(name)
                key = f"translation_{language}_{name}"
                self.fields[key] = forms.CharField(
                    required=False,
                    label=f"{str(original.verbose_name).capitalize()} ({language})",
                    max_length=getattr(original, "max_length", None),
                    widget=forms.Textarea(attrs={"rows": 3})
                    if isinstance(original, models.TextField)
                    else forms.TextInput,
                )
                texts = stored.get(language)
                self.initial[key] = texts.get(name, "") if isinstance(texts, dict) else ""
                self.translation_fields[key] = (language, name)

    def _post_clean(self):
        # The translation inputs become the record's translations before it is validated.
        if self.translation_fields:
            updated = getattr(self.instance, "translations", None) or {}
            for key, (language, name) in self.translation_fields.items():
                if key in self.cleaned_data:
                    text = self.cleaned_data[key] or ""
                    updated = translations.with_translation(updated, f"{language}.{name}", text)
            self.instance.translations = updated
        super()._post_clean()  # type: ignore[misc]  # Django's private hook; the stubs omit it

    def _version(self) -> str | None:
        """The stored record's version: when it was last saved, to the microsecond."""
        updated_at = getattr(self.instance, "updated_at", None)
        return updated_at.isoformat() if updated_at is not None else None

    def clean(self):
        cleaned = super().clean()
        if VERSION not in self.fields:
            return cleaned
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        started_from = cleaned.pop(VERSION, "")
        if started_from and started_from != self._version():
            self.conflicts = self._differences(cleaned)
        if self.conflicts:
            # Saving again, having seen both, is a deliberate overwrite of this version.
            assert isinstance(self.data, dict)  # a bound form's data: a QueryDict or a dict
            self.data = self.data.copy()
            self.data[self.add_prefix(VERSION)] = self._version()
            raise ValidationError(
                f"Someone else saved this {self.instance._meta.verbose_name} since you opened "
                "it. What is stored now is shown beside your values: check them, then save "
                "again to keep yours.",
                code="conflict",
            )
        return cleaned

    def _differences(self, cleaned: dict) -> list[tuple[str, object, object]]:
        """(label, saved meanwhile, yours) of each field the two versions disagree on."""
        differences: list[tuple[str, object, object]] = []
        for name, yours in cleaned.items():
            field = self.fields[name]
            # As stored, not as the widget shows it: a field's has_changed prepares it itself
            # (a picker's prepared value is what its widget renders, not a value).
            stored = self.get_initial_for_field(field, name)
            sent = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            if field.has_changed(stored, sent):
                differences.append(
                    (str(field.label or name), _shown(field, stored), _shown(field, yours))
                )
        return differences

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflicts)


def _shown(field, value) -> str:
    """A value as the form offers it: a record or a choice by its name."""
    if value in (None, "") or (isinstance(value, list | tuple) and not value):
        return "—"
    if isinstance(field, forms.ModelMultipleChoiceField):
        records = value if isinstance(value, QuerySet) else _offered(field).filter(pk__in=value)
        return ", ".join(str(record) for record in records)
    if isinstance(field, forms.ModelChoiceField):
        if isinstance(value, Model):
            return str(value)
        return str(_offered(field).filter(pk=value).first() or value)
    if isinstance(value, list | tuple):
        return ", ".join(_shown(field, item) for item in value)
    if isinstance(field, forms.ChoiceField):
        # Django keeps a form field's choices as (value, label) pairs, whatever it was given.
        choices = cast(Iterable[tuple[Any, Any]], field.choices)
        return str(dict(choices).get(value, value))
    return str(value)


def _offered(field: forms.ModelChoiceField) -> QuerySet:
    """The records a form's record field offers (it is always given some)."""
    assert field.queryset is not None
    return field.queryset


# The days of an effective-dated edge (core.models.EffectiveDatedModel) in its forms.
EDGE_DAYS = ["valid_from", "valid_to"]
EDGE_DAY_WIDGETS = {
    name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d") for name in EDGE_DAYS
}


class ChangeFromMonthForm(forms.Form):
    """The month from which an effective-dated edge takes a new weight, and that weight."""

    month = forms.CharField(
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text="The first month with the new weight (YYYY-MM); the months before keep "
        "the weight they had.",
    )
    weight = forms.DecimalField(
        max_digits=12,
        decimal_places=4,
        min_value=0,
        help_text="Its share relative to the others, from that month on.",
    )

    def __init__(self, *args, edge=None, **kwargs):
        super().__init__(*args, **kwargs)
        hint_numbers(self)
        if edge is not None:
            today = timezone.localdate()
            following = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
            self.initial.setdefault("month", f"{following:%Y-%m}")
            self.initial.setdefault("weight", format(edge.weight.normalize(), "f"))

    def clean_month(self) -> datetime.date:
        year, month = month_label(self.cleaned_data["month"])
        return datetime.date(year, month, 1)


class SignInForm(AuthenticationForm):
    """The log-in form (local accounts and the directory). A sign-in its groups give no role
    is refused with that reason rather than as a wrong password."""

    def get_invalid_login_error(self):
        reason = signin.refusal(self.request)
        if reason:
            return ValidationError(reason, code="no_role")
        return super().get_invalid_login_error()


def live_drivers(form, *, empty_label: str | None = "None: share by weight") -> None:
    """A form's ``driver`` choices (finance.Driver): the drivers in use, and the record's own
    even if retired since."""
    field = form.fields["driver"]
    own = form.instance.driver_id
    field.queryset = field.queryset.model.objects.filter(
        Q(retired_at__isnull=True) | Q(pk=own)
    ).order_by("name")
    if empty_label is not None:
        field.empty_label = empty_label


class CsvImportForm(forms.Form):
    """A CSV file to import as one bulk sync batch, keyed by ``source`` and each line's
    external_id; ``clean_file`` gives its text. A subclass says the columns in
    ``file_help``."""

    file = forms.FileField()
    source = forms.CharField(
        max_length=100,
        initial="csv",
        help_text="The lines are keyed by this source and their external_id: a re-import "
        "updates them.",
    )
    file_help = ""
    MAX_BYTES = 10 * 1024 * 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = self.file_help

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError("At most 10 MB in one file.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text.") from None


class LanguageForm(forms.Form):
    """A person's language (people.Profile.language): the browser's, or one of
    PORTICO_LANGUAGES."""

    language = forms.ChoiceField(
        required=False,
        label="Language",
        help_text="Pages, the API and the e-mails Portico sends you use it for the names and "
        "summaries that carry a translation; “Follow the browser” uses your browser's.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["language"])
        field.choices = translations.language_choices()


class SearchForm(forms.Form):
    """The header's search (core.finder): the words to find, and optionally one kind."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=finder.MAX_QUERY_LENGTH,
        error_messages={
            "max_length": "A search is at most %(limit_value)d characters long "
            "(this one has %(show_value)d)."
        },
    )
    kind = forms.ChoiceField(label="Kind", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        kind = cast(forms.ChoiceField, self.fields["kind"])
        kind.choices = [("", "Every kind")] + [(kind.name, kind.plural) for kind in finder.kinds()]

    def clean_q(self) -> str:
        value = self.cleaned_data["q"]
        if value and not search.query_words(value):
            raise ValidationError("Search for a word: it needs at least one letter or digit.")
        return value
