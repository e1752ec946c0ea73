"""Custom fields in the browser's forms, pages, lists and exports, and their definitions."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.choices import ChangeAction
from core.models import ObjectChange
from customfields import services
from customfields.choices import FieldType
from customfields.models import CustomField
from portfolio.models import Service
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ValueStreamFactory
from tests.portfolio.helpers import csv_rows
from tests.portfolio.helpers import xlsx_rows

pytestmark = pytest.mark.django_db


def service_form(service, **values) -> dict:
    return {
        "name": service.name,
        "kind": service.kind,
        "lifecycle": service.lifecycle,
        "criticality": service.criticality,
        "owner": service.owner_id or "",
        **values,
    }


def test_the_service_form_sets_and_refuses_custom_values(client, portfolio_manager, define):
    define("fee", FieldType.DECIMAL, label="Annual fee", minimum="0")
    define("review_on", FieldType.DATE, label="Review on")
    define("tier", FieldType.CHOICE, choices="gold\nsilver", required=True)
    service = ServiceFactory(name="Claims", kind="internal", custom_fields={"tier": "gold"})
    client.force_login(portfolio_manager)
    url = reverse("portfolio:service_edit", args=[service.slug])
    page = client.get(url).content.decode()
    assert 'name="cf_fee"' in page and 'name="cf_review_on"' in page and "Annual fee" in page

    refused = client.post(url, service_form(service, cf_fee="-3", cf_tier=""))
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "Ensure this value is at least 0" in text and "This field is required." in text
    assert Service.objects.get(pk=service.pk).custom_fields == {"tier": "gold"}

    saved = client.post(
        url, service_form(service, cf_fee="1200.00", cf_review_on="2027-01-31", cf_tier="silver")
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Service.objects.get(pk=service.pk).custom_fields == {
        "fee": "1200",
        "review_on": "2027-01-31",
        "tier": "silver",
    }
    detail = client.get(service.get_absolute_url()).content.decode()
    assert "Annual fee" in detail and "1200" in detail and "2027-01-31" in detail
    # The form starts from the stored values.
    again = client.get(url).content.decode()
    assert 'value="1200"' in again and 'value="2027-01-31"' in again


def test_a_new_record_takes_defaults_in_the_browser(client, portfolio_manager, define):
    define("region", FieldType.TEXT, default="EMEA", model="valuestreams.valuestream")
    stream = ValueStreamFactory()
    assert stream.custom_fields == {}  # written around the rules by the factory
    client.force_login(portfolio_manager)
    page = client.get(reverse("valuestreams:valuestream_add")).content.decode()
    assert 'name="cf_region"' in page and 'value="EMEA"' in page


def test_list_columns_filters_and_exports(client, viewer, define):
    define("fee", FieldType.DECIMAL, label="Annual fee")
    define("tier", FieldType.CHOICE, choices="gold\nsilver")
    define("hosted", FieldType.BOOLEAN)
    define("secret", FieldType.TEXT, show_in_list=False)
    ServiceFactory(
        name="Claims",
        custom_fields={"fee": "12.5", "tier": "gold", "hosted": True, "secret": "x"},
    )
    ServiceFactory(name="Payments", custom_fields={"tier": "silver", "hosted": False})
    ServiceFactory(name="Formula", custom_fields={"tier": "silver"})
    client.force_login(viewer)
    url = reverse("portfolio:service_list")

    page = client.get(url).content.decode()
    assert "Annual fee" in page and 'name="cf_tier"' in page and 'name="cf_fee__min"' in page
    gold = client.get(url, {"cf_tier": "gold"}).content.decode()
    assert "Claims" in gold and "Payments" not in gold
    hosted = client.get(url, {"cf_hosted": "false"}).content.decode()
    assert "Payments" in hosted and "Claims" not in hosted
    bad = client.get(url, {"cf_fee": "a lot"})
    assert bad.status_code == 200 and "Expected a decimal number" in bad.content.decode()

    rows = csv_rows(client.get(url, {"export": "csv"}))
    header = rows[0]
    assert "Annual fee" in header and "Tier" in header and "Secret" not in header
    claims = dict(zip(header, next(r for r in rows if r[0] == "Claims"), strict=True))
    assert (claims["Annual fee"], claims["Tier"], claims["Hosted"]) == ("12.5", "gold", "yes")

    sheet = xlsx_rows(client.get(url, {"export": "xlsx", "cf_tier": "gold"}))
    record = dict(zip(sheet[0], sheet[1], strict=True))
    assert record["Annual fee"] == Decimal("12.5") or record["Annual fee"] == 12.5


def test_exports_neutralise_formulas_in_custom_values(client, viewer, define):
    define("note", FieldType.TEXT)
    ServiceFactory(name="Claims", custom_fields={"note": '=HYPERLINK("http://x")'})
    client.force_login(viewer)
    rows = csv_rows(client.get(reverse("portfolio:service_list"), {"export": "csv"}))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Note"].startswith("'=")


def test_a_definition_is_checked_for_its_type(define):
    with pytest.raises(ValidationError) as refused:
        define("tier", FieldType.CHOICE)
    assert "choices" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        define("owner_ref", FieldType.REFERENCE)
    assert "reference_model" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        define("seats", FieldType.INTEGER, minimum="10", maximum="2")
    assert "maximum" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        define("code", FieldType.TEXT, regex="([")
    assert "regex" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        define("contains", FieldType.TEXT)
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        define("Bad Name", FieldType.TEXT)
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        define("fee", FieldType.DECIMAL, default="cheap")
    assert refused.value.message_dict["default"] == ["Expected a decimal number such as 1234.50."]
    assert define("due", FieldType.DATE, default="2027-01-01").default == "2027-01-01"


def test_name_and_type_are_kept_once_records_hold_values(define):
    field = define("fee", FieldType.DECIMAL)
    field.name = "annual_fee"
    assert services.save_custom_field(custom_field=field).name == "annual_fee"
    ServiceFactory(custom_fields={"annual_fee": "1"})
    field.name, field.type = "fee", FieldType.INTEGER
    with pytest.raises(ValidationError) as refused:
        services.save_custom_field(custom_field=field)
    assert set(refused.value.message_dict) == {"name", "type"}


def test_deleting_a_definition_removes_its_values_in_the_history(client, portfolio_manager, define):
    field = define("fee", FieldType.DECIMAL)
    define("tier", FieldType.CHOICE, choices="gold")
    holder = ServiceFactory(name="Claims", custom_fields={"fee": "1", "tier": "gold"})
    other = ServiceFactory(name="Payments", custom_fields={"tier": "gold"})
    client.force_login(portfolio_manager)
    url = reverse("customfields:customfield_delete", args=[field.pk])
    question = client.get(url).content.decode()
    assert "1 record holds a value of it" in question
    assert client.post(url).status_code == 302
    assert not CustomField.objects.filter(pk=field.pk).exists()
    assert Service.objects.get(pk=holder.pk).custom_fields == {"tier": "gold"}
    assert Service.objects.get(pk=other.pk).custom_fields == {"tier": "gold"}
    change = ObjectChange.objects.get(object_id=str(holder.pk), action=ChangeAction.UPDATE)
    assert change.before == {"custom_fields": {"fee": "1", "tier": "gold"}}
    assert change.after == {"custom_fields": {"tier": "gold"}}


def test_clean_values_is_the_one_validation(define):
    customer = CustomerFactory()
    define("account", FieldType.REFERENCE, reference_model="portfolio.customer")
    define("seats", FieldType.INTEGER, required=True, default=1)
    assert services.clean_values(Service, {"account": customer.pk}, partial=False) == {
        "account": customer.pk,
        "seats": 1,
    }
    assert services.clean_values(Service, {"account": None}, partial=True) == {"account": None}
    with pytest.raises(ValidationError) as refused:
        services.clean_values(Service, {"seats": None, "x": 1}, partial=True)
    assert refused.value.message_dict == {
        "custom_fields.seats": ["This field is required."],
        "custom_fields.x": [services.UNKNOWN],
    }
    day = datetime.date(2027, 1, 1)
    define("due", FieldType.DATE)
    assert services.clean_values(Service, {"due": day}, partial=True) == {"due": "2027-01-01"}


@pytest.mark.parametrize(
    "query",
    [
        {"cf_fee": "x" * 20_000},
        {"cf_fee__min": "1e999"},
        {"cf_due__max": "2027-13-45"},
        {"cf_tier": "<script>"},
        {"cf_account": "-1"},
        {"cf_note__contains": "%_\\"},
    ],
)
def test_hostile_filters_never_fail(client, viewer, define, query):
    define("fee", FieldType.DECIMAL)
    define("due", FieldType.DATE)
    define("tier", FieldType.CHOICE, choices="gold")
    define("note", FieldType.TEXT)
    define("account", FieldType.REFERENCE, reference_model="portfolio.customer")
    ServiceFactory(custom_fields={"fee": "1", "note": "plain"})
    client.force_login(viewer)
    assert client.get(reverse("portfolio:service_list"), query).status_code == 200


def test_a_custom_column_sorts_numbers_as_numbers(client, viewer, define):
    define("fee", FieldType.DECIMAL)
    for name, fee in (("Hundred", "100"), ("Twelve", "12.5"), ("Nine", "9"), ("None", None)):
        ServiceFactory(name=name, custom_fields={"fee": fee} if fee else {})
    client.force_login(viewer)
    rows = csv_rows(
        client.get(reverse("portfolio:service_list"), {"sort": "cf_fee", "export": "csv"})
    )
    assert [row[0] for row in rows[1:]] == ["Nine", "Twelve", "Hundred", "None"]
    rows = csv_rows(
        client.get(reverse("portfolio:service_list"), {"sort": "-cf_fee", "export": "csv"})
    )
    assert [row[0] for row in rows[1:]] == ["Hundred", "Twelve", "Nine", "None"]
