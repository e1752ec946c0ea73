import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from core.models import ChangeLoggedModel
from customfields import values
from customfields.choices import FieldType
from customfields.choices import TargetModel

validate_key = RegexValidator(
    r"^[a-z][a-z0-9_]*\Z",
    "Use lower-case letters, digits and underscores, starting with a letter: “annual_fee”.",
)


# A key may follow ``custom_fields__`` in a query (a list's sorting): it must not be one of
# the JSON field's own lookups and transforms.
RESERVED_NAMES = frozenset(models.JSONField.get_lookups()) | {"pk", "id"}


class CustomField(ChangeLoggedModel):
    """A field portfolio managers add to one of the models that carry custom fields: its
    values live in each record's ``custom_fields`` object under ``name``
    (customfields.values says how each type is stored)."""

    model = models.CharField(
        "applies to", max_length=40, choices=TargetModel.choices, help_text="The records it is for."
    )
    name = models.CharField(
        max_length=50,
        validators=[validate_key],
        help_text="The key in the API, imports and exports: lower case, digits, underscores. "
        "It cannot change once records hold values.",
    )
    label = models.CharField(max_length=100, help_text="What forms, pages and lists call it.")
    description = models.TextField(blank=True, help_text="Shown under the field in forms.")
    type = models.CharField(max_length=20, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(
        default=False, help_text="A new record must have a value, and a value cannot be emptied."
    )
    default = models.JSONField(
        null=True, blank=True, help_text="The value a new record gets when it is given none."
    )
    choices = models.TextField(
        blank=True, help_text="Choice and multiple choice: the choices, one a line."
    )
    minimum = models.CharField(
        max_length=40, blank=True, help_text="Numbers and dates: the smallest value allowed."
    )
    maximum = models.CharField(
        max_length=40, blank=True, help_text="Numbers and dates: the largest value allowed."
    )
    max_length = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=f"Text: the most characters (at most {values.TEXT_MAX}, long text "
        f"{values.LONG_TEXT_MAX}).",
    )
    regex = models.CharField(
        "pattern",
        max_length=200,
        blank=True,
        help_text="Text: a regular expression the whole value must match (^[A-Z]{3}-[0-9]+$).",
    )
    reference_model = models.CharField(
        "refers to",
        max_length=40,
        choices=TargetModel.choices,
        blank=True,
        help_text="Reference: the kind of record it names (stored by id).",
    )
    order = models.PositiveIntegerField(default=0, help_text="Fields are shown in this order.")
    show_in_list = models.BooleanField(
        "shown in the list", default=True, help_text="A column of the list page."
    )

    class Meta:
        ordering = ["model", "order", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="customfield_unique_name"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def key(self) -> str:
        """Its name as errors and exports name it: ``custom_fields.<name>``."""
        return f"custom_fields.{self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        kind = self.type
        if self.name in RESERVED_NAMES:
            errors["name"] = f"“{self.name}” is a word of the database's queries: choose another."
        if kind in values.CHOOSING:
            if not self.choice_list:
                errors["choices"] = "Give at least one choice, one a line."
            elif len(set(self.choice_list)) != len(self.choice_list):
                errors["choices"] = "Each choice once."
        elif self.choices.strip():
            errors["choices"] = "Only a choice or multiple-choice field has choices."
        if kind == FieldType.REFERENCE and not self.reference_model:
            errors["reference_model"] = "Say which kind of record it refers to."
        elif kind != FieldType.REFERENCE and self.reference_model:
            errors["reference_model"] = "Only a reference refers to records."
        ranged = kind in (*values.NUMERIC, FieldType.DATE)
        for name in ("minimum", "maximum"):
            text = getattr(self, name).strip()
            setattr(self, name, text)
            if text and not ranged:
                errors[name] = "Only numbers and dates have a minimum and a maximum."
            elif text:
                try:
                    values.bound(self, text)
                except values.ValueRefused:
                    errors[name] = (
                        "Give a date such as 2026-01-31."
                        if kind == FieldType.DATE
                        else "Give a number such as 12.5."
                    )
        if ranged and not errors.keys() & {"minimum", "maximum"}:
            low, high = values.bound(self, self.minimum), values.bound(self, self.maximum)
            if low is not None and high is not None and high < low:  # type: ignore[operator]
                errors["maximum"] = "The maximum cannot be below the minimum."
        textual = kind in values.TEXTUAL
        if self.max_length is not None and not textual:
            errors["max_length"] = "Only text has a maximum length."
        if self.regex and not textual:
            errors["regex"] = "Only text has a pattern."
        elif self.regex:
            try:
                re.compile(self.regex)
            except re.error as exc:
                errors["regex"] = f"This is not a regular expression: {exc}."
        if not errors and self.default is not None:
            if values.is_empty(self.default):
                self.default = None
            elif kind == FieldType.REFERENCE:
                errors["default"] = "A reference has no default."
            else:
                try:
                    self.default = values.convert(self, self.default)
                except values.ValueRefused as exc:
                    errors["default"] = exc.message
        if errors:
            raise ValidationError(errors)
