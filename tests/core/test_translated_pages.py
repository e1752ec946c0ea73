"""Names in the reader's language everywhere (core.translations): lists and their exports,
record pages, the value-stream map, falling back to the original where a record has no
translation, sorting by the original, and no query more for it."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories.portfolio import ApplicationFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = pytest.mark.django_db

FRENCH = {"accept-language": "fr"}


@pytest.fixture
def french(settings):
    settings.PORTICO_LANGUAGES = ["en", "fr"]
    settings.LANGUAGES = [("en", "English"), ("fr", "français")]


def table_of(response) -> str:
    page = response.content.decode()
    start = page.index('id="object-table"')
    return page[start : page.index("</table>", start)]


@pytest.mark.parametrize(
    ("factory", "url_name"),
    [
        (ServiceFactory, "portfolio:service_list"),
        (CustomerFactory, "portfolio:customer_list"),
        (ApplicationFactory, "portfolio:application_list"),
        (ValueStreamFactory, "valuestreams:valuestream_list"),
    ],
)
def test_a_list_in_french_shows_translations_falls_back_and_sorts_by_the_original(
    french, client, viewer, factory, url_name
):
    factory(name="Alpha", translations={"fr": {"name": "Zénith"}})
    factory(name="Beta")
    client.force_login(viewer)

    french_table = table_of(client.get(reverse(url_name), headers=FRENCH))
    english_table = table_of(client.get(reverse(url_name), headers={"accept-language": "en"}))

    assert "Zénith" in french_table and "Alpha" not in french_table
    assert "Beta" in french_table  # no translation: the original
    # Sorted by the original name: Alpha (shown as Zénith) before Beta.
    assert french_table.index("Zénith") < french_table.index("Beta")
    assert "Alpha" in english_table and "Zénith" not in english_table


def test_a_list_export_is_in_the_readers_language(french, client, viewer):
    ServiceFactory(name="Claims handling", translations={"fr": {"name": "Gestion des sinistres"}})
    ServiceFactory(name="Payments")
    client.force_login(viewer)

    exported = client.get(reverse("portfolio:service_list"), {"export": "csv"}, headers=FRENCH)

    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    names = {row[0] for row in rows[1:]}
    assert names == {"Gestion des sinistres", "Payments"}


def test_translated_lists_ask_no_more_queries_than_the_originals(french, client, viewer):
    for number in range(5):
        ServiceFactory(name=f"Service {number}", translations={"fr": {"name": f"Le {number}"}})
    client.force_login(viewer)
    url = reverse("portfolio:service_list")
    client.get(url)  # warm caches (content types, custom field definitions)

    with CaptureQueriesContext(connection) as english:
        client.get(url, headers={"accept-language": "en"})
    with CaptureQueriesContext(connection) as french_queries:
        page = client.get(url, headers=FRENCH)

    assert "Le 3" in page.content.decode()
    assert len(french_queries) == len(english)


def test_record_pages_show_the_translated_name_and_description_or_the_original(
    french, client, viewer
):
    service = ServiceFactory(name="Claims handling", translations={"fr": {"name": "Sinistres"}})
    customer = CustomerFactory(name="Brokers", translations={"fr": {"name": "Courtiers"}})
    plain_customer = CustomerFactory(name="Walk-in")
    SubscriptionFactory(customer=customer, service=service)
    application = ApplicationFactory(
        name="ClaimsCenter",
        description="Handles claims.",
        translations={"fr": {"name": "CentreSinistres", "description": "Gère les sinistres."}},
    )
    stream = ValueStreamFactory(
        name="Settle a claim",
        description="From claim to payment.",
        translations={"fr": {"name": "Régler un sinistre"}},
    )
    client.force_login(viewer)

    customer_page = client.get(customer.get_absolute_url(), headers=FRENCH).content.decode()
    assert "<h1>Courtiers" in customer_page and "<title>Courtiers" in customer_page
    assert "Sinistres" in customer_page  # the subscribed service, by its French name
    plain_page = client.get(plain_customer.get_absolute_url(), headers=FRENCH).content.decode()
    assert "<h1>Walk-in" in plain_page
    application_page = client.get(application.get_absolute_url(), headers=FRENCH)
    assert "CentreSinistres" in application_page.content.decode()
    assert "Gère les sinistres." in application_page.content.decode()
    stream_page = client.get(stream.get_absolute_url(), headers=FRENCH).content.decode()
    assert "<h1>Régler un sinistre" in stream_page
    assert "From claim to payment." in stream_page  # no French description: the original


def test_the_value_stream_map_names_stream_and_services_in_the_readers_language(
    french, client, viewer
):
    stream = ValueStreamFactory(name="Settle a claim", translations={"fr": {"name": "Régler"}})
    stage = StageFactory(value_stream=stream)
    StageServiceFactory(
        stage=stage, service=ServiceFactory(name="Claims", translations={"fr": {"name": "Sinis"}})
    )
    StageServiceFactory(stage=stage, service=ServiceFactory(name="Payments"))
    client.force_login(viewer)

    page = client.get(stream.get_absolute_url(), headers=FRENCH).content.decode()

    assert "Value stream map: Régler" in page
    assert ">Sinis<" in page and ">Payments<" in page
    english = client.get(stream.get_absolute_url(), headers={"accept-language": "en"})
    assert "Value stream map: Settle a claim" in english.content.decode()


def test_a_form_offers_records_by_their_translated_name(french):
    from django.utils import translation

    from core.forms import PorticoModelForm
    from portfolio.models import ApplicationSupport

    class SupportForm(PorticoModelForm):
        class Meta:
            model = ApplicationSupport
            fields = ["application"]

    ApplicationFactory(name="Claims portal", translations={"fr": {"name": "Portail sinistres"}})
    ApplicationFactory(name="Ledger")
    with translation.override("fr"):
        labels = [label for _, label in SupportForm().fields["application"].choices][1:]
    assert sorted(labels) == ["Ledger", "Portail sinistres"]
    with translation.override("en"):
        labels = [label for _, label in SupportForm().fields["application"].choices][1:]
    assert sorted(labels) == ["Claims portal", "Ledger"]
