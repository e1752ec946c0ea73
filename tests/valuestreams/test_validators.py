import pytest
from django.core.exceptions import ValidationError

from valuestreams.validators import starts_with_verb
from valuestreams.validators import validate_activity_name


@pytest.mark.parametrize(
    "name",
    [
        "Register the claim",
        "assess damage",
        "Pay",
        "Re-submit the form",
        "Recalculate the premium",
        "Adjudicating the claim",  # a verb not in the list, in the -ing form
        "Wait for the estimate",
        "Quote the premium",  # a noun too, read as the imperative
    ],
)
def test_names_starting_with_a_verb_pass(name):
    assert starts_with_verb(name)
    validate_activity_name(name)


@pytest.mark.parametrize(
    "name, word",
    [
        ("The claim form", "The"),
        ("A quote", "A"),
        ("Our onboarding", "Our"),
    ],
)
def test_names_starting_with_an_article_are_refused_with_their_own_message(name, word):
    with pytest.raises(ValidationError) as caught:
        validate_activity_name(name)
    message = caught.value.messages[0]
    assert f"instead of “{word}”" in message


@pytest.mark.parametrize(
    "name", ["Registration of the claim", "Something else", "Morning check", "42"]
)
def test_names_without_a_verb_are_refused_saying_how_to_fix_them(name):
    assert not starts_with_verb(name)
    with pytest.raises(ValidationError) as caught:
        validate_activity_name(name)
    assert "Start the name with a verb" in caught.value.messages[0]
