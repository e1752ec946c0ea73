"""The ``custom_fields`` model field: a JSON object of a record's custom-field values, and
its API form (core.api.fields asks a model field for ``api_spec``)."""

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.db import models

from core.api.fields import VALUE
from core.api.fields import FieldInvalid
from core.api.fields import FieldSpec
from customfields import services
from customfields import values


def _object(value: Any) -> dict:
    """The API takes an object here; each value is judged by the custom-field rule
    (customfields.services), which names the field at fault (``custom_fields.fee``)."""
    if not isinstance(value, dict):
        raise FieldInvalid(services.NOT_AN_OBJECT)
    if len(value) > services.MAX_KEYS:
        raise FieldInvalid(f"At most {services.MAX_KEYS} custom fields.")
    return dict(value)


class CustomFieldsSpec(FieldSpec):
    """The API's ``custom_fields`` object of one model: its schema lists the fields defined
    when the schema is made, and ``import_targets`` the columns an import can fill."""

    def openapi(self, *, writable: bool) -> dict:
        properties = {d.name: values.json_schema(d) for d in services.definitions(self.model)}
        schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
            "description": (
                "The custom fields portfolio managers define for these records, by name. "
                "Writing sends the fields to change (null removes a value); the others keep "
                "theirs."
            ),
        }
        if self.read_only:
            schema["readOnly"] = True
        return schema

    @property
    def model(self) -> type[models.Model]:
        return self.model_field.model

    def import_targets(self) -> list[tuple[str, str]]:
        """(name, label) of each custom field of the model, in order: an import's column
        ``custom_fields.<name>`` fills that field."""
        return [(d.name, d.label) for d in services.definitions(self.model)]

    def import_value(self, name: str, cell: Any) -> Any:
        """A spreadsheet cell of the column ``custom_fields.<name>`` as the API takes the
        value: a cell holds text where JSON has a type (``yes`` for true, ``pci, sox`` for
        two choices, ``12`` for a record's id). What it cannot read is passed on as it is,
        for the custom-field rule to refuse with the reason."""
        definition = next((d for d in services.definitions(self.model) if d.name == name), None)
        if definition is None or not isinstance(cell, str):
            return cell
        return values.from_text(definition, cell)


class CustomFieldsField(models.JSONField):
    """A record's custom-field values (customfields.values says how each is stored),
    indexed by a GIN index (jsonb_path_ops) so ``custom_fields__contains`` filters use it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("help_text", "Custom fields defined by portfolio managers.")
        super().__init__(*args, **kwargs)

    def api_spec(self, model, *, read_only: bool = False) -> FieldSpec:
        return CustomFieldsSpec(
            name=self.name,
            kind=VALUE,
            model_field=self,
            attname=self.attname,
            read_only=read_only,
            required=False,
            nullable=False,
            convert=_object,
            help_text=str(self.help_text),
        )


def custom_fields_index(model_name: str) -> GinIndex:
    """The GIN index (jsonb_path_ops: containment only, smaller and faster than the default)
    that serves ``custom_fields__contains={name: value}``."""
    return GinIndex(
        fields=["custom_fields"], opclasses=["jsonb_path_ops"], name=f"{model_name}_cf_gin"
    )
