"""The level rule (the highest level whose statements earn three quarters of their points),
the override with its reason, and the history of dated assessments."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from core import changelog
from maturity import scoring
from maturity import selectors
from maturity import services
from maturity.choices import PartyKind
from maturity.models import Assessment
from maturity.questionnaire import STATEMENTS
from maturity.questionnaire import answers_for_level
from maturity.questionnaire import statements_for
from tests.factories.maturity import CustomerPartyFactory
from tests.factories.maturity import OrganisationFactory

TODAY = datetime.date(2025, 6, 1)


def answers(kind: str, **by_code: int) -> dict[str, int]:
    """Every statement answered No, except those named."""
    return {s.code: by_code.get(s.code, 0) for s in statements_for(kind)}


def test_questionnaire_has_two_statements_per_level_for_each_kind():
    for kind in (PartyKind.PROVIDER, PartyKind.CUSTOMER):
        levels = [s.level for s in STATEMENTS[kind]]
        assert sorted(levels) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        assert len({s.code for s in STATEMENTS[kind]}) == 10


def test_level_rule_all_no_is_level_one():
    assert scoring.level_from_answers(kind=PartyKind.PROVIDER, answers=answers("provider")) == 1


def test_level_rule_takes_the_highest_recognised_level():
    # Level 2: Yes + Yes (4 of 4); level 4: Yes + Partly (3 of 4): recognised; level 5 not.
    given = answers("provider", p2a=2, p2b=2, p4a=2, p4b=1, p5a=1)
    assert scoring.level_from_answers(kind=PartyKind.PROVIDER, answers=given) == 4


def test_level_rule_two_partly_is_not_enough():
    # Partly + Partly is 2 of 4 points: below three quarters.
    given = answers("customer", c3a=2, c3b=2, c4a=1, c4b=1)
    assert scoring.level_from_answers(kind=PartyKind.CUSTOMER, answers=given) == 3


def test_level_rule_exactly_three_quarters_is_recognised():
    given = answers("customer", c5a=2, c5b=1)
    assert scoring.level_from_answers(kind=PartyKind.CUSTOMER, answers=given) == 5


@pytest.mark.parametrize("kind", [PartyKind.PROVIDER, PartyKind.CUSTOMER])
@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_sample_answers_give_their_level(kind, level):
    given = answers_for_level(kind, level)
    assert scoring.level_from_answers(kind=kind, answers=given) == level


def test_answer_errors_name_the_unanswered_statement():
    given = answers("provider")
    del given["p3b"]
    given["p1a"] = 7
    assert set(scoring.answer_errors(kind=PartyKind.PROVIDER, answers=given)) == {"p3b", "p1a"}
    with pytest.raises(ValidationError) as caught:
        scoring.rate(
            kind=PartyKind.PROVIDER, answers=given, override_level=None, override_reason=""
        )
    assert set(caught.value.error_dict) == {"answers.p3b", "answers.p1a"}


def test_answer_errors_refuse_statements_of_the_other_kind():
    given = {**answers("provider"), "c1a": 2}
    with pytest.raises(ValidationError) as caught:
        scoring.rate(
            kind=PartyKind.PROVIDER, answers=given, override_level=None, override_reason=""
        )
    assert "c1a" in str(caught.value.error_dict)
    assert set(caught.value.error_dict) == {"answers.c1a"}


@pytest.mark.django_db
def test_record_assessment_stores_the_computed_level():
    party = CustomerPartyFactory()
    assessment = services.record_assessment(
        party=party, assessed_on=TODAY, answers=answers_for_level("customer", 4)
    )
    assessment.refresh_from_db()
    assert (assessment.computed_level, assessment.override_level, assessment.level) == (4, None, 4)
    assert [c.action for c in changelog.history_for(assessment)] == ["create"]


@pytest.mark.django_db
def test_override_replaces_the_level_and_keeps_the_computed_one():
    party = OrganisationFactory()
    assessment = services.record_assessment(
        party=party,
        assessed_on=TODAY,
        answers=answers_for_level("provider", 2),
        override_level=3,
        override_reason="The service catalogue went live last week.",
    )
    assert (assessment.computed_level, assessment.override_level, assessment.level) == (2, 3, 3)
    assert assessment.is_overridden


@pytest.mark.django_db
def test_override_without_reason_is_refused_naming_the_field():
    party = OrganisationFactory()
    with pytest.raises(ValidationError) as caught:
        services.record_assessment(
            party=party,
            assessed_on=TODAY,
            answers=answers_for_level("provider", 2),
            override_level=4,
            override_reason="   ",
        )
    assert "override_reason" in caught.value.error_dict
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_override_equal_to_the_computed_level_is_no_override():
    party = OrganisationFactory()
    assessment = services.record_assessment(
        party=party,
        assessed_on=TODAY,
        answers=answers_for_level("provider", 3),
        override_level=3,
        override_reason="Agree.",
    )
    assert assessment.override_level is None
    assert assessment.override_reason == ""


@pytest.mark.django_db
def test_updating_answers_recomputes_and_removing_the_override_restores_the_rule():
    party = CustomerPartyFactory()
    assessment = services.record_assessment(
        party=party,
        assessed_on=TODAY,
        answers=answers_for_level("customer", 2),
        override_level=4,
        override_reason="Knows better.",
    )
    services.update_assessment(
        assessment=assessment, assessed_on=TODAY, answers=answers_for_level("customer", 3)
    )
    assessment.refresh_from_db()
    assert (assessment.computed_level, assessment.override_level, assessment.level) == (3, None, 3)


@pytest.mark.django_db
def test_assessment_cannot_be_dated_in_the_future():
    party = CustomerPartyFactory()
    with pytest.raises(ValidationError) as caught:
        services.record_assessment(
            party=party,
            assessed_on=datetime.date.today() + datetime.timedelta(days=2),
            answers=answers_for_level("customer", 2),
        )
    assert "assessed_on" in caught.value.error_dict


@pytest.mark.django_db
def test_retired_party_is_not_assessed():
    party = CustomerPartyFactory(retired_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
    with pytest.raises(ValidationError):
        services.record_assessment(
            party=party, assessed_on=TODAY, answers=answers_for_level("customer", 2)
        )


@pytest.mark.django_db
def test_history_keeps_every_assessment_and_shows_the_trend():
    party = OrganisationFactory()
    for days, level in ((300, 2), (200, 3), (100, 3), (10, 4)):
        services.record_assessment(
            party=party,
            assessed_on=TODAY - datetime.timedelta(days=days),
            answers=answers_for_level("provider", level),
        )
    history = selectors.party_history(party)
    assert [a.level for a in history] == [2, 3, 3, 4]
    trend = selectors.trend_of(history)
    assert (trend.level, trend.previous_level, trend.change, trend.word) == (4, 3, 1, "rising")
    assert selectors.latest_assessments()[party.pk].level == 4


@pytest.mark.django_db
def test_latest_assessment_is_by_date_not_by_entry():
    party = OrganisationFactory()
    services.record_assessment(
        party=party, assessed_on=TODAY, answers=answers_for_level("provider", 3)
    )
    # Entered later, but about an earlier date: history, not the current level.
    services.record_assessment(
        party=party,
        assessed_on=TODAY - datetime.timedelta(days=90),
        answers=answers_for_level("provider", 1),
    )
    assert selectors.latest_assessments()[party.pk].level == 3
    assert selectors.trend_of(selectors.party_history(party)).word == "rising"


def test_the_constraint_keeps_level_in_force_consistent(db):
    party = CustomerPartyFactory()
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Assessment.objects.create(
            party=party, assessed_on=TODAY, answers={}, computed_level=2, level=4
        )
