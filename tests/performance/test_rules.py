import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction
from django.test import override_settings

from performance import selectors
from performance.models import Measurement
from performance.models import TargetChange
from performance.services import remove_measurement
from performance.services import save_measurement
from portfolio import services as portfolio_services
from portfolio.models import SpecificationItem
from tests.performance.helpers import figure
from tests.performance.helpers import functioning_item
from tests.performance.helpers import new_service
from tests.performance.helpers import outcome_of
from tests.performance.helpers import today

DAY = datetime.timedelta(days=1)


@pytest.fixture
def item(service_owner):
    return functioning_item(new_service(owner=service_owner))


def refused(**fields) -> dict:
    with pytest.raises(ValidationError) as error:
        save_measurement(measurement=Measurement(**fields))
    return error.value.message_dict


@pytest.mark.django_db
def test_measurement_is_of_exactly_one_item_or_outcome(item):
    outcome = outcome_of(item.service)
    span = {"start": today() - 30 * DAY, "end": today(), "value": Decimal(1)}
    assert "item" in refused(**span)
    assert "item" in refused(item=item, outcome=outcome, **span)
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(item=item, outcome=outcome, **span)


@pytest.mark.django_db
def test_measurement_of_a_functionality_item_is_refused(item):
    statement = portfolio_services.add_specification_item(
        item=SpecificationItem(
            service=item.service, aspect="facility", dimension="functionality", title="Claims"
        )
    )
    errors = refused(item=statement, start=today(), end=today(), value=Decimal(1))
    assert errors["item"] == [
        "Figures are kept for functioning items only: choose a functioning item."
    ]


@pytest.mark.django_db
def test_measurement_cannot_end_before_it_starts(item):
    errors = refused(item=item, start=today(), end=today() - DAY, value=Decimal(1))
    assert errors == {"end": ["The end cannot be before the start."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(item=item, start=today(), end=today() - DAY, value=1)


@pytest.mark.django_db
def test_one_figure_per_item_and_window(item):
    figure(item=item, end=today(), value="99.9")
    errors = refused(item=item, start=today() - 29 * DAY, end=today(), value=Decimal(2))
    assert errors == {"start": ["This item already has a figure for these days."]}


@pytest.mark.parametrize(
    ("comparator", "value", "met"),
    [("at_least", "99.5", True), ("at_least", "99.4", False), ("at_most", "99.4", True)],
)
@pytest.mark.django_db
def test_figure_is_judged_against_the_target(service_owner, comparator, value, met):
    item = functioning_item(new_service(owner=service_owner), comparator=comparator)
    assert figure(item=item, end=today(), value=value).met is met


@pytest.mark.django_db
def test_figure_is_judged_against_the_target_in_force_at_its_end(item):
    # The item's first target (99.5) has been in force since January; raised to 99.9 today.
    TargetChange.objects.filter(item=item).update(valid_from=datetime.date(2026, 1, 1))
    earlier = figure(item=item, end=today() - 40 * DAY, value="99.7")
    assert earlier.met is True
    item.target = Decimal("99.9")
    portfolio_services.save_specification_item(item=item)

    history = list(TargetChange.objects.filter(item=item).values_list("valid_from", "target"))
    assert history == [
        (datetime.date(2026, 1, 1), Decimal("99.5")),
        (today(), Decimal("99.9")),
    ]
    later = figure(item=item, end=today(), value="99.7")
    earlier.refresh_from_db()
    assert (earlier.met, later.met) == (True, False)
    # A figure for the earlier days entered now is still judged by the target then.
    assert figure(item=item, end=today() - 80 * DAY, value="99.7").met is True


@pytest.mark.django_db
def test_target_change_judges_again_figures_ending_from_that_day(item):
    TargetChange.objects.filter(item=item).update(valid_from=datetime.date(2026, 1, 1))
    current = figure(item=item, end=today() + 5 * DAY, value="99.7")
    assert current.met is True
    item.target = Decimal("99.9")
    portfolio_services.save_specification_item(item=item)
    current.refresh_from_db()
    item.refresh_from_db()
    assert current.met is False
    assert item.measured_met is False


@pytest.mark.django_db
def test_item_status_follows_its_latest_figure(item):
    assert selectors.statuses_of_items([item], today()) == {item.pk: "not_measured"}
    figure(item=item, end=today() - 40 * DAY, value="99.9")
    last = figure(item=item, end=today() - 5 * DAY, value="98")
    assert selectors.statuses_of_items([item], today()) == {item.pk: "missed"}
    remove_measurement(measurement=last)
    assert selectors.statuses_of_items([item], today()) == {item.pk: "met"}


@override_settings(PORTICO_MEASUREMENT_GRACE_DAYS=10)
@pytest.mark.django_db
def test_item_is_stale_one_window_and_the_grace_period_after_its_latest_figure(item):
    end = datetime.date(2026, 3, 31)
    figure(item=item, end=end, value="99.9")
    # Monthly window: next figure due 31 days after the end, then 10 days of grace.
    due = end + 31 * DAY
    assert selectors.statuses_of_items([item], due + 10 * DAY) == {item.pk: "met"}
    assert selectors.statuses_of_items([item], due + 11 * DAY) == {item.pk: "stale"}


@pytest.mark.django_db
def test_outcome_relying_on_a_missed_or_stale_item_is_at_risk(item):
    outcome = outcome_of(item.service, item=item)
    assert selectors.statuses_of_outcomes([outcome], today()) == {outcome.pk: "not_measured"}
    figure(item=item, end=today() - 20 * DAY, value="99.9")
    stale_on = today() + 60 * DAY
    assert selectors.statuses_of_outcomes([outcome], today()) == {outcome.pk: "met"}
    assert selectors.statuses_of_outcomes([outcome], stale_on) == {outcome.pk: "at_risk"}
    figure(item=item, end=today(), value="90")
    assert selectors.statuses_of_outcomes([outcome], today()) == {outcome.pk: "at_risk"}


@pytest.mark.django_db
def test_outcome_measured_directly_is_met_or_missed_by_its_own_figures(item):
    outcome = outcome_of(
        item.service, metric="Claims filed online", comparator="at_least", target=Decimal(80),
        unit="%", window="month",
    )  # fmt: skip
    figure(outcome=outcome, end=today(), value="85")
    assert selectors.statuses_of_outcomes([outcome], today()) == {outcome.pk: "met"}
    figure(outcome=outcome, end=today() + 30 * DAY, value="70")
    assert selectors.statuses_of_outcomes([outcome], today()) == {outcome.pk: "missed"}


@pytest.mark.django_db
def test_outcome_status_set_by_hand_needs_a_reason_and_shows(item):
    outcome = outcome_of(item.service, item=item)
    outcome.status_override = "met"
    with pytest.raises(ValidationError) as error:
        portfolio_services.save_outcome(outcome=outcome)
    assert "override_reason" in error.value.message_dict
    outcome.override_reason = "Agreed with the customer at the quarterly review."
    portfolio_services.save_outcome(outcome=outcome)
    figure(item=item, end=today(), value="90")
    assert selectors.statuses_of_outcomes([outcome], today()) == {outcome.pk: "met"}


@pytest.mark.django_db
def test_series_lists_figures_in_order_within_the_days_asked(item):
    ends = [today() - 60 * DAY, today() - 30 * DAY, today()]
    for end in reversed(ends):
        figure(item=item, end=end, value="99.9")
    assert [m.end for m in selectors.series(item=item)] == ends
    assert [m.end for m in selectors.series(item=item, start=ends[1])] == ends[1:]
    assert [m.end for m in selectors.series(item=item, end=ends[1])] == ends[:2]


@pytest.mark.django_db
def test_new_figure_remembers_who_recorded_it(item, service_owner):
    assert figure(item=item, end=today(), value="99.9", user=service_owner).recorded_by == (
        service_owner
    )
