"""The template of each resource: headers the import recognises, an example row, drop-downs
of the allowed values."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from imports import mapping
from imports import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("resource", mapping.IMPORTABLE)
def test_a_template_reads_back_with_every_column_recognised(client, portfolio_manager, resource):
    client.force_login(portfolio_manager)
    answer = client.get(reverse("imports:template", args=[resource]))
    assert answer.status_code == 200
    run = services.start_run(
        user=portfolio_manager, filename="template.xlsx", content=answer.content, source="t"
    )
    first = run.sheets[0]
    assert first["resource"] == resource
    assert all(first["mapping"].values()), first["mapping"]
    assert first["examples"] and first["examples"][0]


def test_a_choice_column_has_a_drop_down_of_its_values(client, portfolio_manager):
    client.force_login(portfolio_manager)
    answer = client.get(reverse("imports:template", args=["specification-items"]))
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    aspect = headers.index("Aspect") + 1
    letter = sheet.cell(row=1, column=aspect).column_letter
    lists = {
        str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"
    }
    formula = lists[f"{letter}2:{letter}20000"]
    sheet_name, cells = formula.removeprefix("=").split("!")
    values = [c.value for (c,) in book[sheet_name.strip("'")][cells.replace("$", "")]]
    assert values == ["facility", "support"]


def test_an_unknown_resource_has_no_template(client, portfolio_manager):
    client.force_login(portfolio_manager)
    assert client.get(reverse("imports:template", args=["tco-results"])).status_code == 404
