"""Record translations: the API reads, writes and refuses them strictly, a page shows the
reader's language and falls back to the original, a report shows them, and imports can map
columns into them (core.translations)."""

import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from core.api.resources import registry
from core.models import ObjectChange
from core.translations import translated
from core.translations import with_translation
from finance import reports
from finance import services as finance_services
from finance.models import ReportRun
from finance.services.report_spans import parse_report_period
from people import services as people_services
from portfolio.models import Service
from tests.api.helpers import service_item
from tests.api.helpers import sync
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def french(settings):
    settings.PORTICO_LANGUAGES = ["en", "fr"]
    settings.LANGUAGES = [("en", "English"), ("fr", "français")]


def test_translations_round_trip_through_the_api_and_are_change_logged(french, pm_api):
    service = ServiceFactory(name="Claims handling", summary="Handle claims.")
    body = {"fr": {"name": "Gestion des sinistres", "summary": "Gérer les sinistres."}}

    changed = pm_api.patch(f"/api/v1/services/{service.pk}/", {"translations": body})

    assert changed.status_code == 200, changed.content
    assert changed.json()["translations"] == body
    assert pm_api.get(f"/api/v1/services/{service.pk}/").json()["translations"] == body
    service.refresh_from_db()
    assert service.translations == body
    change = ObjectChange.objects.filter(object_id=service.pk).order_by("-time").first()
    assert "Gestion des sinistres" in str(change.after)
    customer = pm_api.post(
        "/api/v1/customers/",
        {"name": "Broker", "kind": "external", "translations": {"fr": {"name": "Courtier"}}},
    )
    assert customer.status_code == 201, customer.content
    assert customer.json()["translations"] == {"fr": {"name": "Courtier"}}


@pytest.mark.parametrize(
    ("translations", "named"),
    [
        ({"de": {"name": "Schadenbearbeitung"}}, "'de' is not a language"),
        ({"en": {"name": "Claims"}}, "'en' is not a language"),
        ({"fr": {"owner": "x"}}, "fr.owner: not a translatable field"),
        ({"fr": {"name": 12}}, "fr.name: give a text"),
        ({"fr": "Gestion"}, "fr: give an object"),
        (["fr"], "Give an object by language"),
    ],
)
def test_a_bad_translation_is_refused_naming_it(french, pm_api, translations, named):
    service = ServiceFactory(name="Claims handling")

    refused = pm_api.patch(f"/api/v1/services/{service.pk}/", {"translations": translations})

    assert refused.status_code == 400, refused.content
    assert named in " ".join(refused.json()["errors"]["translations"])
    service.refresh_from_db()
    assert service.translations == {}


def test_a_sync_refuses_an_unknown_language_and_writes_nothing(french, pm_api):
    items = [
        service_item(1, translations={"fr": {"name": "Sinistres"}}),
        service_item(2, translations={"xx": {"name": "?"}}),
    ]

    refused = sync(pm_api, "services", items)

    assert refused.status_code == 400, refused.content
    assert "'xx' is not a language" in str(refused.json())
    assert not Service.objects.filter(source="cmdb").exists()
    items[1]["translations"] = {"fr": {"summary": "Paiements"}}
    accepted = sync(pm_api, "services", items)
    assert accepted.status_code == 200, accepted.content
    assert Service.objects.get(external_id="svc-1").translations == {"fr": {"name": "Sinistres"}}


def test_without_extra_languages_only_an_empty_object_is_taken(pm_api):
    service = ServiceFactory(name="Claims handling")
    refused = pm_api.patch(
        f"/api/v1/services/{service.pk}/", {"translations": {"fr": {"name": "Sinistres"}}}
    )
    assert refused.status_code == 400
    assert "PORTICO_LANGUAGES lists one language" in str(refused.json())
    assert pm_api.patch(f"/api/v1/services/{service.pk}/", {"translations": {}}).status_code == 200


def test_a_page_in_french_shows_the_french_name_and_falls_back(french, client, viewer):
    translated_service = ServiceFactory(
        name="Claims handling",
        summary="Handle claims.",
        translations={"fr": {"name": "Gestion des sinistres"}},
    )
    plain = ServiceFactory(name="Payments")
    client.force_login(viewer)

    page = client.get(
        translated_service.get_absolute_url(), headers={"accept-language": "fr"}
    ).content.decode()
    assert "Gestion des sinistres" in page
    assert "Handle claims." in page  # no French summary: the original
    english = client.get(translated_service.get_absolute_url(), headers={"accept-language": "en"})
    assert "Gestion des sinistres" not in english.content.decode()
    fallback = client.get(plain.get_absolute_url(), headers={"accept-language": "fr"})
    assert "Payments" in fallback.content.decode()


def test_translated_falls_back_to_the_original(french):
    service = Service(name="Claims", summary="S", translations={"fr": {"name": "Sinistres"}})
    assert translated(service, "name", "fr") == "Sinistres"
    assert translated(service, "name", "fr-be") == "Sinistres"
    assert translated(service, "summary", "fr") == "S"
    assert translated(service, "name", "en") == "Claims"
    assert translated(service, "name", "de") == "Claims"
    with translation.override("fr"):
        assert translated(service, "name") == "Sinistres"


def test_a_report_shows_the_translated_name_and_keeps_its_files_in_the_original(french):
    service = ServiceFactory(name="Claims handling", translations={"fr": {"name": "Sinistres"}})
    period = PeriodFactory(year=2025, month=3)
    CostItemFactory(period=period, service=service)
    finance_services.close_period(period=period)
    definition = ReportDefinitionFactory(name="Pack", formats=["csv", "xlsx", "pdf"])

    with translation.override("fr"):
        finance_services.run_report(definition, period="2025-03")
        span = parse_report_period("2025-03")
        data = reports.gather(definition=definition, span=span, periods=[period])
        french = {fmt: reports.render(data, fmt).content for fmt in ("csv", "xlsx")}

    assert b"Sinistres" in french["csv"] and b"Claims handling" not in french["csv"]
    sheet = load_workbook(io.BytesIO(french["xlsx"])).worksheets[0]
    cells = {str(cell.value) for row in sheet.iter_rows() for cell in row}
    assert "Sinistres" in cells and "Claims handling" not in cells
    # The files kept with the run are in the original language, whoever ran it (each
    # reader's e-mail is in theirs: tests/finance/test_report_languages.py).
    report = ReportRun.objects.get(definition=definition)
    content = bytes(report.files.get(format="csv").content).decode()
    assert "Claims handling" in content and "Sinistres" not in content


def test_the_translations_field_offers_import_targets(french):
    spec = next(s for s in registry["services"].specs if s.name == "translations")
    assert spec.import_targets() == [("fr.name", "Name (fr)"), ("fr.summary", "Summary (fr)")]
    customer = next(s for s in registry["customers"].specs if s.name == "translations")
    assert customer.import_targets() == [("fr.name", "Name (fr)")]
    name = next(s for s in registry["services"].specs if s.name == "name")
    assert name.import_targets() == []
    assert with_translation({}, "fr.name", " Sinistres ") == {"fr": {"name": "Sinistres"}}
    assert with_translation({"fr": {"name": "x"}}, "fr.name", "") == {}
    assert CustomerFactory(translations={"fr": {"name": "Courtier"}}).translations


def test_the_service_form_offers_and_saves_a_translation_per_extra_language(
    french, client, portfolio_manager
):
    service = ServiceFactory(
        name="Claims handling", owner=portfolio_manager, translations={"fr": {"name": "Old"}}
    )
    client.force_login(portfolio_manager)
    edit_url = f"/services/{service.slug}/edit/"

    form = client.get(edit_url).content.decode()
    assert "Name (fr)" in form and "Summary (fr)" in form and 'value="Old"' in form

    data = {
        "name": "Claims handling",
        "kind": "customer_facing",
        "lifecycle": "pipeline",
        "criticality": "high",
        "owner": portfolio_manager.pk,
        "translation_fr_name": " Gestion des sinistres ",
        "translation_fr_summary": "",
    }
    answer = client.post(edit_url, data)

    assert answer.status_code == 302, answer.content.decode()[:2000]
    service.refresh_from_db()
    assert service.translations == {"fr": {"name": "Gestion des sinistres"}}
    change = ObjectChange.objects.filter(object_id=service.pk).order_by("-time").first()
    assert "Gestion des sinistres" in str(change.after)


def test_the_api_speaks_the_token_persons_language(french, api_for, viewer):
    claims = ServiceFactory(name="Claims", translations={"fr": {"name": "Sinistres"}})
    people_services.set_language(user=viewer, language="fr")
    api = api_for(viewer, write=False)

    answer = api.get(f"/api/v1/services/{claims.pk}/", headers={"accept-language": "en"})

    assert answer.status_code == 200
    assert answer["Content-Language"] == "fr"
    people_services.set_language(user=viewer, language="")
    assert (
        api.get(f"/api/v1/services/{claims.pk}/", headers={"accept-language": "en"})[
            "Content-Language"
        ]
        == "en"
    )
