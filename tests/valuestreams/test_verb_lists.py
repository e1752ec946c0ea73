"""The verb rule reads the site-wide verb lists in use: English, Dutch, French and German are
shipped (English in use), and a Portfolio manager extends them in the browser."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import services
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import VerbList

pytestmark = pytest.mark.django_db


def use(name: str, in_use: bool = True) -> None:
    verb_list = VerbList.objects.get(name=name)
    verb_list.in_use = in_use
    services.save_verb_list(verb_list=verb_list)


def add_stage(stream, name):
    return services.add_stage(stage=Stage(value_stream=stream, name=name))


def test_four_languages_are_shipped_with_english_in_use():
    shipped = {v.language: (v.in_use, v.verb_last) for v in VerbList.objects.all()}
    assert shipped == {
        "en": (True, False),
        "nl": (False, True),
        "fr": (False, False),
        "de": (False, True),
    }
    assert {"register", "assess", "pay"} <= VerbList.objects.get(language="en").verb_set
    assert "enregistrer" in VerbList.objects.get(language="fr").verb_set


def test_a_name_is_checked_against_the_lists_in_use(value_stream_owner):
    stream = ValueStreamFactory(owner=value_stream_owner)
    with pytest.raises(ValidationError) as refused:
        add_stage(stream, "Enregistrer la déclaration")
    assert "not one of the process verbs" in refused.value.message_dict["name"][0]
    use("Français")
    add_stage(stream, "Enregistrer la déclaration")
    # Dutch and German name activities verb last, once their lists are in use.
    with pytest.raises(ValidationError):
        add_stage(stream, "Schade melden")
    use("Nederlands")
    add_stage(stream, "Schade melden")
    add_stage(stream, "De claim beoordelen")
    # The -ing form and the article message are English: without English, they do not apply.
    use("English", in_use=False)
    with pytest.raises(ValidationError) as refused:
        add_stage(stream, "Adjudicating the claim")
    assert "-ing form" not in refused.value.message_dict["name"][0]


def test_a_name_kept_as_it_is_stays_when_its_verb_leaves_the_lists(value_stream_owner):
    stage = StageFactory(value_stream__owner=value_stream_owner, name="Register the claim")
    english = VerbList.objects.get(language="en")
    english.verbs = english.verbs.replace("register", "")
    services.save_verb_list(verb_list=english)
    stage.responsible_party = "Claims desk"
    services.save_stage(stage=stage)  # not renamed: not judged again
    stage.name = "Register the damage"
    with pytest.raises(ValidationError):
        services.save_stage(stage=stage)


def test_with_no_list_in_use_every_name_passes(value_stream_owner):
    VerbList.objects.update(in_use=False)
    stream = ValueStreamFactory(owner=value_stream_owner)
    add_stage(stream, "Claim registration")
    services.save_process(process=Process(name="Claims", value_stream=stream))


def test_a_portfolio_manager_adds_a_verb_in_the_browser_and_the_api_takes_it(
    client, portfolio_manager, value_stream_owner
):
    english = VerbList.objects.get(language="en")
    client.force_login(portfolio_manager)
    url = reverse("valuestreams:verblist_edit", args=[english.pk])
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "name": "English",
        "language": "en",
        "verbs": english.verbs + "\nadjudicate\nSUBROGATE",
        "in_use": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert {"adjudicate", "subrogate"} <= VerbList.objects.get(pk=english.pk).verb_set

    stream = ValueStreamFactory(owner=value_stream_owner)
    add_stage(stream, "Subrogate the claim")
    assert Stage.objects.filter(name="Subrogate the claim").exists()


def test_the_form_refuses_what_is_no_list_of_words(client, portfolio_manager):
    client.force_login(portfolio_manager)
    response = client.post(
        reverse("valuestreams:verblist_add"),
        {"name": "Klingon", "language": "tlh", "verbs": "qaStaH 42 nuq!", "in_use": "on"},
    )
    assert response.status_code == 422
    assert "is not one" in response.content.decode()
    assert not VerbList.objects.filter(name="Klingon").exists()
