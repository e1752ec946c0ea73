"""From columns to API items: targets, guessing, cells, order, errors in the file's terms."""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.db import models

from core.api.fields import FieldSpec
from core.api.resources import autodiscover
from imports import mapping
from imports.reading import Sheet

# The targets read the custom fields defined in the database.
pytestmark = pytest.mark.django_db


@pytest.fixture
def services():
    return autodiscover()["services"]


def test_columns_are_guessed_from_their_headers(services):
    guessed = mapping.guess_columns(
        services, ["ID", "Name", "Service kind", "owner", "Unit external id", "Colour"]
    )
    assert guessed == {
        "ID": "external_id",
        "Name": "name",
        "Service kind": "kind",
        "owner": "owner",
        "Unit external id": "unit",
        "Colour": "",
    }


def test_a_saved_mapping_comes_before_the_guess(services):
    saved = [{"Title": "summary"}, {"Title": "name", "Key": "external_id"}]
    guessed = mapping.guess_columns(services, ["Key", "Title"], saved)
    assert guessed == {"Key": "external_id", "Title": "name"}


def test_a_sheet_is_known_by_its_name_or_its_columns():
    assert mapping.guess_resource("Specification items", [], only_sheet=False) == (
        "specification-items"
    )
    assert mapping.guess_resource("Sheet1", ["Name"], only_sheet=False) == ""
    assert (
        mapping.guess_resource("export", ["external_id", "customer", "service", "start_date"],
                               only_sheet=True)
        == "subscriptions"
    )  # fmt: skip


def test_cells_become_the_apis_values(services):
    items_resource = autodiscover()["specification-items"]
    sheet = Sheet(
        "Items",
        ["Key", "Service", "Service source", "Dimension", "Target", "Title"],
        [(2, [1001.0, "svc-1", "cmdb", "Functioning", 99.95, None])],
    )
    columns = {
        "Key": "external_id",
        "Service": "service",
        "Service source": "service.source",
        "Dimension": "dimension",
        "Target": "target",
        "Title": "title",
    }
    (item,) = mapping.build_items(items_resource, sheet, columns)
    # A whole number keeps no ".0", a label reads as its value, an empty cell is not given.
    assert item == {
        "external_id": "1001",
        "service": {"external_id": "svc-1", "source": "cmdb"},
        "dimension": "functioning",
        "target": Decimal("99.95"),
    }
    cost_items = autodiscover()["cost-items"]
    sheet = Sheet("Costs", ["Period"], [(2, [datetime.datetime(2026, 10, 1)])])
    assert mapping.build_items(cost_items, sheet, {"Period": "period"}) == [{"period": "2026-10"}]


def test_an_object_valued_field_offers_its_parts_as_targets(services):
    """An object-valued spec (a JSON field: custom fields, translations) that offers
    import_targets() gets one target per part, and the columns mapped to them are nested into
    one object."""

    @dataclasses.dataclass
    class PartsSpec(FieldSpec):
        def import_targets(self) -> list[tuple[str, str]]:
            return [("colour", "Colour"), ("floor", "Floor")]

    resource = dataclasses.replace(services)
    resource.__dict__["writable"] = {
        **services.writable,
        "custom": PartsSpec(name="custom", attname="custom", model_field=models.JSONField()),
    }
    names = {target.name: target.label for target in mapping.targets(resource)}
    assert names["custom.colour"] == "Colour" and names["custom.floor"] == "Floor"
    assert mapping.guess_columns(resource, ["Colour", "Floor"]) == {
        "Colour": "custom.colour",
        "Floor": "custom.floor",
    }
    sheet = Sheet("S", ["Colour", "Floor", "Key"], [(2, ["red", 3.0, "a"]), (3, [None, 4.5, "b"])])
    columns = {"Colour": "custom.colour", "Floor": "custom.floor", "Key": "external_id"}
    assert mapping.build_items(resource, sheet, columns) == [
        {"custom": {"colour": "red", "floor": 3}, "external_id": "a"},
        {"custom": {"floor": 4.5}, "external_id": "b"},
    ]
    # An error of a part is told at its column.
    assert mapping.locate("items.1.custom.floor", sheet, columns, resource) == (3, "Floor")


def test_sheets_are_synced_after_the_records_they_refer_to():
    assert mapping.dependency_order(["specification-items", "subscriptions", "services"]) == [
        "services",
        "specification-items",
        "subscriptions",
    ]
    assert mapping.dependency_order(["cost-items", "contracts", "suppliers"]) == [
        "suppliers",
        "contracts",
        "cost-items",
    ]


def test_an_engine_error_is_told_as_row_and_column(services):
    sheet = Sheet("Services", ["Key", "Name", "Kind"], [(2, ["a", "A", "x"]), (5, ["b", "B", "y"])])
    columns = {"Key": "external_id", "Name": "name", "Kind": "kind"}
    assert mapping.locate("items.1.kind", sheet, columns, services) == (5, "Kind")
    assert mapping.locate("items.0", sheet, columns, services) == (2, "")
    assert mapping.locate("items.0.owner", sheet, columns, services) == (2, "")
    assert mapping.locate("items", sheet, columns, services) == (None, "")


def test_a_mapping_without_the_key_or_with_a_field_twice_is_refused(services):
    problems = mapping.check_mapping(
        services, ["A", "B", "C"], {"A": "name", "B": "name", "C": "nope"}
    )
    assert problems == [
        "Columns “A” and “B” both fill Name.",
        "Column “C”: Services have no field nope.",
        "Map a column to External id: it is each row's key, so that importing the file again "
        "updates the same records.",
    ]
