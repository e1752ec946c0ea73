"""Custom fields through the API: single writes, the sync, filters, the schema, the change
log, and hostile input (never a 500)."""

import pytest

from core.choices import ChangeAction
from core.models import ObjectChange
from customfields.choices import FieldType
from portfolio.models import Service
from tests.api.helpers import service_item
from tests.api.helpers import sync
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(define):
    return {
        "fee": define("fee", FieldType.DECIMAL, minimum="0"),
        "tier": define("tier", FieldType.CHOICE, choices="gold\nsilver\nbronze", default="bronze"),
        "tags": define("tags", FieldType.MULTIPLE_CHOICE, choices="pci\ngdpr\nsox"),
        "review_on": define("review_on", FieldType.DATE),
        "seats": define("seats", FieldType.INTEGER, maximum="1000"),
        "hosted": define("hosted", FieldType.BOOLEAN),
        "wiki": define("wiki", FieldType.URL),
        "code": define("code", FieldType.TEXT, regex=r"[A-Z]{3}-[0-9]+", max_length=20),
        "account": define("account", FieldType.REFERENCE, reference_model="portfolio.customer"),
    }


def test_custom_fields_round_trip_with_defaults_and_stored_forms(pm_api, fields):
    customer = CustomerFactory()
    body = {
        "name": "Claims portal",
        "kind": "customer_facing",
        "custom_fields": {
            "fee": "12.50",
            "tags": ["sox", "pci"],
            "review_on": "2027-03-31",
            "seats": 40,
            "hosted": True,
            "wiki": "https://wiki.example.org/claims",
            "code": "CLM-12",
            "account": customer.pk,
        },
    }
    created = pm_api.post("/api/v1/services/", body)
    assert created.status_code == 201, created.json()
    values = created.json()["custom_fields"]
    assert values == {
        "fee": "12.5",
        "tier": "bronze",  # the default
        "tags": ["pci", "sox"],  # in the order the choices are defined
        "review_on": "2027-03-31",
        "seats": 40,
        "hosted": True,
        "wiki": "https://wiki.example.org/claims",
        "code": "CLM-12",
        "account": customer.pk,
    }
    url = f"/api/v1/services/{created.json()['id']}/"
    patched = pm_api.patch(url, {"custom_fields": {"fee": 13, "hosted": None}})
    assert patched.status_code == 200, patched.json()
    after = patched.json()["custom_fields"]
    assert after["fee"] == "13" and "hosted" not in after and after["seats"] == 40
    assert pm_api.get(url).json()["custom_fields"] == after


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"fee": "twelve"}, "fee", "Expected a decimal number"),
        ({"fee": {"amount": 1}}, "fee", "Expected a decimal number"),
        ({"fee": [1, 2]}, "fee", "Expected a decimal number"),
        ({"fee": "-1"}, "fee", "at least 0"),
        ({"seats": 1001}, "seats", "at most 1000"),
        ({"seats": True}, "seats", "Expected an integer"),
        ({"seats": 1.5}, "seats", "Expected an integer"),
        ({"tier": "platinum"}, "tier", "not a valid choice"),
        ({"tags": "pci"}, "tags", "Expected a list of choices"),
        ({"tags": ["pci", {"x": 1}]}, "tags", "not a valid choice"),
        ({"review_on": "31/03/2027"}, "review_on", "YYYY-MM-DD"),
        ({"review_on": "2027-02-30"}, "review_on", "not a valid date"),
        ({"hosted": "yes"}, "hosted", "true or false"),
        ({"wiki": "javascript:alert(1)"}, "wiki", "web address"),
        ({"code": "clm-12"}, "code", "expected form"),
        ({"code": "X" * 100_000}, "code", "at most 20 characters"),
        ({"code": "A\x00B"}, "code", "Null characters"),
        ({"account": 999_999}, "account", "No record of customers has the id 999999"),
        ({"account": "acme"}, "account", "record id"),
        ({"colour": "red"}, "colour", "Unknown custom field"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field(pm_api, fields, values, field, message):
    body = {"name": "Claims portal", "kind": "internal", "custom_fields": values}
    response = pm_api.post("/api/v1/services/", body)
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert list(errors) == [f"custom_fields.{field}"]
    assert message in errors[f"custom_fields.{field}"][0]
    assert not Service.objects.exists()


@pytest.mark.parametrize("value", ["text", 12, ["a"], None, True])
def test_custom_fields_must_be_an_object(pm_api, fields, value):
    response = pm_api.post(
        "/api/v1/services/", {"name": "S", "kind": "internal", "custom_fields": value}
    )
    assert response.status_code == 400
    assert "custom_fields" in response.json()["errors"]


def test_the_fee_refusal_reads_as_documented(pm_api, fields):
    response = pm_api.post(
        "/api/v1/services/", {"name": "S", "kind": "internal", "custom_fields": {"fee": True}}
    )
    assert response.json()["errors"] == {"custom_fields.fee": ["Expected a decimal number."]}


def test_required_on_create_and_when_emptied(pm_api, define):
    define("cost_centre", FieldType.TEXT, required=True)
    missing = pm_api.post("/api/v1/services/", {"name": "S", "kind": "internal"})
    assert missing.json()["errors"] == {"custom_fields.cost_centre": ["This field is required."]}
    created = pm_api.post(
        "/api/v1/services/",
        {"name": "S", "kind": "internal", "custom_fields": {"cost_centre": "CC-1"}},
    )
    assert created.status_code == 201
    url = f"/api/v1/services/{created.json()['id']}/"
    emptied = pm_api.patch(url, {"custom_fields": {"cost_centre": ""}})
    assert emptied.json()["errors"] == {"custom_fields.cost_centre": ["This field is required."]}
    # A change elsewhere leaves it as it is.
    assert pm_api.patch(url, {"summary": "Changed"}).status_code == 200


def test_sync_writes_custom_fields_and_refuses_the_batch_naming_item_and_field(pm_api, fields):
    items = [
        service_item(0, custom_fields={"fee": "10", "tier": "gold"}),
        service_item(1, custom_fields={"seats": 3}),
    ]
    response = sync(pm_api, "services", items)
    assert response.status_code == 200, response.json()
    stored = {s.external_id: s.custom_fields for s in Service.objects.all()}
    assert stored == {
        "svc-0": {"fee": "10", "tier": "gold"},
        "svc-1": {"tier": "bronze", "seats": 3},
    }
    again = sync(pm_api, "services", items)
    assert [i["outcome"] for i in again.json()["items"]] == ["unchanged", "unchanged"]

    bad = sync(
        pm_api,
        "services",
        [service_item(0, custom_fields={"fee": "ten"}), service_item(1, name="Renamed")],
    )
    assert bad.status_code == 400
    assert "items.0.custom_fields.fee" in bad.json()["errors"]
    assert Service.objects.get(external_id="svc-1").name == "Service 1"  # all or nothing

    # An item that leaves custom_fields out keeps them; one that sends some changes those.
    sync(pm_api, "services", [service_item(0, custom_fields={"seats": 9})])
    assert Service.objects.get(external_id="svc-0").custom_fields == {
        "fee": "10",
        "tier": "gold",
        "seats": 9,
    }


def test_filters_on_custom_fields(pm_api, fields):
    gold = ServiceFactory(name="Gold one", custom_fields={"tier": "gold", "fee": "12.5"})
    ServiceFactory(name="Silver one", custom_fields={"tier": "silver", "fee": "3"})
    tagged = ServiceFactory(name="Tagged", custom_fields={"tags": ["pci", "sox"], "code": "ABC-1"})

    def names(**params):
        response = pm_api.get("/api/v1/services/", **params)
        assert response.status_code == 200, response.json()
        return {row["name"] for row in response.json()["results"]}

    assert names(cf_tier="gold") == {gold.name}
    assert names(cf_fee="12.50") == {gold.name}  # the stored form is compared
    assert names(cf_fee__min="5") == {gold.name}
    assert names(cf_fee__max="5") == {"Silver one"}
    assert names(cf_tags="sox") == {tagged.name}
    assert names(cf_code__contains="abc") == {tagged.name}
    refused = pm_api.get("/api/v1/services/", cf_fee="lots")
    assert refused.status_code == 400
    assert "cf_fee" in refused.json()["errors"]
    assert pm_api.get("/api/v1/services/", cf_nothing="1").status_code == 400


def test_the_schema_describes_the_defined_fields_and_follows_new_ones(pm_api, fields):
    schema = pm_api.get("/api/v1/schema/", format="json").json()
    described = schema["components"]["schemas"]["ServiceWrite"]["properties"]["custom_fields"]
    assert described["additionalProperties"] is False
    assert described["properties"]["fee"]["format"] == "decimal"
    assert described["properties"]["tier"]["enum"] == ["gold", "silver", "bronze"]
    assert described["properties"]["account"]["type"] == "integer"
    parameters = {p["name"] for p in schema["paths"]["/api/v1/services/"]["get"]["parameters"]}
    assert {"cf_fee", "cf_fee__min", "cf_tier", "cf_code__contains"} <= parameters

    from customfields.models import CustomField

    CustomField.objects.create(
        model="portfolio.service", name="region", label="Region", type=FieldType.TEXT
    )
    again = pm_api.get("/api/v1/schema/", format="json").json()
    service = again["components"]["schemas"]["Service"]["properties"]["custom_fields"]
    assert "region" in service["properties"]


def test_value_changes_are_in_the_change_log(pm_api, fields):
    created = pm_api.post(
        "/api/v1/services/",
        {"name": "S", "kind": "internal", "custom_fields": {"fee": "1"}},
    ).json()
    pm_api.patch(f"/api/v1/services/{created['id']}/", {"custom_fields": {"fee": "2"}})
    change = ObjectChange.objects.filter(
        object_id=str(created["id"]), action=ChangeAction.UPDATE
    ).latest("time")
    assert change.before["custom_fields"]["fee"] == "1"
    assert change.after["custom_fields"]["fee"] == "2"


def test_custom_fields_on_the_other_resources(pm_api, define):
    for model, resource in [
        ("portfolio.customer", "customers"),
        ("portfolio.supplier", "suppliers"),
        ("portfolio.application", "applications"),
        ("portfolio.contract", "contracts"),
        ("valuestreams.valuestream", "value-streams"),
    ]:
        define("region", FieldType.CHOICE, choices="emea\napac", model=model)
        listed = pm_api.get(f"/api/v1/{resource}/", cf_region="emea")
        assert listed.status_code == 200, (resource, listed.json())
        schema_props = pm_api.get("/api/v1/schema/", format="json").json()["components"]["schemas"]
        component = {"value-streams": "ValueStream"}.get(resource, resource[:-1].capitalize())
        assert "region" in schema_props[component]["properties"]["custom_fields"]["properties"]


def test_import_targets_name_each_defined_field(fields):
    from core.api.resources import registry

    spec = registry["services"].writable["custom_fields"]
    targets = spec.import_targets()
    assert ("fee", "Fee") in targets and ("account", "Account") in targets
    # In the definitions' order: their order, then their labels.
    assert [label for _, label in targets] == sorted(label for _, label in targets)
    assert len(targets) == len(fields)


def test_import_values_read_cells_as_the_api_takes_them(fields):
    from core.api.resources import registry

    spec = registry["services"].writable["custom_fields"]
    assert spec.import_value("hosted", "Yes") is True
    assert spec.import_value("hosted", "no") is False
    assert spec.import_value("tags", "sox; pci") == ["sox", "pci"]
    assert spec.import_value("account", "12") == 12
    assert spec.import_value("fee", "12.50") == "12.50"
    assert spec.import_value("hosted", "perhaps") == "perhaps"  # for the rule to refuse
    assert spec.import_value("seats", 12) == 12
