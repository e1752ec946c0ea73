"""The downloadable template of a resource: an XLSX workbook whose first sheet has one column
per target (headers the import recognises), an example row and, for fields with a fixed list
of values, a drop-down of those values; a second sheet says what each column takes."""

import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.api.resources import Resource
from core.exports import workbook_bytes
from imports.mapping import Target
from imports.mapping import resource_label
from imports.mapping import targets

# Rows of the first sheet the drop-downs cover.
VALIDATED_ROWS = 20_000


def example(resource: Resource, target: Target) -> Any:
    """A plausible value for the example row."""
    if target.choices:
        return target.choices[0]
    if target.name == "external_id":
        return f"{resource.name}-0001"
    if target.sub_key == "source":
        return ""
    if target.sub_key == "external_id":
        return f"{target.field.replace('_', '-')}-0001"
    spec = resource.writable.get(target.field)
    model_field = getattr(spec, "model_field", None)
    if target.label.endswith("(username)"):
        return "jdoe"
    if spec is not None and spec.natural_key is not None:
        return spec.natural_key.example
    if isinstance(model_field, models.BooleanField):
        return False
    if isinstance(model_field, models.DecimalField):
        return Decimal("1200.00")
    if isinstance(model_field, models.IntegerField):
        return 12
    if isinstance(model_field, models.DateField):
        return datetime.date(2026, 1, 31)
    verbose_name = getattr(model_field, "verbose_name", None)
    if verbose_name:
        return f"Example {verbose_name}"
    return "example"


def template_bytes(resource: Resource) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = resource_label(resource)[:31]
    help_sheet = workbook.create_sheet("Columns")
    help_sheet.append(["Column", "Required for a new record", "Allowed values"])
    lists = workbook.create_sheet("Allowed values")
    found = targets(resource)
    sheet.append([target.label for target in found])
    sheet.append([example(resource, target) for target in found])
    list_column = 0
    for number, target in enumerate(found, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = max(14, len(target.label) + 2)
        help_sheet.append(
            [target.label, "yes" if target.required else "", ", ".join(target.choices)]
        )
        if not target.choices:
            continue
        list_column += 1
        letter = get_column_letter(list_column)
        lists.cell(row=1, column=list_column, value=target.label)
        for row, choice in enumerate(target.choices, start=2):
            lists.cell(row=row, column=list_column, value=choice)
        last = len(target.choices) + 1
        validation = DataValidation(
            type="list",
            formula1=f"='Allowed values'!${letter}$2:${letter}${last}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=target.label,
            error=f"Choose one of: {', '.join(target.choices)}"[:255],
        )
        column = get_column_letter(number)
        validation.add(f"{column}2:{column}{VALIDATED_ROWS}")
        sheet.add_data_validation(validation)
    lists.sheet_state = "hidden"
    sheet.freeze_panes = "A2"
    return workbook_bytes(workbook)
