"""A person's language (people.Profile.language): chosen on the profile page among
PORTICO_LANGUAGES, winning over the browser's Accept-Language on pages (the API's in
tests/api/test_translations.py), and
read with the user at no query more."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people import services
from people.models import Profile
from tests.factories.portfolio import ServiceFactory

pytestmark = pytest.mark.django_db

ENGLISH = {"accept-language": "en"}


@pytest.fixture
def french(settings):
    settings.PORTICO_LANGUAGES = ["en", "fr"]
    settings.LANGUAGES = [("en", "English"), ("fr", "français")]


@pytest.fixture
def claims(french):
    return ServiceFactory(name="Claims handling", translations={"fr": {"name": "Sinistres"}})


def test_the_profile_page_offers_the_listed_languages_and_saves_the_choice(french, client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("profile")).content.decode()
    assert "Follow the browser" in page and "français" in page and "Deutsch" not in page

    saved = client.post(reverse("people:language"), {"language": "fr"})

    assert saved.status_code == 302 and saved["Location"] == reverse("profile")
    assert Profile.objects.get(user=viewer).language == "fr"
    page = client.get(reverse("profile")).content.decode()
    assert '<option value="fr" selected>' in page
    client.post(reverse("people:language"), {"language": ""})
    assert Profile.objects.get(user=viewer).language == ""


def test_a_language_the_site_does_not_list_is_refused_naming_the_field(french, client, viewer):
    client.force_login(viewer)

    refused = client.post(reverse("people:language"), {"language": "de"})

    assert refused.status_code == 422
    assert "de is not one of the available choices" in refused.content.decode()
    assert not Profile.objects.filter(user=viewer, language="de").exists()
    with pytest.raises(ValidationError) as error:
        services.set_language(user=viewer, language="de")
    assert "'de' is not a language of this site" in str(error.value.message_dict["language"])


def test_the_profile_language_wins_over_the_browsers(claims, client, viewer):
    client.force_login(viewer)
    assert (
        "Sinistres" not in client.get(claims.get_absolute_url(), headers=ENGLISH).content.decode()
    )

    services.set_language(user=viewer, language="fr")
    page = client.get(claims.get_absolute_url(), headers=ENGLISH)

    assert "Sinistres" in page.content.decode()
    assert page["Content-Language"] == "fr"
    listed = client.get(reverse("portfolio:service_list"), headers=ENGLISH).content.decode()
    assert "Sinistres" in listed
    # Blank again: the browser decides.
    services.set_language(user=viewer, language="")
    assert (
        "Sinistres"
        in client.get(claims.get_absolute_url(), headers={"accept-language": "fr"}).content.decode()
    )
    assert (
        "Sinistres" not in client.get(claims.get_absolute_url(), headers=ENGLISH).content.decode()
    )


def test_a_language_no_longer_listed_is_ignored(claims, client, viewer, settings):
    services.set_language(user=viewer, language="fr")
    settings.PORTICO_LANGUAGES = ["en"]
    settings.LANGUAGES = [("en", "English")]
    client.force_login(viewer)

    page = client.get(claims.get_absolute_url(), headers=ENGLISH)

    assert page.status_code == 200 and "Sinistres" not in page.content.decode()


def test_the_language_is_read_with_the_user_at_no_query_more(claims, client, viewer):
    client.force_login(viewer)
    url = claims.get_absolute_url()
    client.get(url, headers=ENGLISH)
    with CaptureQueriesContext(connection) as browser_language:
        client.get(url, headers=ENGLISH)

    services.set_language(user=viewer, language="fr")
    with CaptureQueriesContext(connection) as chosen_language:
        page = client.get(url, headers=ENGLISH)

    assert "Sinistres" in page.content.decode()
    assert len(chosen_language) == len(browser_language)
